"""The send step's port in memory, and the real CampaignService assembled on the fakes.

`MemorySendSteps` behaves as FirestoreSendSteps does, so unit tests run the one send path
production runs (oie.campaigns.stepping), not a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from oie.campaigns.limits import Rule
from oie.campaigns.models import SenderIdentity
from oie.campaigns.ports import Commit, Seen
from oie.campaigns.send_step import SendInputs
from oie.campaigns.sending import Links
from oie.campaigns.service import CampaignService
from oie.errors import BackendUnavailable
from oie.suppressions.models import Channel
from oie.suppressions.store import MemorySuppressions
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeTenantStore, FakeWarehouse, RecordingQueue
from tests.unit.campaigns.factories import T0, make_contact
from tests.unit.campaigns.fakes import (
    MemoryContacts,
    MemoryLimiter,
    MemoryMessages,
    MemoryPlans,
    MemorySenders,
    MemoryStates,
    RecordingMailer,
)


class MemorySendStep:
    """oie.campaigns.send_step.SendStep in memory, as FirestoreSendStep behaves: what `open` read is the
    transaction's; its one commit writes either the state's change or the message's claim with a take
    from every limit (both, or neither, when a limit is full); `open` says the transaction still holds."""

    def __init__(self, owner: MemorySendSteps, tenant_id: str, ccid: str, message_id: str, inputs: SendInputs):
        self.owner, self.tenant_id, self.message_id = owner, tenant_id, message_id
        self.seen = owner.states.read(tenant_id, ccid)
        self.inputs = inputs
        self.open = True

    def known_full(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        return self.owner.limiter.known_full(rules, now)

    def write(self, seen: Seen, commit: Commit | None) -> bool:
        if commit is None or not self.open:
            self.close()
            return False
        self.open = False
        return self.owner.states.change_seen(seen, commit)

    def claim(self, doc: dict[str, Any], rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        self.open = False
        if self.owner.messages.get(self.tenant_id, self.message_id) is not None:
            # Firestore's create fails the commit: nothing is taken, and the task is retried.
            raise BackendUnavailable(f"message {self.message_id} was claimed by another delivery")
        exhausted = self.owner.limiter.acquire(rules, now)
        if exhausted is None:
            self.owner.messages.claim(self.tenant_id, self.message_id, doc)
        return exhausted

    def release(self) -> None:
        self.owner.messages.release(self.tenant_id, self.message_id)

    def finish(self, seen: Seen, commit: Commit | None, fields: dict[str, Any]) -> bool:
        written = commit is not None and self.owner.states.change_seen(seen, commit)
        if fields:  # with the state's change, or alone when the state changed since `seen`
            self.owner.messages.update(self.tenant_id, self.message_id, fields)
        return written

    def close(self) -> None:
        self.open = False


class MemorySendSteps:
    """oie.campaigns.send_step.SendSteps over the memory stores; `opened` keeps every step it began."""

    def __init__(
        self,
        states: MemoryStates,
        senders: MemorySenders,
        messages: MemoryMessages,
        limiter: MemoryLimiter,
        suppressions: MemorySuppressions,
    ) -> None:
        self.states, self.senders, self.messages = states, senders, messages
        self.limiter, self.suppressions = limiter, suppressions
        self.opened: list[MemorySendStep] = []

    def open(
        self, tenant_id: str, ccid: str, sender_id: str, message_id: str, channel: Channel, address: str
    ) -> MemorySendStep:
        inputs = SendInputs(
            sender=self.senders.get(tenant_id, sender_id),
            limits=self.senders.limits(tenant_id),
            message=self.messages.get(tenant_id, message_id),
            suppressed=self.suppressions.is_suppressed(tenant_id, channel, address),
        )
        step = MemorySendStep(self, tenant_id, ccid, message_id, inputs)
        self.opened.append(step)
        return step


SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


def memory_service(**ports: Any) -> CampaignService:
    """The real CampaignService on in-memory ports (tenant acme, Ada, sender sdr, at T0); `ports` replace
    any of them. Its send steps run over the same states, senders, `messages`, `limiter` and `suppressions`."""
    states = ports.pop("states") if "states" in ports else MemoryStates()
    senders = ports.pop("senders") if "senders" in ports else MemorySenders(SENDER)
    steps = MemorySendSteps(
        states,
        senders,
        ports.pop("messages") if "messages" in ports else MemoryMessages(),
        ports.pop("limiter") if "limiter" in ports else MemoryLimiter(),
        ports.pop("suppressions") if "suppressions" in ports else MemorySuppressions(),
    )
    defaults: dict[str, Any] = {
        "plans": MemoryPlans(),
        "contacts": MemoryContacts(make_contact()),
        "tenants": FakeTenantStore(make_tenant(reply_domain="reply.acme.com")),
        "tasks": RecordingQueue(),
        "warehouse": FakeWarehouse(),
        "mailer": RecordingMailer(),
        "clock": FakeClock(T0),
        "links": Links("https://links.acme.com", "https://fn.acme.com", b"u" * 32),
        "message_key": b"m" * 32,
    }
    return CampaignService(states=states, senders=senders, steps=steps, **(defaults | ports))
