"""Campaign state as stored: contact campaigns, scheduled actions, transitions, senders."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "closed": sales recorded an outcome past the top of the funnel (appointment, won, lost, invalid).
Status = Literal[
    "active",
    "completed",
    "replied",
    "bounced",
    "unsubscribed",
    "complained",
    "suppressed",
    "failed",
    "stopped",
    "closed",
]
StepKind = Literal["send", "wait", "timer"]
# "held": the step came due while its contact was paused; resume schedules it again.
ActionStatus = Literal["scheduled", "done", "superseded", "held"]
MAX_VISITS = 5  # a send node reached more often than this (a loop) ends the contact's campaign
RECENT_EVENTS = 50  # event keys kept on the state to drop duplicate deliveries


class Contact(BaseModel):
    """A lead as a campaign sees it: who, the fields templates may use, its tracking id."""

    model_config = ConfigDict(frozen=True)

    lead_id: str
    email: str
    tracking_id: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    timezone: str = ""


def contact_campaign_id(campaign_id: str, lead_id: str, channel: str = "email") -> str:
    """One contact campaign per (campaign, lead, channel); safe as a document id and task name part."""
    return f"{campaign_id}_{lead_id}_{channel}"


def campaign_of(ccid: str) -> str:
    """The campaign id a contact campaign id starts with (campaign ids have no underscore)."""
    return ccid.partition("_")[0]


def step_key(ccid: str, version: int) -> str:
    """The de-dup key (and Cloud Task name) of the step scheduled by the state's `version`.

    A hashed prefix spreads task names, as Cloud Tasks recommends for throughput.
    """
    prefix = hashlib.sha256(ccid.encode()).hexdigest()[:8]
    return f"{prefix}-{ccid}-{version}"


class PendingStep(BaseModel):
    """The one step a contact campaign waits for; its key names the Cloud Task."""

    model_config = ConfigDict(frozen=True)

    key: str
    kind: StepKind
    node_id: str
    due_at: datetime
    attempt: int = 0
    reason: str = ""


class ContactCampaign(BaseModel):
    """`tenants/{t}/contact_campaigns/{id}`: where one contact is in one campaign's plan."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    contact_campaign_id: str
    campaign_id: str
    channel: Literal["email", "sms"] = "email"
    contact: Contact
    sender_id: str
    plan_version: str
    status: Status = "active"
    current_node: str = ""
    node_entered_at: datetime | None = None
    node_sent_at: datetime | None = None
    node_message_id: str | None = None
    node_opened_at: datetime | None = None
    node_clicked_at: datetime | None = None
    visits: dict[str, int] = Field(default_factory=dict)
    last_message_id: str | None = None
    last_sent_at: datetime | None = None
    first_open_at: datetime | None = None
    last_open_at: datetime | None = None
    first_click_at: datetime | None = None
    last_click_at: datetime | None = None
    replied_at: datetime | None = None
    sends: int = 0
    opens: int = 0
    clicks: int = 0
    pending: PendingStep | None = None
    # Pause / stop (oie.campaigns.control): `paused` is this contact's own pause; `held` says
    # the pending step came due while paused (by any scope) and waits for a resume.
    paused: bool = False
    held: bool = False
    recent_events: tuple[str, ...] = ()
    # Optimistic concurrency: every change bumps it, and step keys carry it.
    version: int = 0
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    end_reason: str = ""


class ScheduledAction(BaseModel):
    """`tenants/{t}/scheduled_actions/{key}`: the source of truth for what is due, and its task."""

    model_config = ConfigDict(frozen=True)

    key: str
    tenant_id: str
    contact_campaign_id: str
    kind: StepKind
    node_id: str
    due_at: datetime
    version: int
    attempt: int = 0
    status: ActionStatus = "scheduled"
    task_name: str
    created_at: datetime
    reason: str = ""


class TransitionRecord(BaseModel):
    """One row of the append-only `campaign_transitions` audit log: what moved, and why."""

    model_config = ConfigDict(frozen=True)

    transition_id: str
    tenant_id: str
    campaign_id: str
    contact_campaign_id: str
    lead_id: str
    plan_version: str
    from_node: str | None
    to_node: str | None
    trigger: str
    reason: str
    event_key: str | None = None
    status_after: str
    # The A/B/n variant a "sent" row's message used; None for nodes without variants and other rows.
    variant_id: str | None = None
    occurred_at: datetime
    recorded_at: datetime


class SenderIdentity(BaseModel):
    """`tenants/{t}/senders/{id}`: a mailbox the tenant sends from."""

    model_config = ConfigDict(frozen=True)

    sender_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    from_email: str
    from_name: str = ""
    verification: Literal["verified", "pending", "failed"] = "pending"
    ip_pool: str | None = None
    daily_limit: int = Field(default=300, ge=1)
    hourly_limit: int = Field(default=60, ge=1)


ControlState = Literal["running", "paused", "stopped"]


class ScopeControl(BaseModel):
    """`tenants/{t}/campaign_config/control` (the whole tenant) or `campaign_controls/{campaign}`.

    The last change only; every change is also a `campaign_transitions` row.
    """

    model_config = ConfigDict(frozen=True)

    state: ControlState = "running"
    changed_at: datetime | None = None
    changed_by: str = ""
    reason: str = ""


class Controls(BaseModel):
    """The scopes enclosing one contact campaign, read with it in one batched read."""

    model_config = ConfigDict(frozen=True)

    tenant: ScopeControl = ScopeControl()
    campaign: ScopeControl = ScopeControl()
