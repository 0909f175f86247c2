#!/usr/bin/env bash
# Install the web chat's npm packages (rasa-webchat for the page, playwright-core for its browser test) into
# web/node_modules, from web/package-lock.json exactly. Skipped when the lock file has not changed since the last
# install. Needs node and npm; without them the web page is missing its widget and the rest runs as usual.
set -euo pipefail
cd "$(dirname "$0")/../web"
STAMP=node_modules/.install-hash

if ! command -v npm >/dev/null 2>&1; then
  echo "web: npm not found, so the web chat page at /webhooks/web/ will not work (install Node.js 18+ and rerun)" >&2
  exit 0
fi
hash="$(cat package-lock.json .npmrc | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$hash" ]]; then
  echo "web: node_modules is up to date"
  exit 0
fi
echo "web: installing npm packages (rasa-webchat, playwright-core)"
npm ci --no-audit --no-fund --loglevel=error
echo "$hash" > "$STAMP"
