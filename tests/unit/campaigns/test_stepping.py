"""A send step in one send transaction (oie.campaigns.stepping) on in-memory ports."""

from datetime import timedelta

import pytest

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.service import StepPayload
from oie.errors import BackendUnavailable
from oie.suppressions.models import Suppression
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.campaigns.send_fakes import memory_service

CONTACTS = [make_contact(lead_id=f"ld_000000000000000{n}", email=f"p{n}@example.com") for n in range(1, 4)]


def service(hourly_limit=60, verification="verified"):
    sender = SenderIdentity(
        sender_id="sdr", from_email="sam@acme.com", verification=verification, hourly_limit=hourly_limit
    )
    return memory_service(senders=fakes.MemorySenders(sender), contacts=fakes.MemoryContacts(*CONTACTS))


@pytest.fixture
def svc():
    return service()


def first_steps(svc):
    svc.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    return [StepPayload.model_validate(t.payload) for t in svc.tasks.tasks]


def pending_reason(svc, n):
    return svc.states.get("acme", f"q1_{CONTACTS[n].lead_id}_email").pending.reason


def test_a_send_step_sends_once_and_records_the_outcome_with_its_next_step(svc):
    step = first_steps(svc)[0]
    assert svc.run_step(step) == "sent"
    (message,) = svc.steps.messages.items.values()
    assert message["status"] == "sent" and message["provider_message_id"] == "sg-1"
    state = svc.states.get("acme", step.contact_campaign_id)
    assert state.last_message_id == message["message_id"] and state.pending.kind != "send"
    assert svc.tasks.tasks[-1].payload["key"] == state.pending.key


def test_a_redelivered_send_step_changes_nothing_and_opens_no_send_transaction(svc):
    step = first_steps(svc)[0]
    svc.run_step(step)
    assert svc.run_step(step) == "superseded"
    assert len(svc.mailer.sent) == 1 and len(svc.steps.opened) == 1


def test_a_limit_refusing_the_claim_undoes_it_and_defers_and_the_next_step_defers_without_a_claim():
    svc = service(hourly_limit=1)
    steps = first_steps(svc)
    assert [svc.run_step(s) for s in steps] == ["sent", "deferred", "deferred"]
    assert len(svc.mailer.sent) == 1 and len(svc.steps.messages.items) == 1  # the refused claim was undone
    assert pending_reason(svc, 1) == pending_reason(svc, 2) == "limit acme-sender-sdr-h"
    next_hour = T0.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert all(svc.states.get("acme", s.contact_campaign_id).pending.due_at >= next_hour for s in steps[1:])


def test_a_suppressed_address_ends_its_campaign_in_the_send_transaction_without_a_claim(svc):
    svc.steps.suppressions.add(
        Suppression(tenant_id="acme", address=CONTACTS[0].email, reason="bounce", source="manual", created_at=T0)
    )
    step = first_steps(svc)[0]
    assert svc.run_step(step) == "suppressed"
    assert svc.mailer.sent == [] and svc.steps.messages.items == {} and not svc.steps.opened[0].open


def test_an_unverified_sender_defers_the_step_an_hour():
    svc = service(verification="pending")
    step = first_steps(svc)[0]
    assert svc.run_step(step) == "deferred"
    assert svc.states.get("acme", step.contact_campaign_id).pending.due_at >= T0 + timedelta(hours=1)
    assert svc.mailer.sent == [] and svc.steps.messages.items == {}


def test_a_provider_outage_releases_the_claim_so_the_retry_sends_once(svc):
    step = first_steps(svc)[0]
    svc.mailer.fail_with = BackendUnavailable("provider down")
    with pytest.raises(BackendUnavailable):
        svc.run_step(step)
    assert svc.steps.messages.items == {}
    svc.mailer.fail_with = None
    assert svc.run_step(step) == "sent" and len(svc.mailer.sent) == 1


def test_a_claim_made_by_another_delivery_after_the_transactions_read_is_retried_taking_no_limit(svc):
    step = first_steps(svc)[0]
    opener = svc.steps.open

    def claimed_meanwhile(*args):
        opened = opener(*args)
        svc.steps.messages.items[args[3]] = {"status": "queued", "created_at": T0}  # args[3]: the message id
        return opened

    svc.steps.open = claimed_meanwhile
    with pytest.raises(BackendUnavailable):
        svc.run_step(step)
    assert svc.mailer.sent == [] and svc.steps.limiter.used == {}
    assert svc.states.get("acme", step.contact_campaign_id).pending.key == step.key  # still due: the retry decides


def test_a_limit_seen_full_defers_only_until_its_window_ends():
    svc = service(hourly_limit=1)
    steps = first_steps(svc)
    assert [svc.run_step(s) for s in steps] == ["sent", "deferred", "deferred"]
    svc.clock.advance(hours=1)
    again = [StepPayload.model_validate(t.payload) for t in svc.tasks.tasks[-2:]]
    assert [svc.run_step(s) for s in again] == ["sent", "deferred"]
    assert len(svc.mailer.sent) == 2
