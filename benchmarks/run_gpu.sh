#!/usr/bin/env bash
# Runs the benchmarks on a CUDA GPU through the device tool, after benchmarks/gpu_prepare.sh:
#
#   device run: bash benchmarks/run_gpu.sh [check mnist cifar imdb gpt dcgan quantum distributed]   # carry: .whl, .data
#
# "check" runs benchmarks/gpu_check.py first: the CUDA-graph step against the eager one, for real.
# Every runner of a workload trains in its own process, one after another (ember fit, the two
# PyTorch loops, Keras 3 on JAX and on torch, from the device's own python3); the tables go to
# $OUT/latest_gpu.md (benchmarks/latest_gpu.md outside the device tool). A command there may run
# 10 minutes: name a few workloads per call. PYTHON picks another interpreter (a CPU dry run).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ -d .whl ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="$PWD/src:/tmp/site${PYTHONPATH:+:$PYTHONPATH}" EMBER_DATA_DIR="$PWD/.data" PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX takes memory as it needs it: its peak is comparable
out="${OUT:-benchmarks}/latest_gpu.md"
run() { "$PYTHON" "benchmarks/$1.py" --keras-python "$PYTHON" --output "$out" "${@:2}"; }
for workload in "${@:-mnist cifar imdb gpt dcgan}"; do
    for name in $workload; do
        case "$name" in
            check) "$PYTHON" benchmarks/gpu_check.py ;;
            mnist) run mnist_mlp --epochs 3 --rounds 2
                   run mnist_mlp --epochs 3 --batch-size 512 --runners ember,torch-device,keras-jax ;;
            cifar) run cifar_cnn --samples 50000 --rounds 2 ;;
            imdb) run imdb_lstm --samples 25000 ;;
            gpt) run char_gpt --size full --steps 200 --warmup 20 --precision bf16 ;;
            dcgan) run dcgan ;;
            quantum) "$PYTHON" benchmarks/quantum_pqc.py --device cuda --steps 20 | tee -a "$out" ;;
            distributed) "$PYTHON" benchmarks/distributed.py --processes 1 gpu | tee -a "$out" ;;  # all GPUs
            *) echo "unknown workload $name (check, mnist, cifar, imdb, gpt, dcgan, quantum, distributed)" >&2
               exit 2 ;;
        esac
    done
done
cat "$out"
