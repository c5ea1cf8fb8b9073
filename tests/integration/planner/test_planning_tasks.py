"""Planning as Cloud Tasks end to end: `oie planner start` queues, the gateway's `campaign_plan`
plans each contact with the real google-genai SDK against the local Gemini server, on the
Firestore emulator and DuckDB; then the review queue through `oie planner reviews`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from oie.campaigns.plan import parse_plan
from oie.devstack.gateway import build_gateway
from oie.planner.cli import planner
from oie.planner.firestore import FirestoreSlots
from tests.factories import create_acme

pytestmark = pytest.mark.firestore
TEMPLATE = {
    "version": "1.0",
    "timezone": "UTC",
    "startNodeId": "intro",
    "nodes": [
        {
            "id": "intro",
            "type": "send",
            "template": {"subject": "Hello {{first_name}}", "text": "Hi {{first_name}}, a short note from Acme."},
            "transitions": [{"on": "no_open", "after": "P3D", "to": "bump"}, {"on": "reply", "to": "done"}],
        },
        {
            "id": "bump",
            "type": "send",
            "template": {"subject": "Following up", "text": "Hi {{first_name}}, following up on my note."},
            "transitions": [{"on": "timeout", "after": "P4D", "to": "done"}],
        },
        {"id": "done", "type": "stop"},
    ],
}


@pytest.fixture
def app(planning_app):
    return planning_app


@pytest.fixture
def gateway():
    return Client(build_gateway())


def cli(*args):
    result = CliRunner().invoke(planner, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def start_planning(app, tmp_path):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    code, report = cli("start", "--tenant", "acme", "--campaign", "q1", "--template", str(path))
    assert code == 0, report
    return report, [t for t in app.tasks.tasks if t.queue == "campaign-planning"]


def deliver(gateway, task, expect=200):
    response = gateway.post("/campaign_plan", json=task.payload, headers={"X-CloudTasks-TaskName": task.name})
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json().get("outcome")


def model_calls(gemini):
    return len(gemini.state.requests)


def test_each_contact_is_planned_once_and_started_even_when_every_task_is_delivered_twice(
    app, gateway, gemini, tmp_path
):
    report, tasks = start_planning(app, tmp_path)
    assert (report["enqueued"], report["already_enqueued"]) == (2, 0) and len(tasks) == 2
    assert [deliver(gateway, t) for t in tasks] == ["started", "started"]
    assert [deliver(gateway, t) for t in tasks] == ["already_started", "already_started"]
    assert model_calls(gemini) == 2  # one generation per contact, none for the repeats

    states = app.campaign_service.states.in_campaign("acme", "q1", 10)
    assert len(states) == 2
    rows = app.warehouse.sql("select outcome, model_calls, fallback_reason from plan_generations order by lead_id")
    assert [(r["outcome"], r["model_calls"]) for r in rows] == [("generated", 1), ("generated", 1)], rows
    template = parse_plan(json.dumps(TEMPLATE)).content_hash()
    assert all(s.plan_version != template for s in states)  # the model's plans, not the template
    steps = [t for t in app.tasks.tasks if t.queue == "campaign-steps"]
    assert len(steps) == 2  # each contact's first step, once


def test_starting_again_queues_nothing_new(app, tmp_path):
    start_planning(app, tmp_path)
    again, tasks = start_planning(app, tmp_path)
    assert (again["enqueued"], again["already_enqueued"]) == (0, 2) and len(tasks) == 2


def test_a_malformed_task_is_acknowledged_without_a_model_call(app, gateway, gemini):
    response = gateway.post("/campaign_plan", data=b'{"kind": "plan", "tenant_id": "acme"}')
    assert response.status_code == 200 and response.get_json() == {"outcome": "ignored", "reason": "malformed"}
    assert model_calls(gemini) == 0


def test_a_tenant_at_its_concurrency_cap_gets_a_503_so_cloud_tasks_retries(app, gateway, gemini, tmp_path):
    app.planner_configs.put("acme", app.planner_configs.get("acme").model_copy(update={"max_concurrent": 1}))
    _, tasks = start_planning(app, tmp_path)
    slots = FirestoreSlots(app.firestore)
    held = slots.acquire("acme", 1, "another-worker", app.clock.now(), timedelta(minutes=2))
    assert held is not None
    assert deliver(gateway, tasks[0], expect=503) is None
    assert model_calls(gemini) == 0 and app.campaign_service.states.in_campaign("acme", "q1", 10) == []
    slots.release("acme", held, "another-worker")
    assert deliver(gateway, tasks[0]) == "started"


def test_a_reviewing_tenant_approves_edits_and_rejects_through_the_cli(app, gateway, gemini, tmp_path):
    assert cli("config", "set", "--tenant", "acme", "review_ai_plans=true")[0] == 0
    _, tasks = start_planning(app, tmp_path)
    assert [deliver(gateway, t) for t in tasks] == ["queued_for_review", "queued_for_review"]
    assert [deliver(gateway, t) for t in tasks] == ["already_in_review", "already_in_review"]
    assert model_calls(gemini) == 2 and app.campaign_service.states.in_campaign("acme", "q1", 10) == []

    code, pending = cli("reviews", "list", "--tenant", "acme")
    assert code == 0 and len(pending) == 2 and all(r["model"] for r in pending)
    first, second = (r["contact_campaign_id"] for r in pending)

    # An edit that breaks the plan is refused, naming the field; nothing starts.
    review = app.plan_reviews.get("acme", first)
    broken = review.plan.model_dump(mode="json", by_alias=True)
    broken["nodes"][0]["transitions"][0]["to"] = "nowhere"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    code, refused = cli("reviews", "approve", "--tenant", "acme", first, "--plan", str(tmp_path / "broken.json"))
    assert code == 1 and refused["error"]["field"] == "nodes[0].transitions[0].to"

    # An edit that invents facts fails the planner's own guardrails, named by field.
    invented = review.plan.model_dump(mode="json", by_alias=True)
    invented["nodes"][0]["template"]["text"] = "Hi {{first_name}}, Goldman Sachs grew 300% with us."
    (tmp_path / "invented.json").write_text(json.dumps(invented))
    code, refused = cli("reviews", "approve", "--tenant", "acme", first, "--plan", str(tmp_path / "invented.json"))
    assert code == 1 and refused["error"]["field"] == "plan.nodes[0].template.text", refused
    assert app.campaign_service.states.get("acme", first) is None

    edited = review.plan.model_dump(mode="json", by_alias=True)
    edited["nodes"][0]["template"]["subject"] = "Hello {{first_name}}, a question"
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    code, approved = cli("reviews", "approve", "--tenant", "acme", first, "--plan", str(tmp_path / "edited.json"))
    assert code == 0 and approved == {"contact_campaign_id": first, "status": "approved", "started": True}
    state = app.campaign_service.states.get("acme", first)
    assert state.plan_version == parse_plan(edited).content_hash()
    assert cli("reviews", "approve", "--tenant", "acme", first)[1]["started"] is False  # a no-op

    code, rejected = cli("reviews", "reject", "--tenant", "acme", second, "--reason", "off-brand")
    assert code == 0 and rejected["status"] == "rejected"
    assert app.campaign_service.states.get("acme", second) is None
    assert cli("reviews", "list", "--tenant", "acme")[1] == []
    assert model_calls(gemini) == 2


def test_reviews_are_the_tenants_own(app, gateway, tmp_path):
    cli("config", "set", "--tenant", "acme", "review_ai_plans=true")
    _, tasks = start_planning(app, tmp_path)
    deliver(gateway, tasks[0])
    ccid = app.plan_reviews.pending("acme")[0].contact_campaign_id
    create_acme(app.tenants, tenant_id="globex", name="Globex")
    assert cli("reviews", "list", "--tenant", "globex")[1] == []
    code, refused = cli("reviews", "approve", "--tenant", "globex", ccid)
    assert code == 1 and refused["error"]["code"] == "not_found"
    assert app.plan_reviews.get("acme", ccid).status == "pending"


def test_config_set_refuses_an_unknown_field_or_a_value_out_of_bounds(app):
    code, refused = cli("config", "set", "--tenant", "acme", "no_such=1")
    assert code == 1 and refused["error"]["field"] == "no_such"
    code, refused = cli("config", "set", "--tenant", "acme", "max_concurrent=0")
    assert code == 1 and refused["error"]["field"] == "max_concurrent"
    assert (
        cli("config", "show", "--tenant", "acme")[1]["max_concurrent"] == app.planner_configs.get("acme").max_concurrent
    )
