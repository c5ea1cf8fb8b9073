#!/usr/bin/env bash
# Runs checkov over infra/ from its own virtual env (its pins conflict with ours).
#
# Usage: infra/tools/checkov.sh [extra checkov args]
# The venv lives at <repo>/.venv-checkov (git-ignored) and is created on first use; the
# only network access is pip talking to the package index during that install.
set -euo pipefail

CHECKOV_VERSION="3.3.30"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CHECKOV_VENV:-$ROOT/.venv-checkov}"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/checkov" ]] || ! "$VENV/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  echo "checkov.sh: installing checkov==$CHECKOV_VERSION into $VENV" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

# Offline: no policy download from Prisma Cloud, no version check, no telemetry.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
export SKIP_MODULE_DOWNLOAD=true
export CHECKOV_NO_GUIDE=true

cd "$ROOT"
exec "$VENV/bin/checkov" -d infra --framework terraform --quiet --compact \
  --skip-download --download-external-modules false "$@"
