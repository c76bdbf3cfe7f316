#!/usr/bin/env bash
# Runs every benchmark on this machine's CPU, side by side with plain PyTorch and (when
# benchmarks/.venv-keras exists, see setup_keras.sh) Keras 3 on JAX and on torch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export EMBER_DATA_DIR="${EMBER_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
.venv/bin/python benchmarks/mnist_mlp.py --epochs 3
.venv/bin/python benchmarks/imdb_lstm.py
