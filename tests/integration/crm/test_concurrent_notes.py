"""Two crm_sync runs at once put one note on the contact; a failed note create is left to the next run.

The real clients against the local CRM servers, the Firestore emulator holding the claims,
DuckDB running crm.sql. The servers here can hold a note create in flight (so a second run
goes all the way through while the first one waits for its answer), refuse it, or make
the note and lose the answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from oie.crm import mapping
from oie.crm.models import CrmConfig
from oie.devstack.crm_http import Answer
from oie.devstack.crm_servers import HubSpotServer, SalesforceServer
from oie.jobs.runner import run_job
from tests.integration.crm import test_sync_flow as flow
from tests.integration.crm.test_sync_flow import ADA, turn_hot

pytestmark = pytest.mark.firestore
crm_app = flow.crm_app  # the sync tests' fixture: acme, two imported leads, clients on the local servers
GRACE = "grace@example.com"
WAIT = 30.0  # seconds a held create waits at most, so a broken test ends instead of hanging


class NoteCreates:
    """Note (task) creates that can be slowed, held until `go`, refused with a 503, or made and their answer lost."""

    hold: bool
    refuse: bool
    lose_answer: bool
    delay: float

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hold = self.refuse = self.lose_answer = False
        self.delay = 0.0
        self.entered, self.go = threading.Event(), threading.Event()
        self.note_creates = 0

    def is_note_create(self, method: str, target: str, raw: bytes) -> bool:
        raise NotImplementedError

    def handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Answer:
        if not self.is_note_create(method, target, raw):
            return super().handle(method, target, raw, headers)
        self.note_creates += 1
        time.sleep(self.delay)
        if self.hold:
            self.hold = False
            self.entered.set()
            self.go.wait(WAIT)
        if self.refuse:
            return 503, {"status": "error", "message": "service unavailable"}
        answer: Answer = super().handle(method, target, raw, headers)
        return (503, {"status": "error", "message": "gateway timeout"}) if self.lose_answer else answer


class HeldHubSpot(NoteCreates, HubSpotServer):
    def is_note_create(self, method: str, target: str, raw: bytes) -> bool:
        return method == "POST" and target.startswith("/crm/v3/objects/notes/batch/create")


class HeldSalesforce(NoteCreates, SalesforceServer):
    def is_note_create(self, method: str, target: str, raw: bytes) -> bool:
        if method != "POST" or "/composite/sobjects" not in target:
            return False
        records = json.loads(raw or b"{}").get("records", [])
        return any(r.get("attributes", {}).get("type") == "Task" for r in records)


@pytest.fixture
def hubspot() -> Iterator[HeldHubSpot]:
    server = HeldHubSpot().start()
    yield server
    server.stop()


@pytest.fixture
def salesforce() -> Iterator[HeldSalesforce]:
    server = HeldSalesforce().start()
    yield server
    server.stop()


def in_thread(app: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """A crm_sync job run in its own thread (Cloud Scheduler's run), and where its report lands."""
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(run_job("crm_sync", app)), daemon=True)
    thread.start()
    return thread, out


def second_run_inside_the_first(app: Any, server: NoteCreates) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run A's note create waits at the CRM while run B (after score, or by hand) goes all the way through."""
    server.hold = True
    thread, first = in_thread(app)
    assert server.entered.wait(WAIT), "the first run never reached the CRM's note create"
    try:
        second = run_job("crm_sync", app)
    finally:
        server.go.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    return first, second


def claim(app: Any, lead_id: str) -> dict[str, Any]:
    (change,) = app.warehouse.sql(
        "select change_id from lead_level_changes where lead_id = $lead_id", {"lead_id": lead_id}
    )
    key = mapping.note_key("acme", change["change_id"])
    notes = app.firestore.collection("tenants").document("acme").collection("crm_notes")
    return notes.document(key).get().to_dict() or {}


