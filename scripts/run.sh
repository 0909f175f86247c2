#!/usr/bin/env bash
# Set everything up if needed and run the assistant: action server + Rasa server (web chat page, REST, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3
export HARBOR_WARM_START="${HARBOR_WARM_START:-1}"  # the action server loads its generator before the first question

scripts/prepare.sh

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$VENV/bin/rasa" run actions --port "$ACTIONS_PORT" --actions actions &
pids+=($!)
# The HTTP API (used by `python -m assistant handoff release`) takes HARBOR_RASA_TOKEN when set: set it whenever
# the port is reachable from other machines. One torch thread for the NLU: the server handles one message at a
# time on its event loop, and more threads only fight the action server for the cores (docs/benchmarks.md, load).
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$VENV/bin/rasa" run --enable-api --cors "*" --port "$RASA_PORT" -m models/harbor.tar.gz \
  ${HARBOR_RASA_TOKEN:+--auth-token "$HARBOR_RASA_TOKEN"} --endpoints endpoints.yml --credentials credentials.yml &
pids+=($!)

"$VENV/bin/python" -m assistant wait-ready --rasa "http://localhost:$RASA_PORT" \
  --actions "http://localhost:$ACTIONS_PORT" --timeout 180
cat <<MSG

Harbor Lane assistant is running.
  Web chat: http://localhost:$RASA_PORT/webhooks/web/   (reload keeps the conversation)
  REST:     curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
              -d '{"sender": "me", "message": "red running shoes under \$80, size 10"}'
  Terminal: make shell   (rasa shell against this model; needs this action server running)
  Stop:     Ctrl-C
MSG
wait -n "${pids[@]}"
