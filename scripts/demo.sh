#!/usr/bin/env bash
# Sets everything up on a fresh machine, then trains the demo models (`ember demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ember demo "$@"