def connect_hubspot(app: Any, hubspot: HeldHubSpot) -> None:
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)


def test_two_syncs_at_once_put_one_hubspot_note_on_the_contact(crm_app, hubspot):
    app = crm_app
    connect_hubspot(app, hubspot)
    lead_id = turn_hot(app, ADA)

    first, second = second_run_inside_the_first(app, hubspot)

    (note,) = hubspot.notes.values()
    assert note["contact_id"] == "501" and hubspot.note_creates == 1
    assert (first["notes"], second["notes"], second["notes_held"]) == (1, 0, 1)
    assert hubspot.contacts["501"]["oie_intent_level"] == "hot"  # both wrote the fields, the same values
    assert claim(app, lead_id)["note_id"] in hubspot.notes
    assert run_job("crm_sync", app)["notes"] == 0 and len(hubspot.notes) == 1


def test_syncs_started_together_add_each_leads_note_once(crm_app, hubspot):
    app = crm_app
    hubspot.contacts.update({"501": {"email": ADA}, "502": {"email": GRACE}})
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    turn_hot(app, ADA)
    turn_hot(app, GRACE)
    hubspot.delay = 0.5  # a CRM that takes its time: the other runs meet the claim while it is in flight
    start = threading.Barrier(3)
    reports: list[dict[str, Any]] = []

    def scheduled() -> None:
        start.wait(WAIT)
        reports.append(run_job("crm_sync", app))

    threads = [threading.Thread(target=scheduled, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)

    assert len(reports) == 3
    assert sorted(n["contact_id"] for n in hubspot.notes.values()) == ["501", "502"]
    assert sum(r["notes"] for r in reports) == 2


def test_a_failed_note_create_is_left_to_the_next_run_even_with_a_second_run_inside_it(crm_app, hubspot):
    app = crm_app
    connect_hubspot(app, hubspot)
    lead_id = turn_hot(app, ADA)
    hubspot.refuse = True

    first, second = second_run_inside_the_first(app, hubspot)

    assert hubspot.notes == {} and hubspot.note_creates == 1  # a create that got no answer is not resent
    assert "create notes" in first["errors"]["acme"] and second["notes_held"] == 1
    assert claim(app, lead_id)["state"] == "released"
    hubspot.refuse = False
    # Both runs held the watermark, so the next one sees the change again.
    assert run_job("crm_sync", app)["notes"] == 1
    (note,) = hubspot.notes.values()
    assert note["contact_id"] == "501"
    assert len(hubspot.calls("/objects/notes/search")) == 1  # it looked for the failed call's note first


def test_a_note_made_but_whose_answer_was_lost_is_found_not_made_again(crm_app, hubspot):
    app = crm_app
    connect_hubspot(app, hubspot)
    lead_id = turn_hot(app, ADA)
    hubspot.lose_answer = True
    assert "create notes" in run_job("crm_sync", app)["errors"]["acme"]
    assert len(hubspot.notes) == 1

    hubspot.lose_answer = False
    report = run_job("crm_sync", app)
    assert report["notes"] == 0 and not report["errors"]
    assert len(hubspot.notes) == 1 and hubspot.note_creates == 1
    assert claim(app, lead_id)["note_id"] == next(iter(hubspot.notes))


def test_two_syncs_at_once_put_one_salesforce_task_on_the_contact(crm_app, salesforce):
    app = crm_app
    salesforce.contacts["003A"] = {"Email": ADA}
    credentials = f"{salesforce.consumer_key}:{salesforce.consumer_secret}"
    app.crm_connections.connect("acme", CrmConfig(provider="salesforce", salesforce_domain="acme.my"), credentials)
    turn_hot(app, ADA)

    first, second = second_run_inside_the_first(app, salesforce)

    (task,) = salesforce.notes.values()
    assert task["WhoId"] == "003A" and salesforce.note_creates == 1
    assert (first["notes"], second["notes"], second["notes_held"]) == (1, 0, 1)
