#!/usr/bin/env bash
# The BigQuery REST emulator (bqemulator from PyPI, DuckDB-backed) in a virtual environment
# of its own at the repo root: its DuckDB and protobuf pins must not meet the app's.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

VERSION="1.4.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv-bigquery-emulator"
PYTHON="${PYTHON:-python3}"

if [[ -x "$VENV/bin/bqemulator" ]] && "$VENV/bin/python" -c "import numpy" 2>/dev/null && \
   [[ "$("$VENV/bin/python" -m pip show bqemulator 2>/dev/null | sed -n 's/^Version: //p')" == "$VERSION" ]]; then
  exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# numpy: bqemulator registers DuckDB Python UDFs that need it, and does not depend on it.
"$VENV/bin/python" -m pip install --quiet "bqemulator==$VERSION" "numpy==2.3.5"
echo "bqemulator $VERSION ready in $VENV"
