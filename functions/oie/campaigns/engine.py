"""The campaign engine: a pure state machine, with every timing rule of a plan.

(plan, contact campaign state, event or due step, now) -> Decision: the new state (its
`pending` step is what to schedule next), a send order when a send step is due, and
transition records saying what moved and why. No I/O: the service does the rest.

Rules worth knowing:
- One pending step per contact campaign; every change bumps `version`, and the pending
  step's key carries the version, so a step that a newer change superseded is ignored.
- Sends wait out the plan's quiet hours in the contact's time zone (or the plan's).
- no_open / no_click / timeout count from the node's send; they fire in order of due time,
  no_open only if no open (or click) of that node's message came before it was due.
- open / click / delivered move a plan only when they concern the current node's message
  (on a wait node: the last message sent); reply, bounce, unsubscribe and spam reports
  concern the contact, whichever message they came from.
- Unsubscribes and spam reports always end the campaign; bounces follow a `bounce`
  transition or end it; replies follow a `reply` transition or end it (`stopOnReply`).
- Intent signals (page visits, level crossings, forms, return visits, outcomes) count for
  the current node only if they happened at or after its send (a wait node: its entry) and
  within `within`, so a late, out-of-order delivery never moves a plan. An outcome past the
  top of the funnel ends the campaign ("closed") unless the node routes that outcome.
- Pause / stop (rules in control.py): a step due while paused is held, keeping its key;
  a resume re-arms it under a new key, so the held step's task, delivered again, is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.control import RUN, Verdict
from oie.campaigns.models import (
    MAX_VISITS,
    RECENT_EVENTS,
    ContactCampaign,
    PendingStep,
    Status,
    StepKind,
    TransitionRecord,
    step_key,
)
from oie.campaigns.plan import TIMERS, Plan, SendNode, StopNode, Transition, WaitNode
from oie.campaigns.signals_engine import Signal, ends_campaign, matches, stage_of
from oie.campaigns.timing import add_duration, parse_duration, zone

# A window is open up to and including its last instant; the settling step runs just after it.
WINDOW_GRACE = timedelta(seconds=1)


@dataclass(frozen=True)
class Happening:
    """An EngineEvent as the engine needs it."""

    event_key: str
    type: str
    occurred_at: datetime
    message_id: str


@dataclass(frozen=True)
class SendOrder:
    node_id: str
    key: str
    attempt: int


@dataclass(frozen=True)
class Decision:
    state: ContactCampaign
    changed: bool
    outcome: str
    send: SendOrder | None = None
    transitions: tuple[TransitionRecord, ...] = ()


def contact_zone(plan: Plan, state: ContactCampaign) -> ZoneInfo:
    """The contact's own time zone when it has a valid one, else the plan's."""
    if state.contact.timezone:
        try:
            return zone(state.contact.timezone)
        except ValueError:
            pass
    return zone(plan.timezone)


@dataclass
class _Change:
    """One decision being built: the state so far and the records it produced."""

    plan: Plan
    state: ContactCampaign
    now: datetime
    records: list[TransitionRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = self.state.model_copy(update={"version": self.state.version + 1, "updated_at": self.now})

    @property
    def tz(self) -> ZoneInfo:
        return contact_zone(self.plan, self.state)

    def set(self, **updates: Any) -> None:
        self.state = self.state.model_copy(update=updates)

    def record(
        self,
        to_node: str | None,
        trigger: str,
        reason: str,
        event_key: str | None = None,
        variant_id: str | None = None,
    ) -> None:
        s = self.state
        self.records.append(
            TransitionRecord(
                transition_id=f"{s.contact_campaign_id}:{s.version}:{len(self.records)}",
                tenant_id=s.tenant_id,
                campaign_id=s.campaign_id,
                contact_campaign_id=s.contact_campaign_id,
                lead_id=s.contact.lead_id,
                plan_version=s.plan_version,
                from_node=s.current_node or None,
                to_node=to_node,
                trigger=trigger,
                reason=reason,
                event_key=event_key,
                status_after=s.status,
                variant_id=variant_id,
                occurred_at=self.now,
                recorded_at=self.now,
            )
        )

    def pending(self, kind: StepKind, node_id: str, due_at: datetime, attempt: int = 0, reason: str = "") -> None:
        key = step_key(self.state.contact_campaign_id, self.state.version)
        self.set(
            pending=PendingStep(key=key, kind=kind, node_id=node_id, due_at=due_at, attempt=attempt, reason=reason),
            held=False,
        )

    def rearm(self) -> None:
        """The held step again, under a new key: at its own due time, or now if that passed."""
        held = self.state.pending
        assert held is not None
        due = max(held.due_at, self.now)
        if held.kind == "send":
            due = self.send_time(due)
        self.pending(held.kind, held.node_id, due, attempt=held.attempt, reason=held.reason)

    def end(self, status: Status, trigger: str, reason: str, event_key: str | None = None) -> None:
        self.set(status=status, pending=None, ended_at=self.now, end_reason=reason, held=False)
        self.record(None, trigger, reason, event_key)

    def enter(self, node_id: str, trigger: str, reason: str, event_key: str | None = None) -> None:
        """Move to a node and schedule what it needs; zero-length waits are passed through."""
        for _ in range(len(self.plan.nodes) + 1):
            node = self.plan.node(node_id)
            self.record(node_id, trigger, reason, event_key)
            self.set(
                current_node=node_id,
                node_entered_at=self.now,
                node_sent_at=None,
                node_message_id=None,
                node_opened_at=None,
                node_clicked_at=None,
                pending=None,
            )
            if isinstance(node, StopNode):
                self.end("completed", "stop", node.reason or f"reached stop node {node_id!r}")
                return
            if isinstance(node, WaitNode):
                duration = parse_duration(node.duration)
                if duration.is_zero:
                    node_id, trigger, reason, event_key = node.next, "wait_elapsed", "zero-length wait", None
                    continue
                due = add_duration(self.now, duration, self.tz)
                self.pending("wait", node_id, due, reason=f"wait {node.duration}")
                return
            visits = self.state.visits.get(node_id, 0) + 1
            self.set(visits={**self.state.visits, node_id: visits})
            if visits > MAX_VISITS:
                self.end("completed", "loop_limit", f"node {node_id!r} reached {MAX_VISITS} times")
                return
            self.pending("send", node_id, self.send_time(self.now), reason="send")
            return
        raise AssertionError("validated plans have no zero-delay cycles")

    def send_time(self, at: datetime) -> datetime:
        quiet = self.plan.quiet()
        return quiet.next_allowed(at, self.tz) if quiet else at

    def timer_due(self, transition: Transition) -> datetime:
        assert self.state.node_sent_at is not None and transition.after is not None
        return add_duration(self.state.node_sent_at, parse_duration(transition.after), self.tz)

    def timers(self) -> list[tuple[datetime, int, Transition]]:
        node = self.plan.node(self.state.current_node)
        if not isinstance(node, SendNode) or self.state.node_sent_at is None:
            return []
        found = [(self.timer_due(t), n, t) for n, t in enumerate(node.transitions) if t.on in TIMERS]
        return sorted(found, key=lambda item: (item[0], item[1]))

    def run_timers(self) -> None:
        """Fire the first due timer whose condition holds; else schedule the next one; else settle."""
        s = self.state
        upcoming: list[datetime] = []
        for due, _, transition in self.timers():
            if due > self.now:
                upcoming.append(due)
                continue
            quiet = {"no_open": s.node_opened_at, "no_click": s.node_clicked_at}.get(transition.on)
            if transition.on == "timeout" or quiet is None or quiet > due:
                self.enter(transition.to, transition.on, f"{transition.on} after {transition.after}")
                return
        if upcoming:
            self.pending("timer", s.current_node, min(upcoming), reason="timer")
            return
        self.set(pending=None)
        if not self.awaits_events():
            self.end("completed", "idle", f"nothing left to wait for on {s.current_node!r}")
            return
        closes = self.windows_close()
        if closes is not None:
            # Every event this node waits for has a window: wake when the last one shuts, to settle.
            self.pending("timer", s.current_node, closes + WINDOW_GRACE, reason="event windows close")

    def windows_close(self) -> datetime | None:
        """When the last `within` window of the current node shuts; None if any event waits forever."""
        node = self.plan.node(self.state.current_node)
        if isinstance(node, StopNode):
            return None
        base = self.state.node_sent_at or self.state.node_entered_at or self.now
        ends: list[datetime] = []
        for transition in node.transitions:
            if transition.on in TIMERS:
                continue
            if transition.within is None:
                return None
            ends.append(add_duration(base, parse_duration(transition.within), self.tz))
        return max(ends) if ends else None

    def awaits_events(self) -> bool:
        node = self.plan.node(self.state.current_node)
        if isinstance(node, StopNode):
            return False
        for transition in node.transitions:
            if transition.on in TIMERS:
                continue
            if transition.within is None or self.within(transition, self.now):
                return True
        return False

    def within(self, transition: Transition, at: datetime) -> bool:
        if transition.within is None:
            return True
        base = self.state.node_sent_at or self.state.node_entered_at or at
        return at <= add_duration(base, parse_duration(transition.within), self.tz)

    def counts(self, transition: Transition, at: datetime) -> bool:
        """A signal counts from the node's send (a wait node: from entering it) until `within` ends."""
        node = self.plan.node(self.state.current_node)
        base = self.state.node_sent_at if isinstance(node, SendNode) else self.state.node_entered_at
        if base is None or at < base:
            return False
        return transition.within is None or at <= add_duration(base, parse_duration(transition.within), self.tz)

    def decision(self, outcome: str, send: SendOrder | None = None) -> Decision:
        return Decision(self.state, True, outcome, send, tuple(self.records))


