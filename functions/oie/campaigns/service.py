"""Running campaigns: start them, run due steps, apply events; every change one transaction.

Each due step is one Cloud Task named by the step's key. A step's task is enqueued inside
the transaction that schedules it, so it can arrive before that transaction commits: a
task whose version the state has not reached yet answers "retry" (503) until it has.
Pause and stop (control.py) are read with the state, and again where a send claims its message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from oie import queues
from oie.campaigns import engine, sending, variants
from oie.campaigns.contracts import EngineEvent
from oie.campaigns.control import verdict
from oie.campaigns.limits import rules_for
from oie.campaigns.models import (
    ActionStatus,
    Contact,
    ContactCampaign,
    Controls,
    ScheduledAction,
    SenderIdentity,
    TransitionRecord,
    contact_campaign_id,
)
from oie.campaigns.plan import Plan, SendNode, validate_plan
from oie.campaigns.ports import (
    BatchTaskQueue,
    CampaignStates,
    Commit,
    ContactSource,
    Decide,
    Experiments,
    OutboundMessages,
    Planner,
    PlanVersions,
    RateLimiter,
    Seen,
    SenderStore,
)
from oie.campaigns.send_reads import PortReads, SendReads
from oie.campaigns.watch import IntentWatch, waits_on_pixel
from oie.errors import BackendUnavailable, Conflict, InputError, NotFound
from oie.logs import get_logger
from oie.ports import Clock, Mailer, Task, TaskQueue, Warehouse
from oie.suppressions.store import SuppressionStore

log = get_logger(__name__)
ORPHAN_AFTER = timedelta(hours=1)  # a task whose transaction never committed is dropped after this
UNVERIFIED_RETRY = timedelta(hours=1)
START_CHUNK = 1000  # contacts a chunk: the states store commits them in a few batches at once


def sender_index(ccid: str, senders: int) -> int:
    """A stable mailbox per contact campaign, spread evenly (ids all end in the channel, so hash them)."""
    return int.from_bytes(hashlib.sha256(ccid.encode()).digest()[:8], "big") % senders


class StepNotReady(BackendUnavailable):
    """The step cannot run yet (its transaction has not committed, or its send is in flight)."""


class _Held(Exception):
    """The send's claim was refused: the contact is paused or stopped, or the step superseded."""


