"""Running campaigns: start them, run due steps, apply events; every change one transaction.

Each due step is one Cloud Task named by the step's key. A step's task is enqueued inside
the transaction that schedules it, so it can arrive before that transaction commits: a
task whose version the state has not reached yet answers "retry" (503) until it has.
Pause and stop (control.py) are read with the state, and again where a send claims its message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from oie import queues
from oie.campaigns import engine, sending, starting, stepping
from oie.campaigns.contracts import EngineEvent
from oie.campaigns.control import verdict
from oie.campaigns.models import (
    ActionStatus,
    Contact,
    ContactCampaign,
    Controls,
    ScheduledAction,
    SenderIdentity,
    TransitionRecord,
)
from oie.campaigns.plan import Plan, SendNode
from oie.campaigns.ports import (
    BatchTaskQueue,
    CampaignStates,
    Commit,
    ContactSource,
    Decide,
    Experiments,
    Planner,
    PlanVersions,
    Seen,
    SeenWrite,
    SenderStore,
)
from oie.campaigns.send_step import SendSteps
from oie.campaigns.starting import StartReport
from oie.campaigns.watch import IntentWatch
from oie.errors import BackendUnavailable, NotFound
from oie.logs import get_logger
from oie.ports import Clock, Mailer, Task, TaskQueue, Warehouse

log = get_logger(__name__)
ORPHAN_AFTER = timedelta(hours=1)  # a task whose transaction never committed is dropped after this
UNVERIFIED_RETRY = timedelta(hours=1)


class StepNotReady(BackendUnavailable):
    """The step cannot run yet (its transaction has not committed, or its send is in flight)."""


class StepPayload(BaseModel):
    """What a `campaign_step` task carries for a due step."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str = "step"
    tenant_id: str
    contact_campaign_id: str
    key: str
    version: int
    due_at: datetime


@dataclass
class CampaignService:
    states: CampaignStates
    plans: PlanVersions
    senders: SenderStore
    # A send step's one transaction: its reads, the claim with the sending limits, the outcome.
    steps: SendSteps
    contacts: ContactSource
    tenants: Any  # TenantStore or its read-through cache: both have get(tenant_id)
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
        return starting.start_campaign(self, tenant_id, campaign_id, planner, contacts, sender_ids, progress)

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
        return starting.start_contact(self, tenant_id, campaign_id, contact, plan, senders, report)

    def store_plan(self, tenant_id: str, plan: Plan, report: StartReport) -> str:
        """Store a plan once per process and version (its content hash), noted in the report; the version."""
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
        seen = self.states.read_step(step.tenant_id, step.contact_campaign_id, step.key)
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
            # A hold or a stop is decided in a transaction (a resume or pause must not slip between
            # the controls read and the write); a superseded redelivery, a wait or timers on the read.
            running = verdict(controls, state).state == "running"
            return self.change(
                step.tenant_id,
                step.contact_campaign_id,
                step.key,
                lambda p, s, c: engine.on_due(p, s, step.key, self.clock.now(), verdict(c, s)),
                seen if running or not decision.changed else None,
            )
        return stepping.send(self, plan, seen, decision.send)

    def apply_event(self, event: EngineEvent) -> str:
        """Apply one engine event (from the webhooks function); duplicates change nothing."""
        happening = engine.Happening(event.event_key, event.type, event.occurred_at, event.message_id)
        return self.change(
            event.tenant_id,
            event.contact_campaign_id,
            None,
            lambda plan, state, _: engine.on_event(plan, state, happening, self.clock.now()),
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
        write: SeenWrite | None = None,
    ) -> str:
        """Apply a decision to the stored state in one transaction; enqueue its next step.

        `seen`, for a `decide` that does not read the controls: the state as the caller read it,
        written in one precondition write if nothing changed it since (else the transaction).
        `write`: how to write that (a send step's own transaction or outcome write).
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
            new_action = self.action_for(decision.state) if new and (old is None or old.key != new.key) else None
            close: tuple[str, ActionStatus] | None = None
            if old is not None and (new is None or old.key != new.key):
                close = (old.key, "done" if old.key == action_key else "superseded")
            elif new is not None and decision.state.held and not state.held:
                close = (new.key, "held")  # not overdue while held: campaign_requeue leaves it alone
            if new_action is not None:
                self._enqueue(new_action)
            return Commit(state=decision.state, new_action=new_action, close=close)

        if seen is None or not self._change_seen(seen, in_transaction, write):
            self.states.change(tenant_id, ccid, action_key, in_transaction)
        result = outcome[0] if outcome else "unknown_contact_campaign"
        if isinstance(result, str):
            return result
        if result.changed:
            self._record(result)
        return result.outcome

    def _change_seen(self, seen: Seen, decide: Decide, write: SeenWrite | None = None) -> bool:
        """Decide on the state as read and write it if it is unchanged; False: nothing was written.

        `write` (default `states.change_seen`) is also called with None when there is nothing it
        may write, so a send step's open transaction ends before any fallback transaction begins.
        """
        commit = decide(seen.state, seen.action, seen.controls) if seen.state is not None else None
        if commit is None or seen.state is None or commit.state.version == seen.state.version:
            if write is not None:
                write(seen, None)
            # Nothing to write, with the step's action read too: done. Else (a step to close, or the
            # action unread) the transaction reads the action.
            return commit is None and seen.action_read and seen.state is not None
        return write(seen, commit) if write is not None else self.states.change_seen(seen, commit)

    def action_for(self, state: ContactCampaign) -> ScheduledAction | None:
        """The step a contact's state waits on, as a queue action; None when nothing is pending."""
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

    def enqueue_many(self, actions: Sequence[ScheduledAction]) -> None:
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
