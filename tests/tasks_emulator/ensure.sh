#!/usr/bin/env bash
# The Cloud Tasks gRPC emulator (gcloud-tasks-emulator from PyPI) in a virtual environment
# of its own at the repo root: it pins an old protobuf that must not meet the app's.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

VERSION="0.6.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-tasks-emulator"
PYTHON="${PYTHON:-python3}"

if [[ -x "$VENV/bin/gcloud-tasks-emulator" ]] && \
   [[ "$("$VENV/bin/python" -m pip show gcloud-tasks-emulator 2>/dev/null | sed -n 's/^Version: //p')" == "$VERSION" ]]; then
  exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "gcloud-tasks-emulator==$VERSION"
echo "gcloud-tasks-emulator $VERSION ready in $VENV"
