#!/usr/bin/env bash
# Prepares the GPU benchmark run (benchmarks/run_gpu.sh) on a machine with internet access: the
# device machine has PyTorch and JAX with CUDA but no Keras and no network, so Keras 3's wheels go
# to .whl/ and the datasets to .data/ (both git-ignored), to be carried along with the run:
#
#   bash benchmarks/gpu_prepare.sh                      # here
#   device run: bash benchmarks/run_gpu.sh [workloads]  # carry: .whl, .data
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
# Keras and the two packages it needs that the device image lacks (its README lists the image).
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
source="${EMBER_DATA_DIR:-../shared/datasets}"
mkdir -p .data
for name in mnist cifar10 imdb tinyshakespeare; do
    cp -r "$source/$name" .data/
done
du -sh .whl .data
