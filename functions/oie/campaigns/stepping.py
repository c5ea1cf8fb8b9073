"""A due send step in one send transaction, on a `SendSteps` store: the one send path.

Round trips of a send step (docs/sending-limits.md): the step's read (state, controls and its
scheduled action), the send transaction's one batched get (state and controls again, sender,
limits, claim, suppression), its one commit (the claim and one from every limit, or the
state's change), then, after the provider, one write of its outcome with the state's next
step. A limit this process knows is full defers the step in the transaction's commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from oie.campaigns import engine, sending, variants
from oie.campaigns.control import verdict
from oie.campaigns.limits import Rule, rules_for
from oie.campaigns.models import ContactCampaign, Controls
from oie.campaigns.plan import Plan, SendNode
from oie.campaigns.ports import Commit, Seen
from oie.campaigns.send_step import SendStep
from oie.logs import get_logger

if TYPE_CHECKING:
    from oie.campaigns.service import CampaignService

log = get_logger(__name__)
Decide = Callable[[Plan, ContactCampaign, Controls], engine.Decision]


class _Limited(Exception):
    """A sending limit refused the claim (everything taken was given back)."""

    def __init__(self, until: datetime, rule: str) -> None:
        super().__init__(rule)
        self.until, self.rule = until, rule


def may_send(state: ContactCampaign | None, controls: Controls, key: str) -> bool:
    """The step may still send: active, its step still pending, nothing paused or stopped."""
    return (
        state is not None
        and state.status == "active"
        and state.pending is not None
        and state.pending.key == key
        and verdict(controls, state).state == "running"
    )


@dataclass
class _InStep:
    """OutboundMessages for `sending.deliver` inside one send step: the claim is the transaction's
    commit (with the limits), the provider's outcome is kept for the step's one last write."""

    step: SendStep
    rules: Sequence[Rule]
    now: datetime
    existing: dict[str, Any] | None
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, tenant_id: str, message_id: str) -> dict[str, Any] | None:
        return self.existing

    def claim(self, tenant_id: str, message_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        if self.existing is not None:
            return self.existing
        exhausted = self.step.claim(doc, self.rules, self.now)
        if exhausted is not None:
            raise _Limited(*exhausted)
        return None

    def update(self, tenant_id: str, message_id: str, fields: dict[str, Any]) -> None:
        self.fields.update(fields)

    def release(self, tenant_id: str, message_id: str) -> None:
        self.step.release()


def send(svc: CampaignService, plan: Plan, first: Seen, order: engine.SendOrder) -> str:
    """Run a due send step (`first`: the step's read) in one send transaction; its outcome."""
    assert first.state is not None
    state, key, now = first.state, order.key, svc.clock.now()
    node = plan.node(order.node_id)
    assert isinstance(node, SendNode)
    tenant = svc.tenants.get(state.tenant_id)
    if tenant is None:
        return _change(
            svc, state, key, lambda p, s, c: engine.on_blocked(p, s, key, "failed", "tenant is gone", now), first
        )
    dedup = sending.dedup_key(state, node.id)
    message_id = sending.message_id_for(svc.message_key, dedup)
    step = svc.steps.open(
        state.tenant_id, state.contact_campaign_id, state.sender_id, message_id, state.channel, state.contact.email
    )
    try:
        return _in_step(svc, step, tenant, node, key, dedup, message_id, now)
    finally:
        step.close()


def _change(
    svc: CampaignService, state: ContactCampaign, key: str, decide: Decide, seen: Seen, write: Any = None
) -> str:
    return svc.change(state.tenant_id, state.contact_campaign_id, key, decide, seen, write)


def _in_step(
    svc: CampaignService,
    step: SendStep,
    tenant: Any,
    node: SendNode,
    key: str,
    dedup: str,
    message_id: str,
    now: datetime,
) -> str:
    from oie.campaigns.service import UNVERIFIED_RETRY, StepNotReady

    seen, inputs = step.seen, step.inputs
    state = seen.state

    def decided(decide: Decide) -> str:
        """A decision written by the send transaction's own commit."""
        assert state is not None
        return _change(svc, state, key, decide, seen, step.write)

    if state is None or not may_send(state, seen.controls, key):
        # Paused, stopped or superseded since the step's read: hold it, end it, or nothing.
        if state is None:
            step.close()
            return "unknown_contact_campaign"
        return decided(lambda p, s, c: engine.on_due(p, s, key, now, verdict(c, s)))
    sender, claimed = inputs.sender, inputs.message
    if sender is None or sender.verification != "verified":
        reason = f"sender {state.sender_id!r} is not verified"
        log.error(
            "cannot send yet",
            extra={"tenant_id": state.tenant_id, "contact_campaign_id": state.contact_campaign_id, "reason": reason},
        )
        until = now + UNVERIFIED_RETRY
        return decided(lambda p, s, c: engine.on_defer(p, s, key, until, reason, now))
    rules: list[Rule] = []
    if claimed is None:
        if inputs.suppressed:
            return decided(lambda p, s, c: engine.on_blocked(p, s, key, "suppressed", "address suppressed", now))
        warmup = svc.senders.warmup(state.tenant_id, sender.ip_pool) if sender.ip_pool else None
        rules = rules_for(state.tenant_id, sender, state.contact.email, inputs.limits, warmup, now)
        full = step.known_full(rules, now)
        if full is not None:
            until, rule = full
            return decided(lambda p, s, c: engine.on_defer(p, s, key, until, f"limit {rule}", now))
    else:
        step.close()  # an earlier delivery's claim decides: this transaction writes nothing
    # A message already claimed keeps the variant it was composed with; else the winner, if any.
    chosen = (claimed or {}).get("variant_id") or svc._winner(state, node)
    variant_id, template = variants.assign(node, state.contact_campaign_id, chosen)
    email = sending.compose(
        tenant,
        sender,
        state,
        node,
        message_id,
        svc.links,
        message_id_header=svc.message_id_header,
        template=template,
        variant_id=variant_id,
    )
    rfc_id = sending.rfc_message_id(message_id, sender, message_id_header=svc.message_id_header)
    messages = _InStep(step, rules, now, claimed)
    try:
        result = sending.deliver(messages, svc.mailer, email, state, node.id, dedup, rfc_id, now, variant_id)
    except _Limited as limited:
        # The claim's commit wrote no state: the step's read is still current, if nothing else wrote.
        until, rule = limited.until, limited.rule
        return _change(svc, state, key, lambda p, s, c: engine.on_defer(p, s, key, until, f"limit {rule}", now), seen)
    if result.outcome == "in_flight":
        raise StepNotReady(f"message {message_id} is being sent by another delivery")

    def finish(seen_: Seen, commit: Commit | None) -> bool:
        return step.finish(seen_, commit, messages.fields)

    if result.outcome == "refused":
        reason = f"provider refused message {message_id}: {result.error}"[:500]
        return _change(
            svc, state, key, lambda p, s, c: engine.on_blocked(p, s, key, "failed", reason, now), seen, finish
        )
    sent_at = result.sent_at or now
    return _change(
        svc,
        state,
        key,
        lambda p, s, c: engine.on_sent(p, s, key, message_id, sent_at, now, variant_id),
        seen,
        finish,
    )
