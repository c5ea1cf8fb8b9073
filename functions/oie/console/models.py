"""The console's models per direction: query filters in, hot leads and timeline items out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from oie.console.trend import ScorePoint

Level = Literal["burning", "hot", "warm", "cold"]
LEVELS: tuple[Level, ...] = ("burning", "hot", "warm", "cold")
MAX_LIMIT = 200
Text = Annotated[str, Field(max_length=200)]


class HotLeadsQuery(BaseModel):
    """`GET …/hot-leads` filters: every one optional; a bad one is a 400 naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: list[Level] = Field(default_factory=list, max_length=4)
    campaign: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9_.:-]*$")] = ""
    since: AwareDatetime | None = None  # last seen at or after
    owner: Text = ""
    q: Text = ""
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)

    @field_validator("q", "owner")
    @classmethod
    def _squeeze(cls, value: str) -> str:
        return " ".join(value.split())


class HotLead(BaseModel):
    """One row of the hot-leads list."""

    lead_id: str
    email: str
    name: str
    company: str
    owner: str
    level: str
    score: float
    reason: str
    evidence_level: str | None
    last_seen_at: datetime
    on_site_now: bool
    campaign_id: str | None
    trend: list[ScorePoint]
    trend_change: float | None


class HotLeads(BaseModel):
    leads: list[HotLead]
    generated_at: datetime
    presence_since: datetime


Kind = Literal["session", "email", "campaign", "outcome", "level_change", "identity"]
Scalar = str | int | float | bool | None


class PageVisit(BaseModel):
    """One page of a session, as the events of that page showed it."""

    path: str
    at: datetime
    active_s: int = 0
    max_scroll: int = 0
    clicks: int = 0
    cta_clicks: int = 0
    forms_started: int = 0
    forms_submitted: int = 0
    video: list[str] = Field(default_factory=list)


class TimelineItem(BaseModel):
    """One thing that happened to or with a lead."""

    at: datetime
    kind: Kind
    item_id: str
    title: str
    flags: list[str] = Field(default_factory=list)
    facts: dict[str, Scalar] = Field(default_factory=dict)
    pages: list[PageVisit] = Field(default_factory=list)


class CampaignPlan(BaseModel):
    """Where the lead is in one campaign's plan, and what comes next."""

    campaign_id: str
    status: str
    current_node: str
    nodes: list[str]
    next_step_kind: str | None
    next_step_node: str | None
    next_step_at: datetime | None


class Timeline(BaseModel):
    lead_id: str
    items: list[TimelineItem]
    campaigns: list[CampaignPlan]
    score: list[ScorePoint]
    first_day: date
    truncated: list[str]
