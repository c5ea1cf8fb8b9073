"""Starting campaigns: decide each contact's first step, store the states in batches, enqueue the steps.

A start is safe to re-run after a crash anywhere in it: a contact already stored is never created
again, and one stored but not moved since its start gets its (named, so never doubled) task again.
CampaignService delegates here; its steps and events live in service.py.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from oie.campaigns import engine
from oie.campaigns.models import (
    Contact,
    ContactCampaign,
    ScheduledAction,
    SenderIdentity,
    TransitionRecord,
    contact_campaign_id,
)
from oie.campaigns.plan import Plan, validate_plan
from oie.campaigns.ports import Planner
from oie.campaigns.watch import waits_on_pixel
from oie.errors import Conflict, InputError, NotFound

if TYPE_CHECKING:
    from oie.campaigns.service import CampaignService

START_CHUNK = 1000  # contacts a chunk: the states store commits them in a few batches at once


def sender_index(ccid: str, senders: int) -> int:
    """A stable mailbox per contact campaign, spread evenly (ids all end in the channel, so hash them)."""
    return int.from_bytes(hashlib.sha256(ccid.encode()).digest()[:8], "big") % senders


@dataclass
class StartReport:
    started: int = 0
    already_running: int = 0
    plan_versions: list[str] = field(default_factory=list)


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


def _read_ahead(chunks: Iterator[list[Contact]]) -> Iterator[list[Contact]]:
    """The same chunks, the next one read on a thread while the caller writes this one.

    Reading a chunk (a link query page, the leads' batched gets) and writing the one before
    it wait on different round trips; at most two chunks are held beyond the caller's.
    """
    ready: queue.Queue[list[Contact] | BaseException | None] = queue.Queue(maxsize=1)
    done = threading.Event()

    def hand_over(item: list[Contact] | BaseException | None) -> bool:
        while not done.is_set():
            try:
                ready.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False  # the caller stopped early: read no further

    def read() -> None:
        try:
            for chunk in chunks:
                if not hand_over(chunk):
                    return
            hand_over(None)
        except BaseException as exc:  # raised again in the caller's thread
            hand_over(exc)

    reader = threading.Thread(target=read, name="start-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()
        reader.join(timeout=5)


def _untouched_since_start(state: ContactCampaign) -> bool:
    """A stored contact campaign nothing has moved since its start (its first task may be missing)."""
    return (
        state.status == "active"
        and not state.held
        and state.pending is not None
        and state.updated_at == state.created_at
    )


def start_campaign(
    service: CampaignService,
    tenant_id: str,
    campaign_id: str,
    planner: Planner,
    contacts: Iterable[Contact] | None = None,
    sender_ids: Sequence[str] = (),
    progress: Callable[[int], None] = lambda n: None,
) -> StartReport:
    """Start a campaign for its contacts (default: every lead imported into it); re-runs are no-ops."""
    if service.tenants.get(tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    for scope in (None, campaign_id):
        if service.states.control(tenant_id, scope).state == "stopped":
            raise Conflict(f"{'campaign ' + campaign_id if scope else 'the tenant'} was stopped", field="campaign")
    senders = [s for s in service.senders.all(tenant_id) if not sender_ids or s.sender_id in sender_ids]
    if not senders:
        raise InputError(f"tenant {tenant_id!r} has no sender identity to send from", field="sender")
    report = StartReport()
    last: tuple[Plan, str] | None = None  # a planner that reuses one plan has it checked and hashed once
    if contacts is None:
        chunks = _read_ahead(_chunks(service.contacts.contacts(tenant_id, campaign_id), START_CHUNK))
    else:
        chunks = _chunks(contacts, START_CHUNK)
    # A chunk's tasks and transitions go out on a thread while the next chunk is decided and stored:
    # one chunk at a time, after its states committed; a failure there stops the start (a re-run ends it).
    with ThreadPoolExecutor(1, thread_name_prefix="start-finish") as finisher:
        finishing: Future[None] | None = None
        for chunk in chunks:
            starts = []
            for contact in chunk:
                plan = planner.plan_for(tenant_id, campaign_id, contact)
                if last is None or last[0] is not plan:
                    validate_plan(plan)
                    last = (plan, service.store_plan(tenant_id, plan, report))
                starts.append(_first_step(service, tenant_id, campaign_id, contact, plan, last[1], senders))
            started, finish = _start_many(service, starts)
            if finishing is not None:
                finishing.result()
            finishing = finisher.submit(finish)
            report.started += started
            report.already_running += len(chunk) - started
            progress(len(chunk))
        if finishing is not None:
            finishing.result()
    return report


def start_contact(
    service: CampaignService,
    tenant_id: str,
    campaign_id: str,
    contact: Contact,
    plan: Plan,
    senders: Sequence[SenderIdentity],
    report: StartReport | None = None,
) -> bool:
    """Start one contact on its own plan; False (nothing written) when it already runs."""
    validate_plan(plan)
    version = service.store_plan(tenant_id, plan, report or StartReport())
    start = _first_step(service, tenant_id, campaign_id, contact, plan, version, senders)
    created = service.states.create(start.decision.state, start.action)
    _watch(service, [start])
    if not created:
        return False
    _begin(service, [start])
    return True


def _first_step(
    service: CampaignService,
    tenant_id: str,
    campaign_id: str,
    contact: Contact,
    plan: Plan,
    version: str,
    senders: Sequence[SenderIdentity],
) -> _Start:
    now = service.clock.now()
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
    return _Start(plan, decision, service.action_for(decision.state))


def _start_many(service: CampaignService, starts: Sequence[_Start]) -> tuple[int, Callable[[], None]]:
    """Create a chunk of contact campaigns in batched writes; how many, and what writes their tasks and transitions."""
    stored = service.states.create_many([(s.decision.state, s.action) for s in starts])
    fresh = [s for s, existing in zip(starts, stored, strict=True) if existing is None]
    # Stored by a run cut short before its tasks: the same task names again (refused if they exist),
    # and the same transition ids (the warehouse keeps the first).
    again: list[ScheduledAction] = []
    replay: list[TransitionRecord] = []
    for start, existing in zip(starts, stored, strict=True):
        if existing is not None and _untouched_since_start(existing):
            action = service.action_for(existing)
            again.extend([action] if action is not None else [])
            if existing.version == start.decision.state.version:
                replay.extend(start.decision.transitions)

    def finish() -> None:
        _watch(service, starts)
        _begin(service, fresh)
        service.enqueue_many(again)
        service.record(replay)

    return len(fresh), finish


def _watch(service: CampaignService, starts: Sequence[_Start]) -> None:
    # Also when it already ran: a start that failed after its create wrote no entry.
    if service.watch is None:
        return
    for start in starts:
        state = start.decision.state
        if state.contact.tracking_id and waits_on_pixel(start.plan):
            service.watch.add(
                state.tenant_id,
                state.contact.tracking_id,
                state.contact.lead_id,
                state.contact_campaign_id,
                state.created_at,
            )


def _begin(service: CampaignService, starts: Sequence[_Start]) -> None:
    """Enqueue the first steps of contact campaigns just created, then record their transitions."""
    service.enqueue_many([start.action for start in starts if start.action is not None])
    service.record([t for start in starts for t in start.decision.transitions])
