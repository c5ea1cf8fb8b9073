"""Pause, resume and stop for a whole tenant, one campaign or one contact: the rules.

- A contact campaign is stopped if it, its campaign or its tenant is stopped, else paused if
  any of them is paused. Stop is final: a stopped scope is never resumed (nor paused again).
- A step that comes due while paused is held (neither sent nor dropped); a resume schedules
  it again at its own due time, or now if that has passed (quiet hours and limits still apply).
- Changing a scope to the state it is in is a no-op answer, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oie.campaigns.models import ContactCampaign, Controls, ControlState, ScopeControl
from oie.doc_ids import CampaignId, LeadId
from oie.errors import Conflict, InputError
from oie.json_input import is_clean_text

Action = Literal["pause", "resume", "stop"]
ScopeKind = Literal["tenant", "campaign", "contact"]
TARGET: dict[Action, ControlState] = {"pause": "paused", "resume": "running", "stop": "stopped"}


@dataclass(frozen=True)
class Verdict:
    """What a contact campaign's enclosing scopes allow right now, and why not."""

    state: ControlState = "running"
    reason: str = ""


RUN = Verdict()


def verdict(controls: Controls, state: ContactCampaign) -> Verdict:
    """Stopped beats paused; the widest scope names the reason."""
    scopes = (
        (controls.tenant.state, "tenant"),
        (controls.campaign.state, f"campaign {state.campaign_id}"),
        ("stopped" if state.status == "stopped" else "paused" if state.paused else "running", "contact"),
    )
    for wanted in ("stopped", "paused"):
        for current, name in scopes:
            if current == wanted:
                return Verdict(wanted, f"{name} {wanted}")
    return RUN


def next_control(current: ScopeControl, action: Action, actor: str, reason: str, now: datetime) -> ScopeControl | None:
    """The scope's new control, None when it already is in that state; Conflict after a stop."""
    target = TARGET[action]
    if current.state == target:
        return None
    if current.state == "stopped":
        raise Conflict(f"this scope was stopped ({current.reason or 'no reason given'}); stop is final", field="action")
    return ScopeControl(state=target, changed_at=now, changed_by=actor, reason=reason)


class ControlRequest(BaseModel):
    """`POST /outcomes/t/{tenant}/campaigns/control` and `oie campaigns pause|resume|stop`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    scope: ScopeKind
    campaign_id: CampaignId | None = None
    lead_id: LeadId | None = None
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _scope_names_its_target(self) -> Self:
        # InputError, not ValueError: pydantic lets it through, so the 400 names the field.
        if self.scope == "campaign" and self.campaign_id is None:
            raise InputError("a campaign scope needs campaign_id", field="campaign_id")
        if self.scope == "contact" and self.lead_id is None:
            raise InputError("a contact scope needs lead_id", field="lead_id")
        if self.scope == "tenant" and self.campaign_id is not None:
            raise InputError("a tenant scope takes no campaign_id", field="campaign_id")
        if self.scope != "contact" and self.lead_id is not None:
            raise InputError("only a contact scope takes lead_id", field="lead_id")
        return self

    @field_validator("reason")
    @classmethod
    def _reason_is_text(cls, reason: str) -> str:
        if not is_clean_text(reason):  # lone surrogates cannot be stored; NUL is never meant
            raise ValueError("reason is text (valid Unicode, no NUL)")
        return reason


class ControlResult(BaseModel):
    """What a control change did: the scope's state now, and how many contact campaigns moved."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    action: Action
    scope: ScopeKind
    campaign_id: str | None = None
    lead_id: str | None = None
    state: ControlState
    changed: bool
    contacts: int = Field(default=0, description="contact campaigns changed (resumed steps, stops, pauses)")
