"""Cold-start import cost of each entry point: main plus what its first request imports.

Measured with `python -X importtime` in a fresh interpreter, median of 5. The production
path is measured (BigQuery, Firestore clients), not the local one (DuckDB).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
RUNS = 5

# What each entry point imports on its first request in production.
COLD_PATHS: dict[str, list[str]] = {
    "go": ["oie.go.http", "oie.adapters.firestore_store", "oie.adapters.bigquery_warehouse"],
    "track": [
        "oie.track.http",
        "oie.track.service",
        "oie.adapters.firestore_store",
        "oie.adapters.bigquery_warehouse",
        "oie.adapters.ip_companies",
    ],
    "personalize": ["oie.personalize.http", "oie.personalize.service", "oie.adapters.firestore_store"],
    "outcomes": [
        "oie.outcomes.http",
        "oie.outcomes.service",
        "oie.adapters.firestore_outcomes",
        "oie.adapters.bigquery_warehouse",
    ],
    "webhooks": [
        "oie.webhooks.http",
        "oie.webhooks.events",
        "oie.adapters.firestore_store",
        "oie.adapters.bigquery_warehouse",
        "oie.adapters.cloud_tasks",
    ],
    "campaign_step": [
        "oie.campaigns.http",
        "oie.campaigns.service",
        "oie.adapters.firestore_store",
        "oie.adapters.bigquery_warehouse",
        "oie.adapters.cloud_tasks",
        "oie.adapters.sendgrid_mailer",
    ],
    "jobs": ["oie.jobs.http", "oie.adapters.firestore_store", "oie.adapters.bigquery_warehouse"],
}


def _import_ms(modules: list[str]) -> float:
    code = "import main\n" + "".join(f"import {m}\n" for m in modules)
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=FUNCTIONS_DIR, capture_output=True, text=True, check=True
    ).stderr
    total_us = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        name = parts[2]
        if parts[1].strip().isdigit() and not name.startswith("  "):  # top-level imports only
            total_us += int(parts[1])
    return total_us / 1000


def run() -> dict[str, object]:
    baseline = statistics.median(_import_ms([]) for _ in range(RUNS))
    result: dict[str, object] = {"main_only_ms": round(baseline, 1)}
    print(f"import main (functions_framework, flask): {baseline:.1f} ms")
    for name, modules in COLD_PATHS.items():
        ms = statistics.median(_import_ms(modules) for _ in range(RUNS))
        result[name] = round(ms, 1)
        print(f"  {name:14s} cold imports: {ms:7.1f} ms  ({', '.join(modules)})")
    return result
