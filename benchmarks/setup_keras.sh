#!/usr/bin/env bash
# A separate environment with Keras 3, JAX (CPU) and torch, for the side-by-side runs.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv benchmarks/.venv-keras
benchmarks/.venv-keras/bin/pip install -q "torch==${EMBER_TORCH_VERSION:-2.13.0}"
benchmarks/.venv-keras/bin/pip install -q keras jax numpy
benchmarks/.venv-keras/bin/pip install -q -e .
