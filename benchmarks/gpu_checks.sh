#!/usr/bin/env bash
# The GPU checks as one prepared run for a device machine (Python with torch + CUDA, no Rasa, no venv):
#   here:   .venv/bin/python -m benchmarks.nlu.speed --export results/project_examples.json
#   there:  bash benchmarks/gpu_checks.sh   (carry results/project_examples.json; results land in $OUT)
# Exact top-k at 1M x 384, the recommender on Amazon Beauty, and NLU fine-tuning speed on the project's examples.
# Merge the sections of $OUT/benchmarks.md into docs/benchmarks.md afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-results}"
DATA="${DATA:-shared/datasets}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
"$PY" -m benchmarks.search topk --out "$OUT/benchmarks.md" 2>&1 | tail -6
"$PY" -m benchmarks.recommend --data "$DATA/amazon_beauty_s3rec/Beauty.txt" --out "$OUT/benchmarks.md" 2>&1 | tail -15
if [ -f results/project_examples.json ]; then
  "$PY" -m benchmarks.nlu.speed --examples results/project_examples.json --out "$OUT/benchmarks.md" 2>&1 | tail -4
fi
