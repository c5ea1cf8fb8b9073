"""`oie` from a folder of its own against a Firestore emulator on a non-default port, found by itself."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import pytest

from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.devstack.state import PROJECT, StackState
from tests.cli.conftest import Newcomer, files_in

pytestmark = pytest.mark.firestore

TENANT = ["--id", "acme", "--name", "Acme", "--redirect-domain", "acme.com", "--landing", "https://acme.com/"]
LEADS = "email,first_name,company\n Ada@Example.com ,Ada,Engines\nbob@example.com,Bob,Acme, Inc\nada@example.com,,Eng\n"


@pytest.fixture
def stack(newcomer: Newcomer, firestore_emulator: FirestoreEmulator) -> Iterator[StackState]:
    """The emulator published as a running stack's (this process stands in for the stack's pid)."""
    firestore_emulator.reset(PROJECT)
    yield newcomer.publish_stack(firestore_emulator.port)
    firestore_emulator.reset(PROJECT)


def test_a_newcomer_creates_a_tenant_and_imports_leads_from_any_folder(newcomer: Newcomer, stack: StackState):
    assert newcomer.oie("warehouse", "migrate").code == 0  # as `oie dev run` does when it starts
    assert newcomer.oie("tenant", "create", *TENANT).code == 0
    (newcomer.home / "leads.csv").write_text(LEADS)
    answer = newcomer.oie(
        "campaign", "create", "--tenant", "acme", "--campaign", "Q1", "--file", "leads.csv",
        "--landing", "https://acme.com/", "--out", "links.csv",
    )  # fmt: skip
    assert answer.code == 1, answer.stderr  # one row skipped
    assert "skipped line 3: columns" in answer.stderr
    assert "1 leads imported, 1 rows skipped, 1 duplicate rows merged" in answer.stdout
    (row,) = csv.DictReader((newcomer.home / "links.csv").read_text().splitlines())
    assert row["email"] == "ada@example.com"
    # The links point at the stack that was found, and its warehouse holds the identity rows.
    assert row["tracking_url"] == f"{stack.base_url}/go?i={row['tracking_id']}"
    assert files_in(newcomer.home) == {"leads.csv", "links.csv"}
    assert (stack.data_dir / "warehouse.duckdb").is_file()


def test_a_replace_keeps_the_configuration_it_was_not_given(newcomer: Newcomer, stack: StackState):
    created = newcomer.oie("tenant", "create", *TENANT, "--ip-mode", "hash", "--json")
    assert json.loads(created.stdout)["tenant_id"] == "acme"
    changed = newcomer.oie(
        "tenant", "update", "--tenant", "acme", "--set", "reply_domain=reply.acme.com",
        "--add", 'alert_channels={"kind": "slack", "url": "https://hooks.slack.com/services/T/B/x"}',
    )  # fmt: skip
    assert changed.code == 0, changed.stderr
    # A table for people: one `field  value` line per field, then what changed.
    assert changed.stdout.splitlines()[0].split() == ["tenant", "id", "acme"]
    assert changed.stdout.splitlines()[-1] == "tenant acme: changed alert_channels, reply_domain"
    replaced = newcomer.oie("tenant", "create", *TENANT[:3], "Acme 2", *TENANT[4:], "--replace", "--json")
    tenant = json.loads(replaced.stdout)
    assert (tenant["name"], tenant["reply_domain"], tenant["ip_mode"]) == ("Acme 2", "reply.acme.com", "hash")
    assert [c["url"] for c in tenant["alert_channels"]] == ["https://hooks.slack.com/services/T/B/x"]


def test_with_two_stacks_the_default_ports_wins_and_port_picks_the_other(
    newcomer: Newcomer, stack: StackState, firestore_emulator: FirestoreEmulator
):
    other = newcomer.publish_stack(free_port())  # a second stack, whose emulator does not answer
    newest = newcomer.oie("tenant", "show", "--tenant", "acme")
    assert "does not answer" in newest.stderr and f"port {other.port}" in newest.stderr  # the newest one
    assert "local stacks run on ports" in newest.stderr
    picked = newcomer.oie("--port", str(stack.port), "tenant", "create", *TENANT)
    assert picked.code == 0, picked.stderr
    listed = newcomer.oie("dev", "status", "--json")
    assert [s["port"] for s in json.loads(listed.stdout)] == [stack.port, other.port]
