#!/usr/bin/env bash
# Everything the assistant needs before it can start, each step skipped when already current:
# the venv, the catalog, its product embeddings (new or changed products only), the trained NLU model, the demo
# shopping history (only into an empty store), the recommender trained on it, and the demo orders (re-dated on
# every start so their ages match the README), and the web chat's npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3

scripts/setup.sh
"${VENV:-.venv}/bin/python" -m assistant catalog build --if-stale
"${VENV:-.venv}/bin/python" -m assistant catalog embed --if-stale
scripts/train.sh
"${VENV:-.venv}/bin/python" -m assistant recommend synthesize --if-empty
"${VENV:-.venv}/bin/python" -m assistant recommend train --if-stale
"${VENV:-.venv}/bin/python" -m assistant orders seed-demo
scripts/web.sh
