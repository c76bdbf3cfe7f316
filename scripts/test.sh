#!/usr/bin/env bash
# Sets everything up on a fresh machine, then runs the test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
.venv/bin/python -m pytest -q "$@"
status=$?
# pytest exits 5 when no test was collected: that is a failure of the suite, say so plainly.
if [ "$status" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
