"""A/B/n winners in Firestore, and a variant sent after a pricing visit, on the emulator and DuckDB."""

import json
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from oie.campaigns import engine
from oie.campaigns.contracts import IntentSignal
from oie.campaigns.firestore import FirestoreExperiments
from oie.campaigns.planner import TemplatePlanner
from tests.integration.campaigns.test_campaign_flow import deliver, gateway, outbox, seeded  # noqa: F401
from tests.unit.campaigns.factories import make_intent_plan

pytestmark = pytest.mark.firestore


def test_the_first_winner_is_kept_and_winners_are_per_tenant_and_node(app):
    store = FirestoreExperiments(app.firestore)
    assert store.winner("acme", "q1", "pricing_followup") is None
    assert store.set_winner("acme", "q1", "pricing_followup", "B", {"p_value": 0.004, "sent": [120, 118]})
    assert not store.set_winner("acme", "q1", "pricing_followup", "A", {"p_value": 0.001})
    assert store.winner("acme", "q1", "pricing_followup") == "B"
    assert store.winner("acme", "q1", "intro") is None and store.winner("globex", "q1", "pricing_followup") is None
    doc = (
        app.firestore.collection("tenants")
        .document("acme")
        .collection("campaign_experiments")
        .document("q1__pricing_followup")
        .get()
        .to_dict()
    )
    assert doc["winner"] == "B" and doc["details"] == {"p_value": 0.004, "sent": [120, 118]}
    assert (doc["campaign_id"], doc["node_id"]) == ("q1", "pricing_followup")


def test_a_pricing_visit_sends_the_winning_variant_recorded_everywhere(seeded, gateway):  # noqa: F811
    app = seeded
    app.campaign_experiments.set_winner("acme", "q1", "pricing_followup", "B", {})
    app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(make_intent_plan()))
    for task in list(app.tasks.tasks):
        assert deliver(app, gateway, task) == "sent"
    now = app.clock.current + timedelta(hours=1)
    app.clock.current = now
    svc = app.campaign_service
    for n, state in enumerate(svc.states.in_campaign("acme", "q1", 10)):
        visit = IntentSignal(
            signal_key=f"evt-visit-{n:04d}",
            tenant_id="acme",
            type="page_visit",
            occurred_at=now,
            lead_id=state.contact.lead_id,
            url="https://www.acme.com/pricing",
            page_class="pricing",
        )
        decide = lambda p, s, _, v=visit: engine.on_signal(p, s, v, now)  # noqa: E731
        assert svc.change("acme", state.contact_campaign_id, None, decide) == "moved"
        assert deliver(app, gateway, app.tasks.tasks[-1]) == "sent"

    emails = [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in outbox(app)]
    args = [json.loads(e["X-OIE-Custom-Args"]) for e in emails]
    assert sorted(a.get("variant_id", "") for a in args) == ["", "", "B", "B"]
    messages = app.firestore.collection("tenants").document("acme").collection("outbound_messages").stream()
    assert sorted(str(m.to_dict()["variant_id"]) for m in messages) == ["B", "B", "None", "None"]
    rows = app.warehouse.sql(
        "select to_node, variant_id from campaign_transitions where trigger = 'sent' order by variant_id nulls first"
    )
    assert [r["variant_id"] for r in rows] == [None, None, "B", "B"]
    moved = app.warehouse.sql("select count(*) as n from campaign_transitions where trigger = 'page_visit'")
    assert moved == [{"n": 2}]
