"""The campaign service on in-memory ports: sending, idempotency, suppressions, limits."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from oie.campaigns.contracts import EngineEvent
from oie.campaigns.limits import LimitsConfig
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.sending import Links
from oie.campaigns.service import StepNotReady, StepPayload
from oie.errors import BackendUnavailable, InputError
from oie.suppressions import tokens
from oie.suppressions.models import Suppression
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.campaigns.send_fakes import memory_service

UNSUB_KEY = b"u" * 32
SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


@pytest.fixture
def svc():
    return memory_service(
        senders=fakes.MemorySenders(SENDER), links=Links("https://links.acme.com", "https://fn.acme.com", UNSUB_KEY)
    )


def start(svc, **kwargs):
    return svc.start_campaign("acme", "q1", TemplatePlanner(make_plan()), **kwargs)


def run_last(svc):
    return svc.run_step(StepPayload.model_validate(svc.tasks.tasks[-1].payload))


def event(kind, message_id, key, at=T0):
    return EngineEvent(
        event_key=key,
        tenant_id="acme",
        contact_campaign_id="q1_ld_0000000000000001_email",
        message_id=message_id,
        type=kind,
        occurred_at=at,
    )


def test_starting_enqueues_one_named_step_per_contact_and_a_rerun_changes_nothing(svc):
    report = start(svc)
    assert (report.started, report.already_running) == (1, 0)
    (task,) = svc.tasks.tasks
    assert task.queue == "campaign-steps" and task.function == "campaign_step" and task.name == task.payload["key"]
    again = start(svc)
    assert (again.started, again.already_running) == (0, 1) and len(svc.tasks.tasks) == 1
    assert report.plan_versions == again.plan_versions and len(svc.plans.items) == 1


def test_a_due_send_sends_one_email_and_a_duplicate_delivery_sends_nothing(svc):
    start(svc)
    payload = StepPayload.model_validate(svc.tasks.tasks[0].payload)
    assert svc.run_step(payload) == "sent"
    assert svc.run_step(payload) == "superseded"
    assert len(svc.mailer.sent) == 1
    (message,) = svc.steps.messages.items.values()
    assert message["status"] == "sent" and message["dedup_key"] == "acme:ld_0000000000000001:q1:intro:email"
    assert message["provider_message_id"] == "sg-1" and message["node_id"] == "intro"
    timer = svc.tasks.tasks[-1]
    assert timer.schedule_at == T0 + timedelta(days=3) and timer.payload["key"] != payload.key
    rows = svc.warehouse.tables["campaign_transitions"]
    assert [r["trigger"] for r in rows] == ["start", "sent"]


def test_the_email_has_one_click_unsubscribe_reply_to_custom_args_and_tracked_links(svc):
    start(svc)
    run_last(svc)
    (email,) = svc.mailer.sent
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = email.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://fn.acme.com/webhooks/unsubscribe?t=")
    ref = tokens.verify(UNSUB_KEY, parse_qs(urlsplit(url).query)["t"][0])
    assert ref == tokens.UnsubscribeRef(tenant_id="acme", message_id=email.message_id)
    assert "ada@example.com" not in url  # the link names the message, never the address
    assert url in email.text  # visible in the text part
    assert email.reply_to == f"reply+{email.message_id}@reply.acme.com"
    assert email.custom_args == {
        "tenant_id": "acme",
        "contact_campaign_id": "q1_ld_0000000000000001_email",
        "campaign_id": "q1",
        "node_id": "intro",
        "oie_message_id": email.message_id,
    }
    tracked = "https://links.acme.com/go?i=ab3f9k2q&to=https%3A%2F%2Fwww.acme.com%2Fpricing"
    assert tracked in email.text and "https://other.example/x" in email.text
    assert (
        'href="https://links.acme.com/go?i=ab3f9k2q&amp;to=https%3A%2F%2Fwww.acme.com%2Fpricing%3Fa%3D1%26b%3D2"'
        in email.html
    )
    assert 'href="https://other.example/x"' in email.html and "Unsubscribe</a>" in email.html
    assert email.subject == "Hi Ada"


def test_a_suppressed_address_is_never_sent_to(svc):
    start(svc)
    svc.steps.suppressions.add(
        Suppression(tenant_id="acme", address="ADA@example.com", reason="bounce", source="manual", created_at=T0)
    )
    assert run_last(svc) == "suppressed"
    assert svc.mailer.sent == [] and svc.states.get("acme", "q1_ld_0000000000000001_email").status == "suppressed"


def test_an_unsubscribe_event_stops_the_next_send(svc):
    start(svc)
    run_last(svc)
    (email,) = svc.mailer.sent
    assert svc.apply_event(event("click", email.message_id, "evt-click-1")) == "moved"
    followup = StepPayload.model_validate(svc.tasks.tasks[-1].payload)
    assert svc.apply_event(event("unsubscribe", email.message_id, "evt-unsub-1")) == "unsubscribed"
    assert svc.run_step(followup) == "superseded"
    assert len(svc.mailer.sent) == 1


def test_a_duplicate_event_changes_nothing(svc):
    start(svc)
    run_last(svc)
    message_id = svc.mailer.sent[0].message_id
    assert svc.apply_event(event("open", message_id, "evt-open-1")) == "recorded"
    before = svc.states.get("acme", "q1_ld_0000000000000001_email")
    assert svc.apply_event(event("open", message_id, "evt-open-1")) == "duplicate"
    assert svc.states.get("acme", "q1_ld_0000000000000001_email") == before


def test_an_exhausted_limit_reschedules_the_send_instead_of_dropping_it(svc):
    svc.senders.config = LimitsConfig(domain_hourly={"*": 1})
    svc.contacts.items = [make_contact(), make_contact(lead_id="ld_2", email="bob@example.com", tracking_id="zz3f9k2q")]
    start(svc)
    first, second = (StepPayload.model_validate(t.payload) for t in svc.tasks.tasks)
    assert svc.run_step(first) == "sent"
    assert svc.run_step(second) == "deferred"
    retry = svc.tasks.tasks[-1]
    assert retry.schedule_at == T0 + timedelta(hours=1) and retry.payload["contact_campaign_id"].startswith("q1_ld_2")
    state = svc.states.get("acme", retry.payload["contact_campaign_id"])
    assert state.pending.attempt == 1 and state.pending.reason.startswith("limit acme-domain-")
    svc.clock.advance(hours=1)
    assert run_last(svc) == "sent" and len(svc.mailer.sent) == 2


def test_an_unverified_sender_defers_by_an_hour(svc):
    svc.senders.items["sdr"] = SENDER.model_copy(update={"verification": "pending"})
    start(svc)
    assert run_last(svc) == "deferred" and svc.tasks.tasks[-1].schedule_at == T0 + timedelta(hours=1)


def test_a_provider_outage_is_retried_and_then_sends_exactly_once(svc):
    start(svc)
    payload = StepPayload.model_validate(svc.tasks.tasks[0].payload)
    svc.mailer.fail_with = BackendUnavailable("sendgrid answered 503")
    with pytest.raises(BackendUnavailable):
        svc.run_step(payload)
    assert svc.steps.messages.items == {}  # the claim was released: nothing went out
    svc.mailer.fail_with = None
    assert svc.run_step(payload) == "sent" and len(svc.mailer.sent) == 1


def test_a_refused_message_ends_the_campaign_as_failed(svc):
    start(svc)
    svc.mailer.fail_with = InputError("sendgrid refused the message (400)")
    assert run_last(svc) == "failed"
    (message,) = svc.steps.messages.items.values()
    assert message["status"] == "failed"


def test_a_send_in_flight_elsewhere_is_retried_not_repeated(svc):
    start(svc)
    payload = StepPayload.model_validate(svc.tasks.tasks[0].payload)
    svc.mailer.fail_with = AssertionError("must not send")
    state = svc.states.get("acme", payload.contact_campaign_id)
    from oie.campaigns import sending

    message_id = sending.message_id_for(b"m" * 32, sending.dedup_key(state, "intro"))
    svc.steps.messages.items[message_id] = {"status": "queued", "created_at": T0}
    with pytest.raises(StepNotReady):
        svc.run_step(payload)


def test_a_step_from_a_transaction_not_committed_yet_asks_for_a_retry_then_is_dropped_when_old(svc):
    start(svc)
    payload = StepPayload.model_validate(svc.tasks.tasks[0].payload).model_copy(update={"version": 7, "key": "x"})
    with pytest.raises(StepNotReady):
        svc.run_step(payload)
    svc.clock.advance(hours=2)
    assert svc.run_step(payload) == "orphaned"


def test_lost_tasks_of_overdue_steps_are_enqueued_again_under_a_new_name(svc):
    start(svc)
    svc.clock.advance(hours=1)
    assert svc.requeue_overdue() == 1
    original, again = svc.tasks.tasks
    assert again.payload == original.payload and again.name != original.name
    assert run_last(svc) == "sent"


def test_contacts_are_spread_over_every_sender_mailbox():
    from collections import Counter

    from oie.campaigns.models import contact_campaign_id
    from oie.campaigns.starting import sender_index

    picks = Counter(sender_index(contact_campaign_id("c1", f"lead{n}"), 4) for n in range(4000))
    assert set(picks) == {0, 1, 2, 3}
    assert min(picks.values()) > 800  # about 1000 each
    assert sender_index(contact_campaign_id("c1", "lead7"), 4) == sender_index(contact_campaign_id("c1", "lead7"), 4)
