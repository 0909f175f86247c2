#!/usr/bin/env bash
# The project's one test command (README, `make test`, .ci/run): install if needed, build what the tests use, run them.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0

scripts/system-packages.sh  # chromium, node, redis-server, PostgreSQL for the end-to-end tests
scripts/prepare.sh
mkdir -p test-output
"$VENV/bin/python" -m pytest "$@"
