"""The campaign service on in-memory ports: an intent signal moves a contact, and variants are sent and recorded."""

from datetime import UTC, datetime, timedelta

import pytest

from oie.campaigns import engine, sending, variants
from oie.campaigns.contracts import CUSTOM_ARGS, IntentSignal
from oie.campaigns.limits import LimitsConfig
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.sending import Links
from oie.campaigns.service import StepPayload
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0, make_contact, make_intent_plan
from tests.unit.campaigns.send_fakes import memory_service
from tests.unit.campaigns.test_service import SENDER, UNSUB_KEY

CCID = "q1_ld_0000000000000001_email"


@pytest.fixture
def svc():
    return memory_service(
        senders=fakes.MemorySenders(SENDER),
        links=Links("https://links.acme.com", "https://fn.acme.com", UNSUB_KEY),
        experiments=fakes.MemoryExperiments(),
    )


def run_last(svc):
    return svc.run_step(StepPayload.model_validate(svc.tasks.tasks[-1].payload))


def started_and_sent(svc):
    svc.start_campaign("acme", "q1", TemplatePlanner(make_intent_plan()))
    assert run_last(svc) == "sent"


def deliver(svc, signal):
    """As the signal hand-off does: one change per contact campaign, deciding with engine.on_signal."""
    return svc.change("acme", CCID, None, lambda p, s, _: engine.on_signal(p, s, signal, svc.clock.now()))


def pricing_visit(at, key="evt-pricing-0001"):
    return IntentSignal(
        signal_key=key,
        tenant_id="acme",
        type="page_visit",
        occurred_at=at,
        lead_id="ld_0000000000000001",
        url="https://www.acme.com/pricing",
        page_class="pricing",
    )


def test_a_pricing_visit_moves_the_contact_to_the_followup_whose_send_is_due_at_once(svc):
    started_and_sent(svc)
    svc.clock.advance(days=2)
    now = svc.clock.now()
    assert deliver(svc, pricing_visit(now - timedelta(minutes=5))) == "moved"
    task = svc.tasks.tasks[-1]
    assert (task.queue, task.schedule_at, StepPayload.model_validate(task.payload).due_at) == (
        "campaign-steps",
        now,
        now,
    )
    assert deliver(svc, pricing_visit(now - timedelta(minutes=5))) == "duplicate"  # the hand-off retried
    assert run_last(svc) == "sent"
    _intro, followup = svc.mailer.sent
    assert followup.text.startswith(("A Ada", "B Ada"))
    state = svc.states.get("acme", CCID)
    assert state.current_node == "pricing_followup" and state.pending.kind == "timer"


def test_a_pricing_visit_in_quiet_hours_is_sent_when_they_end(svc):
    started_and_sent(svc)
    svc.clock.current = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    assert deliver(svc, pricing_visit(svc.clock.now())) == "moved"
    assert svc.tasks.tasks[-1].schedule_at == datetime(2026, 3, 3, 15, 30, tzinfo=UTC)  # 07:30 PST


def test_the_followup_still_waits_for_an_exhausted_sending_limit(svc):
    svc.senders.config = LimitsConfig(domain_hourly={"*": 1})
    started_and_sent(svc)
    svc.clock.advance(minutes=10)
    assert deliver(svc, pricing_visit(svc.clock.now())) == "moved"
    assert run_last(svc) == "deferred" and len(svc.mailer.sent) == 1
    assert svc.tasks.tasks[-1].schedule_at == T0 + timedelta(hours=1)


def test_the_variant_is_carried_by_custom_args_the_message_and_the_sent_transition(svc):
    started_and_sent(svc)
    intro_email = svc.mailer.sent[0]
    assert "variant_id" not in intro_email.custom_args  # a node without variants sends no variant
    deliver(svc, pricing_visit(T0 + timedelta(hours=1)))
    run_last(svc)
    email = svc.mailer.sent[1]
    variant = email.custom_args["variant_id"]
    assert variant in ("A", "B") and set(email.custom_args) == set(CUSTOM_ARGS)
    assert all(isinstance(value, str) for value in email.custom_args.values())  # SendGrid takes strings only
    assert svc.steps.messages.items[email.message_id]["variant_id"] == variant
    assert svc.steps.messages.items[intro_email.message_id]["variant_id"] is None
    sent_rows = [r for r in svc.warehouse.tables["campaign_transitions"] if r["trigger"] == "sent"]
    assert [r["variant_id"] for r in sent_rows] == [None, variant]


def test_a_winner_is_sent_to_contacts_not_yet_sent(svc):
    svc.experiments.set_winner("acme", "q1", "pricing_followup", "B", {"p_value": 0.01})
    svc.contacts.items = [
        make_contact(lead_id=f"ld_{n:016d}", email=f"c{n}@example.com", tracking_id=f"t{n:07d}") for n in range(12)
    ]
    svc.start_campaign("acme", "q1", TemplatePlanner(make_intent_plan()))
    for task in list(svc.tasks.tasks):
        svc.run_step(StepPayload.model_validate(task.payload))
    for state in svc.states.in_campaign("acme", "q1", 50):
        signal = pricing_visit(T0 + timedelta(hours=1), key=f"evt-{state.contact.lead_id}")
        svc.change("acme", state.contact_campaign_id, None, lambda p, s, _, sig=signal: engine.on_signal(p, s, sig, T0))
        run_last(svc)
    followups = [e for e in svc.mailer.sent if "variant_id" in e.custom_args]
    assert len(followups) == 12 and {e.custom_args["variant_id"] for e in followups} == {"B"}


def test_a_retried_send_keeps_the_variant_it_was_claimed_with(svc):
    started_and_sent(svc)
    deliver(svc, pricing_visit(T0 + timedelta(hours=1)))
    payload = StepPayload.model_validate(svc.tasks.tasks[-1].payload)
    state = svc.states.get("acme", CCID)
    first, _ = variants.assign(make_intent_plan().node("pricing_followup"), CCID, None)
    other = "B" if first == "A" else "A"
    message_id = sending.message_id_for(b"m" * 32, sending.dedup_key(state, "pricing_followup"))
    # A claim from a delivery that died mid-send, before a winner was chosen: counted as sent, as claimed.
    svc.steps.messages.items[message_id] = {
        "status": "queued",
        "created_at": T0 - timedelta(hours=1),
        "variant_id": first,
    }
    svc.experiments.set_winner("acme", "q1", "pricing_followup", other, {})
    assert svc.run_step(payload) == "sent" and len(svc.mailer.sent) == 1
    sent_rows = [r for r in svc.warehouse.tables["campaign_transitions"] if r["trigger"] == "sent"]
    assert sent_rows[-1]["variant_id"] == first


def test_an_appointment_closes_the_campaign_and_nothing_more_is_sent(svc):
    started_and_sent(svc)
    timer = StepPayload.model_validate(svc.tasks.tasks[-1].payload)
    appointment = IntentSignal(
        signal_key="outcome-0001",
        tenant_id="acme",
        type="outcome",
        occurred_at=T0 + timedelta(days=1),
        lead_id="ld_0000000000000001",
        outcome="appointment_set",
        stage="mid_funnel",
    )
    assert deliver(svc, appointment) == "closed"
    svc.clock.advance(days=10)
    assert svc.run_step(timer) == "superseded" and len(svc.mailer.sent) == 1
    last = svc.warehouse.tables["campaign_transitions"][-1]
    assert (last["trigger"], last["status_after"], last["reason"]) == (
        "outcome",
        "closed",
        "outcome appointment_set (mid_funnel) recorded",
    )
