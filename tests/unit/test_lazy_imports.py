"""Each entry point pays only for what it uses at cold start."""

import json
import subprocess
import sys

from oie.devstack.requirements import REPO

PROBE = """
import json, sys
sys.path.insert(0, {functions!r})
import main
before = set(sys.modules)
{action}
print(json.dumps(sorted(set(sys.modules))))
"""


def loaded_modules(action: str = "") -> set[str]:
    code = PROBE.format(functions=str(REPO / "functions"), action=action)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output.splitlines()[-1]))


def test_importing_main_loads_no_google_client_warehouse_or_mailer():
    modules = loaded_modules()
    heavy = {
        m
        for m in modules
        if m.startswith(("google.cloud.", "duckdb", "sendgrid", "sqlglot", "oie."))
        # functions_framework's own event-context module is part of every entry point
        and not m.startswith("google.cloud.functions")
    }
    assert heavy == set()


def test_the_go_handler_does_not_load_bigquery_tasks_or_sendgrid():
    modules = loaded_modules("import oie.go.http")
    assert not {m for m in modules if m.startswith(("google.cloud.bigquery", "google.cloud.tasks", "sendgrid"))}
