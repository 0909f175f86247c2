#!/usr/bin/env bash
# Debian packages the end-to-end tests start for real: headless Chromium and Node.js (browser test, web widget),
# redis-server and PostgreSQL (scale-out test). Installs only what is missing; needs root or passwordless sudo.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "system-packages: missing ${missing[*]}; install them with apt-get (needs root)" >&2
    exit 1
  fi
fi
echo "system-packages: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
