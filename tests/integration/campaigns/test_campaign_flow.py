"""Campaigns end to end through the gateway's `campaign_step`, on the Firestore emulator and DuckDB."""

from datetime import timedelta
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from oie.campaigns.cli import campaigns
from oie.campaigns.limits import LimitsConfig
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.devstack.gateway import build_gateway
from oie.links.csv_import import parse_leads
from oie.suppressions.models import Suppression
from tests.factories import create_acme, csv_text
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import PLAN, make_plan

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


def deliver(app, gateway, task, expect=200):
    """Deliver a task as Cloud Tasks would: not before its schedule time."""
    if task.schedule_at and task.schedule_at > app.clock.current:
        app.clock.current = task.schedule_at
    response = gateway.post("/campaign_step", json=task.payload, headers={"X-CloudTasks-TaskName": task.name or ""})
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()["outcome"] if expect == 200 else None


def outbox(app):
    return sorted((app.settings.outbox_dir).glob("*.eml")) if app.settings.outbox_dir.exists() else []


def start(app):
    return app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))


def test_each_contact_gets_one_email_even_when_every_task_is_delivered_twice(seeded, gateway):
    app = seeded
    report = start(app)
    assert report.started == 2
    first_steps = list(app.tasks.tasks)
    assert [deliver(app, gateway, t) for t in first_steps] == ["sent", "sent"]
    assert [deliver(app, gateway, t) for t in first_steps] == ["superseded", "superseded"]
    assert len(outbox(app)) == 2

    message = BytesParser(policy=policy.default).parsebytes(outbox(app)[0].read_bytes())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://127.0.0.1:8080/webhooks/unsubscribe?t=")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert unsubscribe in text and "Unsubscribe</a>" in html
    go = next(u for u in text.split() if "/go?" in u)
    query = parse_qs(urlsplit(go).query)
    assert query["to"] == ["https://www.acme.com/pricing"] and len(query["i"][0]) >= 8
    assert message["Reply-To"].startswith("reply+m") and message["Reply-To"].endswith("@reply.acme.com")

    rows = app.warehouse.sql(
        "select trigger, count(*) as n from campaign_transitions group by trigger order by trigger"
    )
    assert rows == [{"trigger": "sent", "n": 2}, {"trigger": "start", "n": 2}]
    docs = list(app.firestore.collection("tenants").document("acme").collection("outbound_messages").stream())
    assert sorted(d.to_dict()["status"] for d in docs) == ["sent", "sent"]


def test_out_of_order_and_superseded_tasks_change_nothing(seeded, gateway):
    app = seeded
    start(app)
    steps = list(app.tasks.tasks)
    deliver(app, gateway, steps[0])
    timer = app.tasks.tasks[-1]
    state = app.campaign_service.states.get("acme", timer.payload["contact_campaign_id"])
    click = {
        "kind": "event",
        "event": {
            "event_key": "sg-evt-click-0001",
            "tenant_id": "acme",
            "contact_campaign_id": state.contact_campaign_id,
            "message_id": state.node_message_id,
            "type": "click",
            "occurred_at": app.clock.now().isoformat(),
        },
    }
    assert gateway.post("/campaign_step", json=click).get_json()["outcome"] == "moved"
    assert gateway.post("/campaign_step", json=click).get_json()["outcome"] == "duplicate"
    followup = app.tasks.tasks[-1]
    assert deliver(app, gateway, timer) == "superseded"  # the no_open timer lost to the click
    assert deliver(app, gateway, steps[0]) == "superseded"
    assert deliver(app, gateway, followup) == "sent"
    assert deliver(app, gateway, followup) == "superseded"
    assert len(outbox(app)) == 2  # intro + the hot follow-up, each once
    actions = app.firestore.collection("tenants").document("acme").collection("scheduled_actions").stream()
    statuses = {d.id: d.to_dict()["status"] for d in actions}
    assert statuses[timer.payload["key"]] == "superseded" and statuses[followup.payload["key"]] == "done"


def test_a_suppression_recorded_after_the_start_blocks_the_send(seeded, gateway):
    app = seeded
    start(app)
    app.suppressions.add(
        Suppression(
            tenant_id="acme", address="ada@example.com", reason="unsubscribe", source="link", created_at=app.clock.now()
        )
    )
    outcomes = sorted(deliver(app, gateway, t) for t in list(app.tasks.tasks))
    assert outcomes == ["sent", "suppressed"] and len(outbox(app)) == 1


