#!/usr/bin/env bash
# Chat with the assistant in the terminal via `rasa shell`, starting the action server if none is running.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3

scripts/prepare.sh

if ! "$VENV/bin/python" -m assistant wait-ready --actions "http://localhost:$ACTIONS_PORT" --timeout 1 2>/dev/null; then
  "$VENV/bin/rasa" run actions --port "$ACTIONS_PORT" --actions actions >var/actions-shell.log 2>&1 &
  trap 'kill $! 2>/dev/null || true' EXIT
  "$VENV/bin/python" -m assistant wait-ready --actions "http://localhost:$ACTIONS_PORT" --timeout 120
fi
# `rasa shell` with our terminal channel (channels/terminal.py: products and buttons as numbered text).
# Port 5006 so this works beside a `make run` server on 5005.
"$VENV/bin/python" -m channels.terminal shell -m models/harbor.tar.gz --endpoints endpoints.yml --port 5006
