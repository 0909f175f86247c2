#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed since the last training (models/harbor.tar.gz + hash).
# Inputs: config, domain, training data and the code of our NLU component (a change there changes the model).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
MODEL=models/harbor.tar.gz

inputs_hash() {
  { cat config.yml domain.yml; find data components assistant/nlu -type f \( -name '*.yml' -o -name '*.py' \) | sort | xargs cat; } | sha256sum | cut -d' ' -f1
}

if [[ -f "$MODEL" && -f models/harbor.hash && "$(cat models/harbor.hash)" == "$(inputs_hash)" ]]; then
  echo "train: $MODEL is up to date"
  exit 0
fi
echo "train: training $MODEL (config, domain, data or NLU code changed)"
mkdir -p models
"$VENV/bin/rasa" train --config config.yml --domain domain.yml --data data --out models \
  --fixed-model-name harbor "$@"
inputs_hash > models/harbor.hash