def _unchanged(state: ContactCampaign, outcome: str) -> Decision:
    return Decision(state, False, outcome)


def start(plan: Plan, state: ContactCampaign, now: datetime) -> Decision:
    """A new contact campaign enters the plan's start node."""
    change = _Change(plan, state, now)
    change.enter(plan.start_node_id, "start", "campaign started")
    return change.decision("started")


def on_due(plan: Plan, state: ContactCampaign, key: str, now: datetime, control: Verdict = RUN) -> Decision:
    """A scheduled step is due: a send order, a finished wait, or timers to evaluate.

    While paused the step is held (kept, not run); once stopped the campaign ends.
    """
    pending = state.pending
    if state.status != "active" or pending is None or pending.key != key:
        return _unchanged(state, "superseded")
    if control.state == "stopped":
        change = _Change(plan, state, now)
        change.end("stopped", "stop", control.reason)
        return change.decision("stopped")
    if control.state == "paused":
        if state.held:
            return _unchanged(state, "held")
        change = _Change(plan, state, now)
        change.set(held=True)
        change.record(state.current_node, "held", f"{pending.kind} step held: {control.reason}")
        return change.decision("held")
    if pending.kind == "send":
        return Decision(state, False, "send", SendOrder(pending.node_id, key, pending.attempt))
    change = _Change(plan, state, now)
    node = plan.node(pending.node_id)
    if pending.kind == "wait" and isinstance(node, WaitNode):
        change.enter(node.next, "wait_elapsed", f"waited {node.duration}")
    else:
        change.run_timers()
    return change.decision(pending.kind)


