"""Retention and erasure on the Firestore emulator and DuckDB."""

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from oie.cli.main import cli
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.factories import csv_text, event_row

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def two_people(app):
    create_tenant(
        app.tenants,
        {
            "tenant_id": "acme",
            "name": "Acme",
            "redirect_domains": ("acme.com",),
            "default_landing_url": "https://www.acme.com/",
            "retention_days": 90,
        },
        allow_local_secret=True,
    )
    rows = csv_text("ada@example.com,Ada,,Engines,", "bob@example.com,Bob,,Builders,")
    imported = app.importer.run("acme", "Q1", "https://www.acme.com/", parse_leads(rows), "https://x").imported
    ada, bob = imported
    app.warehouse.insert_rows(
        "events",
        [
            event_row("acme", "vis_ada", NOW - timedelta(hours=2), "pageview", "/pricing", i=ada.tracking_id),
            event_row("acme", "vis_ada", NOW - timedelta(hours=1), "form_submit", "/demo", email="ada@example.com"),
            event_row("acme", "vis_bob", NOW - timedelta(hours=2), "pageview", "/", i=bob.tracking_id),
            event_row("acme", "vis_old", NOW - timedelta(days=120), "pageview", "/"),
        ],
        id_field="event_id",
    )
    app.clock.current = NOW
    run_job("sessionize", app)
    run_job("score", app)
    return ada, bob


def test_erasing_an_email_removes_the_person_everywhere_and_keeps_everyone_else(app, two_people):
    ada, bob = two_people
    result = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", " ADA@example.com"])
    assert result.exit_code == 0, result.output
    w = app.warehouse
    for table, column in (("events", "visitor_id"), ("sessions", "visitor_id"), ("visitor_leads", "visitor_id")):
        assert "vis_ada" not in {r[column] for r in w.sql(f"select {column} from {table}")}, table
    for table in ("lead_profiles", "identity_map", "lead_level_changes", "lead_score_history"):
        leads = {r["lead_id"] for r in w.sql(f"select lead_id from {table}")}
        assert ada.lead_id not in leads and bob.lead_id in leads, table
    assert app.links.get(ada.tracking_id) is None and app.links.get(bob.tracking_id) is not None
    assert app.profiles.get("acme", ada.lead_id) is None and app.leads.get("acme", ada.lead_id) is None
    assert app.leads.get("acme", bob.lead_id) is not None
    (record,) = w.sql("select email_sha256, lead_id, rows_deleted::varchar as counts from erasures")
    assert record["lead_id"] == ada.lead_id and "ada" not in record["email_sha256"]
    assert '"erase_events":2' in record["counts"].replace(" ", "")


def test_erasing_asks_for_a_real_email(app, two_people):
    result = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", "nobody"])
    assert result.exit_code != 0 and "[email]" in result.output


def test_retention_drops_what_is_older_than_the_tenant_keeps(app, two_people):
    assert {r["visitor_id"] for r in app.warehouse.sql("select visitor_id from events")} >= {"vis_old"}
    run_job("retention", app)
    visitors = {r["visitor_id"] for r in app.warehouse.sql("select visitor_id from events")}
    assert "vis_old" not in visitors and {"vis_ada", "vis_bob"} <= visitors
    assert app.warehouse.sql("select count(*) as n from sessions where visitor_id = 'vis_old'") == [{"n": 0}]


def test_retention_expires_old_outbound_messages_and_raw_webhook_bodies(app, two_people):
    messages = app.firestore.collection("tenants").document("acme").collection("outbound_messages")
    messages.document("m_old").set({"to_email": "ada@example.com", "created_at": NOW - timedelta(days=91)})
    messages.document("m_new").set({"to_email": "bob@example.com", "created_at": NOW - timedelta(days=1)})
    rows = [
        {
            "delivery_id": f"d_{age}",
            "tenant_id": "acme",
            "kind": "sendgrid_events",
            "received_at": NOW - timedelta(days=age),
            "body_sha256": "x",
            "raw_body": '[{"email": "ada@example.com"}]',
            "event_count": 1,
            "new_events": 1,
            "duplicate_events": 0,
            "ignored_events": 0,
        }
        for age in (1, 31, 91)
    ]
    app.warehouse.insert_rows("webhook_deliveries", rows, id_field="delivery_id")
    run_job("retention", app)
    assert {d.id for d in messages.stream()} == {"m_new"}
    kept = app.warehouse.sql("select delivery_id, raw_body from webhook_deliveries order by delivery_id")
    assert kept == [
        {"delivery_id": "d_1", "raw_body": '[{"email": "ada@example.com"}]'},
        {"delivery_id": "d_31", "raw_body": None},  # the counts stay, the raw body goes after 30 days
    ]
