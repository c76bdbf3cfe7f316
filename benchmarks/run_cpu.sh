#!/usr/bin/env bash
# Runs every benchmark on this machine's CPU, side by side with plain PyTorch and (when
# benchmarks/.venv-keras exists, see setup_keras.sh) Keras 3 on JAX and on torch.
# Tables are printed and appended to benchmarks/latest_cpu.md. Each workload runs its runners
# round-robin two or three times and keeps each one's best round: this shared machine has slow
# spells that would otherwise decide the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export EMBER_DATA_DIR="${EMBER_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
out=benchmarks/latest_cpu.md
: > "$out"
.venv/bin/python benchmarks/mnist_mlp.py --epochs 3 --rounds 3 --output "$out"
.venv/bin/python benchmarks/cifar_cnn.py --rounds 2 --output "$out"
.venv/bin/python benchmarks/imdb_lstm.py --rounds 2 --output "$out"
.venv/bin/python benchmarks/char_gpt.py --size small --steps 20 --warmup 3 --runners ember,torch --rounds 2 --output "$out"
.venv/bin/python benchmarks/dcgan.py --rounds 2 --output "$out"
