"""What the campaign service needs from the outside world (Firestore in production)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from oie.campaigns.limits import LimitsConfig, Rule, WarmupPool
from oie.campaigns.models import (
    ActionStatus,
    Contact,
    ContactCampaign,
    Controls,
    ScheduledAction,
    ScopeControl,
    SenderIdentity,
)
from oie.campaigns.plan import Plan
from oie.ports import Task


@dataclass(frozen=True)
class Commit:
    """What one atomic change writes: the state, the step it schedules, the step it closes."""

    state: ContactCampaign
    new_action: ScheduledAction | None = None
    close: tuple[str, ActionStatus] | None = None


@dataclass(frozen=True)
class Seen:
    """A contact campaign as one read saw it, with its controls; `token` (the store's own mark of
    that version) lets a later write check that nothing changed the state since."""

    state: ContactCampaign | None
    controls: Controls
    token: object = None
    # The step's own scheduled action, when it was read in the same batch (`action_read`):
    # a redelivered step decided from it needs no transaction.
    action: ScheduledAction | None = None
    action_read: bool = False


Decide = Callable[[ContactCampaign | None, ScheduledAction | None, Controls], Commit | None]
# Writes a commit decided on a `Seen` (None: nothing to write); False when it could not.
SeenWrite = Callable[[Seen, Commit | None], bool]


class CampaignStates(Protocol):
    """`contact_campaigns` and `scheduled_actions`, changed together in one transaction."""

    def get(self, tenant_id: str, ccid: str) -> ContactCampaign | None: ...

    def read(self, tenant_id: str, ccid: str) -> Seen:
        """The state with its tenant's and campaign's controls, in one batched read."""
        ...

    def get_action(self, tenant_id: str, key: str) -> ScheduledAction | None: ...

    def read_step(self, tenant_id: str, ccid: str, key: str) -> Seen:
        """`read`, with the step's own scheduled action (`key`) in the same batched read."""
        ...

    def create(self, state: ContactCampaign, action: ScheduledAction | None) -> bool:
        """Create a contact campaign with its first step; False (nothing written) when it exists."""
        ...

    def create_many(
        self, starts: Sequence[tuple[ContactCampaign, ScheduledAction | None]]
    ) -> list[ContactCampaign | None]:
        """`create` for many, in batched writes: per start, None when created, else the state already stored."""
        ...

    def change(self, tenant_id: str, ccid: str, action_key: str | None, decide: Decide) -> Commit | None:
        """Read the state (and the action), let `decide` say what to write, write it atomically.

        `decide` may run more than once when another writer got there first; None writes nothing.
        The tenant's and campaign's controls are read in the same batch.
        """
        ...

    def change_seen(self, seen: Seen, commit: Commit) -> bool:
        """Write `commit` (one write, no transaction) if the state is still as `seen` read it;
        False, writing nothing, when anything changed it since. `commit` must change the state."""
        ...

    def control(self, tenant_id: str, campaign_id: str | None) -> ScopeControl:
        """The tenant's control (campaign_id None) or one campaign's; running when never set."""
        ...

    def set_control(
        self, tenant_id: str, campaign_id: str | None, decide: Callable[[ScopeControl], ScopeControl | None]
    ) -> tuple[ScopeControl, bool]:
        """Change a control in one transaction: (the control now, whether it changed)."""
        ...

    def held(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]:
        """Contact campaigns whose step is held by a pause, in one campaign or the whole tenant."""
        ...

    def of_contact(
        self, tenant_id: str, *, lead_id: str | None = None, email: str | None = None
    ) -> list[ContactCampaign]:
        """One contact's campaigns, by lead id or by address."""
        ...

    def in_campaign(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]: ...

    def overdue(self, before: datetime, limit: int) -> list[ScheduledAction]:
        """Steps still scheduled with a due time before `before` (their task was lost)."""
        ...


@runtime_checkable
class BatchTaskQueue(Protocol):
    """A task queue that takes many tasks at once (oie.ports.TaskQueue's `enqueue` for each)."""

    def enqueue_many(self, tasks: Sequence[Task]) -> list[bool]:
        """Enqueue every task; per task, False when one of that name was already enqueued."""
        ...


class PlanVersions(Protocol):
    def put(self, tenant_id: str, plan: Plan) -> tuple[str, bool]:
        """Store a plan under its content hash; (version id, whether it was new)."""
        ...

    def get(self, tenant_id: str, version: str) -> Plan | None: ...


class SenderStore(Protocol):
    def get(self, tenant_id: str, sender_id: str) -> SenderIdentity | None: ...

    def put(self, tenant_id: str, sender: SenderIdentity) -> None: ...

    def all(self, tenant_id: str) -> list[SenderIdentity]: ...

    def limits(self, tenant_id: str) -> LimitsConfig: ...

    def warmup(self, tenant_id: str, pool: str) -> WarmupPool | None: ...


class RateLimiter(Protocol):
    def acquire(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        """Take one send from every rule, or from none; None when taken, else (when to retry, which rule)."""
        ...


class OutboundMessages(Protocol):
    """`tenants/{t}/outbound_messages/{message_id}` (layout in contracts.py)."""

    def get(self, tenant_id: str, message_id: str) -> dict[str, Any] | None: ...

    def claim(self, tenant_id: str, message_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        """Create the message document; None when created, else the document that exists."""
        ...

    def update(self, tenant_id: str, message_id: str, fields: dict[str, Any]) -> None: ...

    def release(self, tenant_id: str, message_id: str) -> None:
        """Remove a claim whose send certainly did not happen, so a retry may send."""
        ...


class ContactSource(Protocol):
    def contacts(self, tenant_id: str, campaign_id: str) -> Iterable[Contact]:
        """The leads imported into a campaign, with their tracking ids."""
        ...


class Experiments(Protocol):
    """`tenants/{t}/campaign_experiments/{campaign}__{node}`: the winning variant of a send node's A/B/n test."""

    def winner(self, tenant_id: str, campaign_id: str, node_id: str) -> str | None:
        """The winning variant id, or None while the experiment runs (or there is none)."""
        ...

    def set_winner(
        self, tenant_id: str, campaign_id: str, node_id: str, variant_id: str, details: dict[str, Any]
    ) -> bool:
        """Record the winner once: True if this call set it; a later call never changes it (False)."""
        ...


class Planner(Protocol):
    """Where each contact's plan comes from: a tenant template today, an AI planner later."""

    def plan_for(self, tenant_id: str, campaign_id: str, contact: Contact) -> Plan: ...