def on_sent(
    plan: Plan,
    state: ContactCampaign,
    key: str,
    message_id: str,
    sent_at: datetime,
    now: datetime,
    variant_id: str | None = None,
) -> Decision:
    """The send step's message went out (as `variant_id` of the node's variants, if it has any)."""
    change = _Change(plan, state, now)
    change.set(last_message_id=message_id, last_sent_at=sent_at, sends=state.sends + 1)
    if state.pending is None or state.pending.key != key:
        return change.decision("sent_superseded")
    change.set(node_sent_at=sent_at, node_message_id=message_id, pending=None)
    change.record(state.current_node, "sent", f"message {message_id} sent", variant_id=variant_id)
    node = plan.node(state.current_node)
    if isinstance(node, SendNode) and not node.transitions:
        change.end("completed", "sent", f"last step {node.id!r} sent")
    else:
        change.run_timers()
    return change.decision("sent")


def on_defer(plan: Plan, state: ContactCampaign, key: str, until: datetime, reason: str, now: datetime) -> Decision:
    """A send that may not happen yet (a sending limit): the same step, later. Never a drop."""
    pending = state.pending
    if pending is None or pending.key != key:
        return _unchanged(state, "superseded")
    change = _Change(plan, state, now)
    change.pending("send", pending.node_id, change.send_time(until), attempt=pending.attempt + 1, reason=reason)
    change.record(pending.node_id, "deferred", reason)
    return change.decision("deferred")


def on_blocked(plan: Plan, state: ContactCampaign, key: str, status: Status, reason: str, now: datetime) -> Decision:
    """A send that must never happen (suppressed address, refused message): the campaign ends."""
    if state.pending is None or state.pending.key != key:
        return _unchanged(state, "superseded")
    change = _Change(plan, state, now)
    change.end(status, "blocked", reason)
    return change.decision(status)


