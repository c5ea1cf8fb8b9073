"""CRM sync end to end on the Firestore emulator, DuckDB running crm.sql, and the real clients
against the local CRM servers: the crm_sync and crm_reconcile jobs, allow_create, back-off,
idempotency and erasure."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from oie.crm.clients import CrmClientFactory
from oie.crm.models import CrmConfig
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from tests.factories import create_acme, csv_text

pytestmark = pytest.mark.firestore
ADA = "ada@example.com"


@pytest.fixture
def crm_app(app, hubspot, salesforce):
    """Acme with two imported leads; the CRM clients pointed at the local servers."""
    app.crm_clients = CrmClientFactory(hubspot.base_url, salesforce.base_url)
    create_acme(app.tenants)
    leads = parse_leads(csv_text(f"{ADA},Ada,Lovelace,Engines,", "grace@example.com,Grace,Hopper,Cobol,"))
    result = app.importer.run("acme", "Q1", "https://www.acme.com/demo", leads, "https://links.acme.com")
    app.leads_by_email = {i.lead.email: i for i in result.imported}
    return app


def turn_hot(app: Any, email: str, tenant_id: str = "acme") -> str:
    """The score job's rows for a lead that rose to hot in this run, and the run itself."""
    lead = app.leads_by_email[email]
    now = app.clock.now()
    base = {"tenant_id": tenant_id, "lead_id": lead.lead_id}
    profile = {
        **base,
        **dict.fromkeys(("sessions", "pageviews", "scroll_milestones", "product_views", "videos_completed"), 0),
        **dict.fromkeys(("case_study_views", "forms_submitted"), 0),
        "sessions": 3,
        "sessions_7d": 3,
        "pageviews": 9,
        "pricing_views": 3,
        "active_minutes": 7.0,
        "first_seen_at": now - timedelta(days=3),
        "last_activity_at": now - timedelta(minutes=20),
        "recency_points": 20.0,
        "frequency_points": 10.0,
        "engagement_points": 5.0,
        "high_intent_points": 30.0,
        "conversion_points": 0.0,
        "score": 65.0,
        "level": "hot",
        "previous_level": "warm",
        "level_changed_at": now,
        "scored_at": now,
        "evidence_level": "corroborated",
        "verified_sessions": 1,
        "corroborated_sessions": 2,
        "id_only_sessions": 0,
    }
    app.warehouse.upsert_rows("lead_profiles", [profile], key_fields=("tenant_id", "lead_id"))
    change_id = f"{tenant_id}:{lead.lead_id}:hot:{int(now.timestamp())}"
    change = {**base, "change_id": change_id, "from_level": "warm", "to_level": "hot", "score": 65.0}
    app.warehouse.insert_rows(
        "lead_level_changes", [{**change, "changed_at": now, "evidence_level": "corroborated"}], id_field="change_id"
    )
    run = {"run_id": uuid.uuid4().hex, "job": "score", "started_at": now, "finished_at": now, "status": "ok"}
    app.warehouse.insert_rows("job_runs", [run], id_field="run_id")
    app.clock.advance(minutes=1)
    return lead.lead_id


def lead_doc(app: Any, lead_id: str) -> dict[str, Any]:
    return app.firestore.collection("tenants").document("acme").collection("leads").document(lead_id).get().to_dict()