@dataclass
class _GatedMessages:
    """OutboundMessages whose claim also checks, in the same transaction, that the step may still send.

    That transaction is the send's moment: a pause or stop committed before it stops the send,
    one committed after it comes after the send.
    """

    inner: OutboundMessages
    states: CampaignStates
    ccid: str
    key: str

    def may_send(self, state: ContactCampaign | None, controls: Controls) -> bool:
        return (
            state is not None
            and state.status == "active"
            and state.pending is not None
            and state.pending.key == self.key
            and verdict(controls, state).state == "running"
        )

    def get(self, tenant_id: str, message_id: str) -> dict[str, Any] | None:
        return self.inner.get(tenant_id, message_id)

    def claim(self, tenant_id: str, message_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        allowed, existing = self.states.claim(tenant_id, self.ccid, message_id, doc, self.may_send)
        if not allowed:
            raise _Held(message_id)
        return existing

    def update(self, tenant_id: str, message_id: str, fields: dict[str, Any]) -> None:
        self.inner.update(tenant_id, message_id, fields)

    def release(self, tenant_id: str, message_id: str) -> None:
        self.inner.release(tenant_id, message_id)


class StepPayload(BaseModel):
    """What a `campaign_step` task carries for a due step."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str = "step"
    tenant_id: str
    contact_campaign_id: str
    key: str
    version: int
    due_at: datetime


@dataclass(frozen=True)
class _Start:
    """One contact's start, decided but not yet written."""

    plan: Plan
    decision: engine.Decision
    action: ScheduledAction | None


def _chunks(items: Iterable[Contact], size: int) -> Iterator[list[Contact]]:
    batch: list[Contact] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _untouched_since_start(state: ContactCampaign) -> bool:
    """A stored contact campaign nothing has moved since its start (its first task may be missing)."""
    return (
        state.status == "active"
        and not state.held
        and state.pending is not None
        and state.updated_at == state.created_at
    )


@dataclass
class StartReport:
    started: int = 0
    already_running: int = 0
    plan_versions: list[str] = field(default_factory=list)


@dataclass
class CampaignService:
    states: CampaignStates
    plans: PlanVersions
    senders: SenderStore
    limiter: RateLimiter
    messages: OutboundMessages
    contacts: ContactSource
    tenants: Any  # TenantStore or its read-through cache: both have get(tenant_id)
    suppressions: SuppressionStore
    tasks: TaskQueue
    warehouse: Warehouse
    mailer: Mailer
    clock: Clock
    links: sending.Links
    message_key: bytes
    message_id_header: bool = False
    # Who waits on a pixel trigger (oie.campaigns.watch): /track hands visits over only for them.
    watch: IntentWatch | None = None
    # Winners of A/B/n tests; None: every contact keeps its weighted variant.
    experiments: Experiments | None = None
    # A send step's sender, limits, claim and suppression in one read; None: each port in turn.
    reads: SendReads | None = None
    _plan_cache: dict[tuple[str, str], Plan] = field(default_factory=dict)

    # -- starting ------------------------------------------------------------------

    def start_campaign(
        self,
        tenant_id: str,
        campaign_id: str,
        planner: Planner,
        contacts: Iterable[Contact] | None = None,
        sender_ids: Sequence[str] = (),
        progress: Callable[[int], None] = lambda n: None,
    ) -> StartReport:
        """Start a campaign for its contacts (default: every lead imported into it); re-runs are no-ops."""
        if self.tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        for scope in (None, campaign_id):
            if self.states.control(tenant_id, scope).state == "stopped":
                raise Conflict(f"{'campaign ' + campaign_id if scope else 'the tenant'} was stopped", field="campaign")
        senders = [s for s in self.senders.all(tenant_id) if not sender_ids or s.sender_id in sender_ids]
        if not senders:
            raise InputError(f"tenant {tenant_id!r} has no sender identity to send from", field="sender")
        report = StartReport()
        last: tuple[Plan, str] | None = None  # a planner that reuses one plan has it checked and hashed once
        source = self.contacts.contacts(tenant_id, campaign_id) if contacts is None else contacts
        for chunk in _chunks(source, START_CHUNK):
            starts = []
            for contact in chunk:
                plan = planner.plan_for(tenant_id, campaign_id, contact)
                if last is None or last[0] is not plan:
                    validate_plan(plan)
                    last = (plan, self._store_plan(tenant_id, plan, report))
                starts.append(self._first_step(tenant_id, campaign_id, contact, plan, last[1], senders))
            started = self._start_many(starts)
            report.started += started
            report.already_running += len(chunk) - started
            progress(len(chunk))
        return report

    def start_contact(
        self,
        tenant_id: str,
        campaign_id: str,
        contact: Contact,
        plan: Plan,
        senders: Sequence[SenderIdentity],
        report: StartReport | None = None,
    ) -> bool:
        """Start one contact on its own plan; False (nothing written) when it already runs.

        The planner-agnostic half of a start: a language-model plan task calls it once the plan is ready.
        """
        validate_plan(plan)
        version = self._store_plan(tenant_id, plan, report or StartReport())
        start = self._first_step(tenant_id, campaign_id, contact, plan, version, senders)
        created = self.states.create(start.decision.state, start.action)
        self._watch([start])
        if not created:
            return False
        self._begin([start])
        return True

    def _first_step(
        self,
        tenant_id: str,
        campaign_id: str,
        contact: Contact,
        plan: Plan,
        version: str,
        senders: Sequence[SenderIdentity],
    ) -> _Start:
        now = self.clock.now()
        ccid = contact_campaign_id(campaign_id, contact.lead_id)
        sender = senders[sender_index(ccid, len(senders))]
        state = ContactCampaign(
            tenant_id=tenant_id,
            contact_campaign_id=ccid,
            campaign_id=campaign_id,
            contact=contact,
            sender_id=sender.sender_id,
            plan_version=version,
            created_at=now,
            updated_at=now,
        )
        decision = engine.start(plan, state, now)
        return _Start(plan, decision, self._action_for(decision.state))

    def _start_many(self, starts: Sequence[_Start]) -> int:
        """Create a chunk of contact campaigns in batched writes, then their tasks and transitions.

        Safe to re-run after a crash anywhere in it: a contact already stored is never created again,
        and one stored but not yet moved since its start gets its (named, so never doubled) task again.
        """
        stored = self.states.create_many([(s.decision.state, s.action) for s in starts])
        self._watch(starts)
        fresh = [s for s, existing in zip(starts, stored, strict=True) if existing is None]
        self._begin(fresh)
        # Stored by a run cut short before its tasks: the same task names again (refused if they exist),
        # and the same transition ids (the warehouse keeps the first).
        again: list[ScheduledAction] = []
        replay: list[TransitionRecord] = []
        for start, existing in zip(starts, stored, strict=True):
            if existing is not None and _untouched_since_start(existing):
                action = self._action_for(existing)
                again.extend([action] if action is not None else [])
                if existing.version == start.decision.state.version:
                    replay.extend(start.decision.transitions)
        self._enqueue_many(again)
        self.record(replay)
        return len(fresh)

    def _watch(self, starts: Sequence[_Start]) -> None:
        # Also when it already ran: a start that failed after its create wrote no entry.
        if self.watch is None:
            return
        for start in starts:
            state = start.decision.state
            if state.contact.tracking_id and waits_on_pixel(start.plan):
                self.watch.add(
                    state.tenant_id,
                    state.contact.tracking_id,
                    state.contact.lead_id,
                    state.contact_campaign_id,
                    state.created_at,
                )

    def _begin(self, starts: Sequence[_Start]) -> None:
        """Enqueue the first steps of contact campaigns just created, then record their transitions."""
        self._enqueue_many([start.action for start in starts if start.action is not None])
        self.record([t for start in starts for t in start.decision.transitions])

    def _store_plan(self, tenant_id: str, plan: Plan, report: StartReport) -> str:
        version = plan.content_hash()
        if (tenant_id, version) not in self._plan_cache:
            self.plans.put(tenant_id, plan)
            self._plan_cache[(tenant_id, version)] = plan
        if version not in report.plan_versions:
            report.plan_versions.append(version)
        return version

    def plan_of(self, state: ContactCampaign) -> Plan:
        cached = self._plan_cache.get((state.tenant_id, state.plan_version))
        if cached is None:
            cached = self.plans.get(state.tenant_id, state.plan_version)
            if cached is None:
                raise NotFound(f"plan version {state.plan_version} is missing", field="plan_version")
            self._plan_cache[(state.tenant_id, state.plan_version)] = cached
        return cached

    # -- steps and events ------------------------------------------------------------

    def run_step(self, step: StepPayload) -> str:
        """Run one due step; a duplicate, stale or superseded delivery changes nothing."""
        now = self.clock.now()
        seen = self.states.read(step.tenant_id, step.contact_campaign_id)
        state, controls = seen.state, seen.controls
        if state is None:
            return "unknown_contact_campaign"
        if state.version < step.version:
            if now - step.due_at > ORPHAN_AFTER:
                log.warning("step never committed; dropped", extra={"key": step.key})
                return "orphaned"
            raise StepNotReady(f"step {step.key} is not committed yet")
        plan = self.plan_of(state)
        decision = engine.on_due(plan, state, step.key, now, verdict(controls, state))
        if decision.send is None:
            return self.change(
                step.tenant_id,
                step.contact_campaign_id,
                step.key,
                lambda p, s, c: engine.on_due(p, s, step.key, self.clock.now(), verdict(c, s)),
            )
        return self._send(plan, seen, state, decision.send)

    def apply_event(self, event: EngineEvent) -> str:
        """Apply one engine event (from the webhooks function); duplicates change nothing."""
        happening = engine.Happening(event.event_key, event.type, event.occurred_at, event.message_id)
        return self.change(
            event.tenant_id,
            event.contact_campaign_id,
            None,
            lambda plan, state, _: engine.on_event(plan, state, happening, self.clock.now()),
        )

    def _send(self, plan: Plan, seen: Seen, state: ContactCampaign, order: engine.SendOrder) -> str:
        now = self.clock.now()
        tenant_id, ccid, key = state.tenant_id, state.contact_campaign_id, order.key
        node = plan.node(order.node_id)
        assert isinstance(node, SendNode)
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            return self.change(
                tenant_id,
                ccid,
                key,
                lambda p, s, c: engine.on_blocked(p, s, key, "failed", "tenant is gone", now),
                seen,
            )
        dedup = sending.dedup_key(state, node.id)
        message_id = sending.message_id_for(self.message_key, dedup)
        reads = self.reads or PortReads(self.senders, self.messages, self.suppressions)
        inputs = reads.read(tenant_id, state.sender_id, message_id, state.channel, state.contact.email)
        sender, claimed = inputs.sender, inputs.message
        if sender is None or sender.verification != "verified":
            reason = f"sender {state.sender_id!r} is not verified"
            log.error("cannot send yet", extra={"tenant_id": tenant_id, "contact_campaign_id": ccid, "reason": reason})
            until = now + UNVERIFIED_RETRY
            return self.change(
                tenant_id, ccid, key, lambda p, s, c: engine.on_defer(p, s, key, until, reason, now), seen
            )
        if claimed is None:
            if inputs.suppressed:
                return self.change(
                    tenant_id,
                    ccid,
                    key,
                    lambda p, s, c: engine.on_blocked(p, s, key, "suppressed", "address suppressed", now),
                    seen,
                )
            warmup = self.senders.warmup(tenant_id, sender.ip_pool) if sender.ip_pool else None
            rules = rules_for(tenant_id, sender, state.contact.email, inputs.limits, warmup, now)
            exhausted = self.limiter.acquire(rules, now)
            if exhausted is not None:
                until, rule = exhausted
                return self.change(
                    tenant_id, ccid, key, lambda p, s, c: engine.on_defer(p, s, key, until, f"limit {rule}", now), seen
                )
        # A message already claimed keeps the variant it was composed with; else the winner, if any.
        chosen = (claimed or {}).get("variant_id") or self._winner(state, node)
        variant_id, template = variants.assign(node, ccid, chosen)
        email = sending.compose(
            tenant,
            sender,
            state,
            node,
            message_id,
            self.links,
            message_id_header=self.message_id_header,
            template=template,
            variant_id=variant_id,
        )
        rfc_id = sending.rfc_message_id(message_id, sender, message_id_header=self.message_id_header)
        gated = _GatedMessages(self.messages, self.states, ccid, key)
        try:
            result = sending.deliver(gated, self.mailer, email, state, node.id, dedup, rfc_id, now, variant_id)
        except _Held:
            # Paused, stopped or superseded since the step was read: hold it, end it, or nothing.
            return self.change(tenant_id, ccid, key, lambda p, s, c: engine.on_due(p, s, key, now, verdict(c, s)))
        if result.outcome == "in_flight":
            raise StepNotReady(f"message {message_id} is being sent by another delivery")
        if result.outcome == "refused":
            reason = f"provider refused message {message_id}: {result.error}"[:500]
            return self.change(
                tenant_id, ccid, key, lambda p, s, c: engine.on_blocked(p, s, key, "failed", reason, now), seen
            )
        sent_at = result.sent_at or now
        return self.change(
            tenant_id, ccid, key, lambda p, s, c: engine.on_sent(p, s, key, message_id, sent_at, now, variant_id), seen
        )

    def _winner(self, state: ContactCampaign, node: SendNode) -> str | None:
        """The node's experiment winner; read only for nodes with variants."""
        if not node.variants or self.experiments is None:
            return None
        return self.experiments.winner(state.tenant_id, state.campaign_id, node.id)

    def change(
        self,
        tenant_id: str,
        ccid: str,
        action_key: str | None,
        decide: Callable[[Plan, ContactCampaign, Controls], engine.Decision],
        seen: Seen | None = None,
    ) -> str:
        """Apply a decision to the stored state in one transaction; enqueue its next step.

        `seen`, for a `decide` that does not read the controls: the state as the caller read it,
        written in one precondition write if nothing changed it since (else the transaction).
        """
        outcome: list[engine.Decision | str] = []

        def in_transaction(
            state: ContactCampaign | None, action: ScheduledAction | None, controls: Controls
        ) -> Commit | None:
            outcome[:] = ["unknown_contact_campaign"]
            if state is None:
                return None
            decision = decide(self.plan_of(state), state, controls)
            outcome[:] = [decision]
            if not decision.changed:
                if (
                    action is not None
                    and action.status == "scheduled"
                    and (state.pending is None or state.pending.key != action.key)
                ):
                    return Commit(state=state, close=(action.key, "superseded"))
                return None
            old, new = state.pending, decision.state.pending
            new_action = self._action_for(decision.state) if new and (old is None or old.key != new.key) else None
            close: tuple[str, ActionStatus] | None = None
            if old is not None and (new is None or old.key != new.key):
                close = (old.key, "done" if old.key == action_key else "superseded")
            elif new is not None and decision.state.held and not state.held:
                close = (new.key, "held")  # not overdue while held: campaign_requeue leaves it alone
            if new_action is not None:
                self._enqueue(new_action)
            return Commit(state=decision.state, new_action=new_action, close=close)

        if seen is None or not self._change_seen(seen, in_transaction):
            self.states.change(tenant_id, ccid, action_key, in_transaction)
        result = outcome[0] if outcome else "unknown_contact_campaign"
        if isinstance(result, str):
            return result
        if result.changed:
            self._record(result)
        return result.outcome

    def _change_seen(self, seen: Seen, decide: Decide) -> bool:
        """Decide on the state as read and write it if it is unchanged; False: nothing was written."""
        if seen.state is None:
            return False
        commit = decide(seen.state, None, seen.controls)
        if commit is None or commit.state.version == seen.state.version:
            return False  # nothing to write, or a step to close: the transaction reads the action
        return self.states.change_seen(seen, commit)

    def _action_for(self, state: ContactCampaign) -> ScheduledAction | None:
        pending = state.pending
        if pending is None:
            return None
        return ScheduledAction(
            key=pending.key,
            tenant_id=state.tenant_id,
            contact_campaign_id=state.contact_campaign_id,
            kind=pending.kind,
            node_id=pending.node_id,
            due_at=pending.due_at,
            version=state.version,
            attempt=pending.attempt,
            task_name=pending.key,
            created_at=state.updated_at,
            reason=pending.reason,
        )

    def _enqueue(self, action: ScheduledAction, name: str | None = None) -> None:
        self.tasks.enqueue(self._task(action, name))

    def _enqueue_many(self, actions: Sequence[ScheduledAction]) -> None:
        """Enqueue steps together where the queue can (Cloud Tasks: several create calls in flight)."""
        tasks = [self._task(action) for action in actions]
        if not tasks:
            return
        if isinstance(self.tasks, BatchTaskQueue):
            self.tasks.enqueue_many(tasks)
        else:
            for task in tasks:
                self.tasks.enqueue(task)

    def _task(self, action: ScheduledAction, name: str | None = None) -> Task:
        payload = StepPayload(
            tenant_id=action.tenant_id,
            contact_campaign_id=action.contact_campaign_id,
            key=action.key,
            version=action.version,
            due_at=action.due_at,
        ).model_dump(mode="json")
        return Task(
            queue=queues.CAMPAIGN_STEPS,
            function="campaign_step",
            payload=payload,
            name=name or action.task_name,
            schedule_at=action.due_at,
        )

    def _record(self, decision: engine.Decision) -> None:
        self.record(decision.transitions)

    def record(self, transitions: Sequence[TransitionRecord]) -> None:
        """Append rows to `campaign_transitions`; an outage logs them in full instead."""
        rows = [r.model_dump() for r in transitions]
        if not rows:
            return
        try:
            self.warehouse.insert_rows("campaign_transitions", rows, id_field="transition_id")
        except BackendUnavailable as exc:
            log.error(
                "transitions not written; logged in full for recovery", extra={"transitions": rows, "error": str(exc)}
            )

    # -- upkeep ------------------------------------------------------------------------

    def requeue_overdue(self, older_than: timedelta = timedelta(minutes=15), limit: int = 500) -> int:
        """Enqueue again steps whose task was lost (overdue and still scheduled); the handler de-dups."""
        now = self.clock.now()
        overdue = self.states.overdue(now - older_than, limit)
        for action in overdue:
            self._enqueue(action, name=f"{action.task_name}-r{int(now.timestamp()) // 900}")
        return len(overdue)
