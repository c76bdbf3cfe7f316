#!/usr/bin/env bash
# Same-run A/B of the step benchmarks against an earlier commit: each round runs
# benchmarks/dense_stack_step.py and the MNIST MLP's ember runner on the earlier tree, then on this
# one (each tree with its own copy of the scripts), alternating, so both see the same machine.
#     bash benchmarks/ab_previous.sh [REV (default HEAD~1)] [ROUNDS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD~1}
rounds=${2:-3}
export EMBER_DATA_DIR="${EMBER_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
python=$(pwd)/.venv/bin/python
old=$(mktemp -d)/old
git worktree add --detach --quiet "$old" "$rev"
trap 'git worktree remove --force "$old"' EXIT
echo "A/B: $rev ($(git -C "$old" rev-parse --short HEAD)) against $(git rev-parse --short HEAD) (working tree)"
for round in $(seq "$rounds"); do
    for side in "$old" "$(pwd)"; do
        name=$([ "$side" = "$old" ] && echo "before" || echo "after")
        echo "--- round $round, $name"
        (cd "$side" && PYTHONPATH="$side/src" "$python" benchmarks/dense_stack_step.py --blocks 3 --steps 300)
        (cd "$side" && PYTHONPATH="$side/src" "$python" benchmarks/mnist_mlp.py --epochs 1 --rounds 1 \
            --runners ember 2>&1 | grep "samples/s")
    done
done