def test_a_lead_that_turns_hot_gets_its_hubspot_properties_and_one_note(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    lead_id = turn_hot(app, ADA)

    report = run_job("crm_sync", app)

    assert report["synced"] == 1 and report["notes"] == 1
    contact = hubspot.contacts["501"]
    assert contact["oie_intent_score"] == "65" and contact["oie_intent_level"] == "hot"
    assert contact["oie_intent_reason"].startswith("pricing page 3")
    assert contact["oie_tracking_id"] == app.leads_by_email[ADA].tracking_id
    (note,) = hubspot.notes.values()
    assert note["contact_id"] == "501" and "Intent: now HOT (score 65/100)" in note["hs_note_body"]
    doc = lead_doc(app, lead_id)
    assert (doc["crmContactId"], doc["syncedToCRM"], doc["crmLastError"]) == ("501", True, "")
    state = app.crm_connections.lead_sync_state("acme", lead_id)
    assert state.crm_contact_id == "501" and state.last_synced_at is not None
    # The email never reaches the warehouse: only Firestore knew it.
    assert ADA not in json.dumps(app.warehouse.sql("select * from lead_profiles"), default=str)


def test_a_retried_sync_and_the_reconciliation_write_the_same_values_and_no_second_note(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    turn_hot(app, ADA)
    run_job("crm_sync", app)
    written = dict(hubspot.contacts["501"])
    (since,) = app.warehouse.sql("select min(changed_at) as at from lead_level_changes")
    from oie.jobs.context import Window

    app.crm_sync.run(Window(since=since["at"] - timedelta(seconds=1), until=app.clock.now(), now=app.clock.now()))
    report = run_job("crm_reconcile", app)
    assert report["synced"] == 1 and report["notes"] == 0
    assert hubspot.contacts["501"] == written
    assert len(hubspot.notes) == 1
    assert len(hubspot.calls("/objects/notes/batch/create")) == 1


def test_salesforce_creates_an_unknown_contact_only_when_the_tenant_allows_it(crm_app, salesforce):
    app = crm_app
    credentials = f"{salesforce.consumer_key}:{salesforce.consumer_secret}"
    app.crm_connections.connect("acme", CrmConfig(provider="salesforce", salesforce_domain="acme.my"), credentials)
    lead_id = turn_hot(app, ADA)
    run_job("crm_sync", app)
    assert salesforce.contacts == {} and salesforce.notes == {}
    assert "creating contacts is off" in lead_doc(app, lead_id)["crmLastError"]

    config = CrmConfig(provider="salesforce", salesforce_domain="acme.my", allow_create=True)
    app.crm_connections.connect("acme", config, credentials)
    turn_hot(app, ADA)
    run_job("crm_sync", app)
    ((contact_id, contact),) = salesforce.contacts.items()
    assert (contact["Email"], contact["FirstName"], contact["LastName"]) == (ADA, "Ada", "Lovelace")
    assert contact["OIE_Intent_Level__c"] == "hot" and contact["OIE_Intent_Score__c"] == 65.0
    (task,) = salesforce.notes.values()
    assert task["WhoId"] == contact_id and task["Subject"].startswith("Intent: now HOT")
    assert lead_doc(app, lead_id)["crmContactCreatedByEngine"] is True


def test_a_rate_limited_crm_is_backed_off_within_the_deadline(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    turn_hot(app, ADA)
    waits: list[float] = []
    app.crm_sync.sleep = waits.append
    hubspot.limit_next(3)
    report = run_job("crm_sync", app)
    assert waits == [1.0, 2.0, 4.0] and report["synced"] == 1 and not report["errors"]


def test_a_crm_that_stays_rate_limited_holds_the_watermark_and_keeps_the_error_per_lead(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    lead_id = turn_hot(app, ADA)
    app.crm_sync.deadline_seconds = 2.5
    app.crm_sync.sleep = lambda seconds: None
    hubspot.limit_next(100)
    report = run_job("crm_sync", app)
    assert "429" in report["errors"]["acme"]
    doc = lead_doc(app, lead_id)
    assert doc["syncedToCRM"] is False and "rate limited" in doc["crmLastError"]
    assert app.crm_connections.status("acme").last_error == report["errors"]["acme"]
    hubspot.limit_next(0)
    assert run_job("crm_sync", app)["notes"] == 1  # the window came round again


def test_erasure_removes_the_note_and_the_engines_fields_and_records_it(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA, "firstname": "Ada"}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    turn_hot(app, ADA)
    run_job("crm_sync", app)
    record = app.retention.erase("acme", ADA)
    assert record["rows_deleted"]["crm"] == {"outcome": "removed", "notes_deleted": 1, "contact": "fields_cleared"}
    assert hubspot.notes == {}
    contact = hubspot.contacts["501"]
    assert contact["firstname"] == "Ada" and all(v == "" for k, v in contact.items() if k.startswith("oie_"))


def test_an_erasure_the_crm_refuses_is_recorded_with_why(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot"), hubspot.token)
    turn_hot(app, ADA)
    run_job("crm_sync", app)
    hubspot.token = "rotated-elsewhere"
    record = app.retention.erase("acme", ADA)
    assert record["rows_deleted"]["crm"]["outcome"] == "failed"
    assert "refused" in record["rows_deleted"]["crm"]["reason"]
