"""Smartlead and Instantly end to end on the Firestore emulator and DuckDB: the gateway's routes, the CLI's
secret, message_events, the lead's timeline, the campaign engine's stop rules and the message metrics."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.devstack.gateway import build_gateway
from oie.jobs.context import Window
from oie.links.csv_import import parse_leads
from oie.webhooks.cli import webhooks
from oie.webhooks.metrics import message_metrics
from tests.factories import create_acme, csv_text
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan
from tests.unit.webhooks.sequencer_payloads import encoded, instantly, smartlead

pytestmark = pytest.mark.firestore
SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


@pytest.fixture
def seeded(app):
    app.tasks = RecordingQueue()
    create_acme(app.tenants)
    app.importer.run(
        "acme",
        "Q1",
        "https://www.acme.com/demo",
        parse_leads(csv_text("ada@example.com,Ada,,Engines,", "grace@gmail.com,Grace,,Cobol,")),
        "https://links.acme.com",
    )
    app.campaign_senders.put("acme", SENDER)
    return app


@pytest.fixture
def gateway():
    return Client(build_gateway())


def new_secret(sequencer: str) -> dict:
    result = CliRunner().invoke(webhooks, ["sequencer-secret", "--tenant", "acme", "--sequencer", sequencer, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def lead_of(app, email: str) -> dict:
    (row,) = app.warehouse.sql(
        "select lead_id, tracking_id, campaign_id from identity_map where email_sha256 = $h",
        {"h": hashlib.sha256(email.encode()).hexdigest()},
    )
    return row


def smartlead_post(gateway, secret: str, payload):
    auth = base64.b64encode(f"smartlead:{secret}".encode()).decode()
    return gateway.post("/webhooks/smartlead/acme", data=encoded(payload), headers={"Authorization": f"Basic {auth}"})


def deliver(app, gateway, task):
    response = gateway.post("/campaign_step", json=task.payload, headers={"X-CloudTasks-TaskName": task.name or ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["outcome"]


def test_a_smartlead_reply_shows_in_the_timeline_and_stops_the_leads_campaign(seeded, gateway):
    app = seeded
    app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    assert sorted(deliver(app, gateway, t) for t in list(app.tasks.tasks)) == ["sent", "sent"]
    secret = new_secret("smartlead")
    assert secret["url"].startswith("http://smartlead:") and secret["secret"] in secret["url"]
    ada = lead_of(app, "ada@example.com")
    sent_before = len(app.tasks.tasks)

    posts = [
        smartlead(kind, event_timestamp=f"2026-03-02T09:1{n}:00Z")
        for n, kind in enumerate(["EMAIL_SENT", "EMAIL_OPEN", "EMAIL_REPLY"])
    ]
    answers = [smartlead_post(gateway, secret["secret"], p) for p in (posts[2], posts[0], posts[2], posts[1], posts[0])]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.get_json()["accepted"] for a in answers] == [1, 1, 0, 1, 0]

    rows = app.warehouse.sql(
        "select event_type, source, campaign_id, contact_campaign_id, provider_campaign_id from message_events"
        " where not is_duplicate order by occurred_at"
    )
    ccid = f"q1_{ada['lead_id']}_email"
    assert rows == [
        {
            "event_type": t,
            "source": "smartlead",
            "campaign_id": "q1",
            "contact_campaign_id": ccid,
            "provider_campaign_id": "4711",
        }
        for t in ("processed", "open", "reply")
    ]

    (reply_task,) = app.tasks.tasks[sent_before:]
    assert reply_task.payload["event"]["type"] == "reply"
    assert deliver(app, gateway, reply_task) == "moved"  # the plan's reply transition: to its stop node
    assert deliver(app, gateway, reply_task) == "duplicate"
    state = app.campaign_service.states.get("acme", ccid)
    assert (state.current_node, state.status, state.pending, state.replied_at is not None) == (
        "done",
        "completed",
        None,
        True,
    )

    timeline = app.console_service.timeline("acme", ada["lead_id"])
    emails = [i.title for i in timeline.items if i.kind == "email"]
    assert emails == ["email sent", "email opened", "replied"]
    assert any(i.kind == "campaign" and "ended (" in i.title for i in timeline.items)


def test_a_wrong_secret_is_refused_and_stores_nothing(seeded, gateway):
    new_secret("smartlead")
    answer = smartlead_post(gateway, "not-the-secret", smartlead("EMAIL_REPLY"))
    assert answer.status_code == 403 and answer.get_json()["error"]["field"] == "authorization"
    assert app_rows(seeded) == (0, 0)


def app_rows(app) -> tuple[int, int]:
    (events,) = app.warehouse.sql("select count(*) as n from message_events")
    (deliveries,) = app.warehouse.sql("select count(*) as n from webhook_deliveries")
    return events["n"], deliveries["n"]


def test_instantly_events_by_tracking_id_count_in_the_campaigns_funnel(seeded, gateway):
    app = seeded
    grace = lead_of(app, "grace@gmail.com")
    secret = new_secret("instantly")
    headers = {secret["header"]: secret["secret"]}
    kinds = ["email_sent", "email_opened", "email_link_clicked", "reply_received", "lead_interested"]
    for n, kind in enumerate(kinds):
        payload = instantly(
            kind, email="Grace@Gmail.com", timestamp=f"2026-03-02T09:2{n}:00Z", tracking_id=grace["tracking_id"]
        )
        for _ in range(2):  # Instantly retries within 30 s
            answer = gateway.post("/webhooks/instantly/acme", data=encoded(payload), headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
    assert app_rows(app) == (4, 5)  # the interest label is kept raw only

    now = app.clock.now()
    message_metrics(app.warehouse, Window(since=now - timedelta(hours=1), until=now, now=now))
    (day,) = app.warehouse.sql("select * from message_metrics_campaign_daily where campaign_id = 'q1'")
    assert {
        k: day[k] for k in ("sent", "opened", "clicked", "replied", "bounced", "events_received", "unique_events")
    } == {
        "sent": 1,
        "opened": 1,
        "clicked": 1,
        "replied": 1,
        "bounced": 0,
        "events_received": 4,
        "unique_events": 4,
    }
    (event,) = [e for e in app.tasks.events() if e["type"] == "reply"]
    assert (
        event["contact_campaign_id"] == f"q1_{grace['lead_id']}_email"
        and event["details"]["matched_by"] == "tracking_id"
    )