def test_an_unsubscribe_event_stops_the_next_send(seeded, gateway):
    app = seeded
    start(app)
    first = app.tasks.tasks[0]
    deliver(app, gateway, first)
    timer = app.tasks.tasks[-1]
    state = app.campaign_service.states.get("acme", first.payload["contact_campaign_id"])
    event = {
        "event_key": "sg-evt-unsub-0001",
        "tenant_id": "acme",
        "contact_campaign_id": state.contact_campaign_id,
        "message_id": state.node_message_id,
        "type": "unsubscribe",
        "occurred_at": app.clock.now().isoformat(),
    }
    assert (
        gateway.post("/campaign_step", json={"kind": "event", "event": event}).get_json()["outcome"] == "unsubscribed"
    )
    assert deliver(app, gateway, timer) == "superseded"
    assert app.campaign_service.states.get("acme", state.contact_campaign_id).status == "unsubscribed"


def test_a_domain_limit_defers_a_second_gmail_send_to_a_later_task(seeded, gateway):
    app = seeded
    app.campaign_senders.put_limits("acme", LimitsConfig(domain_hourly={"gmail.com": 1, "*": 100}))
    start(app)
    assert sorted(deliver(app, gateway, t) for t in list(app.tasks.tasks)) == ["sent", "sent"]
    contacts = [s.contact for s in app.campaign_service.states.in_campaign("acme", "q1", 10)]
    app.campaign_service.start_campaign("acme", "q2", TemplatePlanner(make_plan()), contacts=contacts)
    second = [t for t in list(app.tasks.tasks) if t.payload["contact_campaign_id"].startswith("q2_")]
    outcomes = {t.payload["contact_campaign_id"]: deliver(app, gateway, t) for t in second}
    grace = next(c.lead_id for c in contacts if c.email == "grace@gmail.com")
    assert outcomes[f"q2_{grace}_email"] == "deferred" and list(outcomes.values()).count("sent") == 1
    retry = [t for t in app.tasks.tasks if t.payload["contact_campaign_id"] == f"q2_{grace}_email"][-1]
    assert retry not in second
    # One gmail send an hour, counted in clock hours: the next send waits for the next hour.
    assert retry.schedule_at == app.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert deliver(app, gateway, retry) == "sent" and len(outbox(app)) == 4


def test_the_same_plan_twice_is_one_version(seeded):
    app = seeded
    start(app)
    app.campaign_service.start_campaign("acme", "q2", TemplatePlanner(make_plan()), contacts=[])
    versions = list(app.firestore.collection("tenants").document("acme").collection("campaign_plan_versions").stream())
    assert [d.id for d in versions] == [make_plan().content_hash()]


def test_broken_tasks_are_acknowledged_and_uncommitted_steps_retried(seeded, gateway):
    app = seeded
    assert gateway.post("/campaign_step", data=b"not json").get_json()["outcome"] == "ignored"
    assert (
        gateway.post("/campaign_step", json={"kind": "step", "tenant_id": "acme"}).get_json()["reason"] == "malformed"
    )
    start(app)
    payload = dict(app.tasks.tasks[0].payload, version=99, key="x")
    response = gateway.post("/campaign_step", json=payload)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "backend_unavailable"


def test_the_demo_campaign_seeds_a_plan_and_sender_and_its_first_sends_reach_the_outbox(app, gateway):
    from oie.devstack.demo import seed_demo
    from oie.devstack.demo_campaign import seed_demo_campaign

    app.tasks = RecordingQueue()
    seed = seed_demo(app, "http://127.0.0.1:8080")
    report = seed_demo_campaign(app, "http://127.0.0.1:8080")
    assert report.started == len(seed.leads) and seed_demo_campaign(app, "http://127.0.0.1:8080").started == 0
    assert {deliver(app, gateway, t) for t in list(app.tasks.tasks)} == {"sent"}
    assert len(outbox(app)) == len(seed.leads)
    body = outbox(app)[0].read_text()
    assert "/go?i=3D" in body or "/go?i=" in body


def test_the_cli_starts_a_campaign_and_reports_where_contacts_are(seeded, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(__import__("json").dumps(PLAN))
    runner = CliRunner()
    result = runner.invoke(campaigns, ["start", "--tenant", "acme", "--campaign", "q1", "--plan", str(plan)])
    assert result.exit_code == 0, result.output
    assert "2 contacts started" in result.output
    status = runner.invoke(campaigns, ["status", "--tenant", "acme"])
    assert "q1" in status.output and "active" in status.output and "intro" in status.output
    plan.write_text('{"version": "1.0", "startNodeId": "a", "nodes": [{"id": "b", "type": "stop"}]}')
    bad = runner.invoke(campaigns, ["start", "--tenant", "acme", "--campaign", "q1", "--plan", str(plan)])
    assert bad.exit_code == 1 and "startNodeId" in bad.output