def on_event(plan: Plan, state: ContactCampaign, event: Happening, now: datetime) -> Decision:
    """Something the contact did (or their mail server said) about one of our messages."""
    if event.event_key in state.recent_events:
        return _unchanged(state, "duplicate")
    change = _Change(plan, state, now)
    s, at = state, event.occurred_at
    change.set(recent_events=(*s.recent_events, event.event_key)[-RECENT_EVENTS:])
    if event.type == "open":
        change.set(
            opens=s.opens + 1,
            first_open_at=min(filter(None, (s.first_open_at, at))),
            last_open_at=max(filter(None, (s.last_open_at, at))),
        )
    elif event.type == "click":
        change.set(
            clicks=s.clicks + 1,
            first_click_at=min(filter(None, (s.first_click_at, at))),
            last_click_at=max(filter(None, (s.last_click_at, at))),
        )
    elif event.type == "reply":
        change.set(replied_at=s.replied_at or at)
    if s.status != "active":
        return change.decision("recorded")

    node = plan.node(s.current_node)
    mine = (isinstance(node, SendNode) and s.node_message_id == event.message_id) or (
        isinstance(node, WaitNode) and s.last_message_id == event.message_id
    )
    if mine and event.type in ("open", "click"):
        change.set(node_opened_at=min(filter(None, (s.node_opened_at, at))))
    if mine and event.type == "click":
        change.set(node_clicked_at=min(filter(None, (s.node_clicked_at, at))))

    if event.type in ("unsubscribe", "spam_report"):
        status: Status = "unsubscribed" if event.type == "unsubscribe" else "complained"
        change.end(
            status, event.type, f"{event.type.replace('_', ' ')} from message {event.message_id}", event.event_key
        )
        return change.decision(status)
    transitions = () if isinstance(node, StopNode) else node.transitions
    transition = next((t for t in transitions if t.on == event.type), None)
    concerns_node = mine or event.type in ("reply", "bounce")
    if transition is not None and concerns_node and change.within(transition, at):
        change.enter(transition.to, event.type, f"{event.type} on message {event.message_id}", event.event_key)
        return change.decision("moved")
    if event.type == "bounce":
        change.end("bounced", "bounce", f"message {event.message_id} bounced", event.event_key)
        return change.decision("bounced")
    if event.type == "reply" and plan.stop_on_reply:
        change.end("replied", "reply", f"reply to message {event.message_id}", event.event_key)
        return change.decision("replied")
    return change.decision("recorded")


def on_signal(plan: Plan, state: ContactCampaign, intent: Signal | IntentSignal, now: datetime) -> Decision:
    """Something the lead did beyond email, or an outcome sales recorded; duplicates change nothing.

    The first of the current node's transitions that matches and counts is followed; else an
    outcome past the top of the funnel closes the campaign, whenever it happened.
    """
    signal = Signal.of(intent) if isinstance(intent, IntentSignal) else intent
    if signal.key in state.recent_events:
        return _unchanged(state, "duplicate")
    change = _Change(plan, state, now)
    change.set(recent_events=(*state.recent_events, signal.key)[-RECENT_EVENTS:])
    if state.status != "active":
        return change.decision("recorded")
    node = plan.node(state.current_node)
    transitions = () if isinstance(node, StopNode) else node.transitions
    at = signal.occurred_at
    transition = next((t for t in transitions if matches(t, signal) and change.counts(t, at)), None)
    if transition is not None:
        change.enter(transition.to, signal.type, signal.describe(), signal.key)
        return change.decision("moved")
    if ends_campaign(signal):
        reason = f"outcome {signal.outcome} ({stage_of(signal)}) recorded"
        change.end("closed", "outcome", reason, signal.key)
        return change.decision("closed")
    return change.decision("recorded")


def on_pause(plan: Plan, state: ContactCampaign, reason: str, now: datetime) -> Decision:
    """This contact's own pause; its pending step is held when it comes due."""
    if state.status == "stopped":
        return _unchanged(state, "stopped")
    if state.status != "active" or state.paused:
        return _unchanged(state, "unchanged")
    change = _Change(plan, state, now)
    change.set(paused=True)
    change.record(state.current_node, "pause", reason)
    return change.decision("paused")


def on_stop(plan: Plan, state: ContactCampaign, reason: str, now: datetime) -> Decision:
    """Stop is final: the campaign ends for this contact and nothing is sent again."""
    if state.status != "active":
        return _unchanged(state, "unchanged")
    change = _Change(plan, state, now)
    change.end("stopped", "stop", reason)
    return change.decision("stopped")


def on_resume(plan: Plan, state: ContactCampaign, control: Verdict, reason: str, now: datetime) -> Decision:
    """Lift this contact's own pause and re-arm its held step unless a wider scope still holds it.

    `control` is the enclosing scopes' verdict, this contact's own pause left out.
    """
    if state.status == "stopped" or control.state == "stopped":
        return _unchanged(state, "stopped")
    if state.status != "active" or not state.paused:
        return on_rearm(plan, state, control, reason, now)
    change = _Change(plan, state, now)
    change.set(paused=False)
    rearm = state.held and state.pending is not None and control.state == "running"
    if rearm:
        change.rearm()
    change.record(state.current_node, "resume", f"{reason}; step re-armed" if rearm else reason)
    return change.decision("resumed")


def on_rearm(plan: Plan, state: ContactCampaign, control: Verdict, reason: str, now: datetime) -> Decision:
    """A scope was resumed: the held step is scheduled again if nothing else still holds it."""
    if state.status != "active" or not state.held or state.pending is None or control.state != "running":
        return _unchanged(state, "unchanged")
    change = _Change(plan, state, now)
    change.rearm()
    change.record(state.current_node, "resume", f"{reason}; step re-armed")
    return change.decision("resumed")
