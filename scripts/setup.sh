#!/usr/bin/env bash
# Creates .venv in the checkout and installs ember with its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# torch is pinned to 2.13.0 here: that CPU build is installed from a local file in seconds, where
# an unpinned torch would pull a multi-GB CUDA build. pyproject.toml itself accepts any torch>=2.2.
if ! .venv/bin/python -c "import ember, pytest, pandas, optuna, psycopg, captum, PIL, onnxscript, onnxruntime" >/dev/null 2>&1; then
    .venv/bin/python -m pip install -q --disable-pip-version-check "torch==${EMBER_TORCH_VERSION:-2.13.0}"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
fi
