"""Outcome types and stages, outcomes, lead state and attribution: the outcomes domain."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oie.doc_ids import LeadId, OutcomeId
from oie.json_input import is_clean_text

Stage = Literal["top_of_funnel", "mid_funnel", "won", "lost", "invalid"]
TIMELINE_BUCKETS = ("0-30", "31-90", "91-180", "180+")
TIERS = ("A", "B", "C", "D")
MAX_NOTES = 2000

DEFAULT_OUTCOME_TYPES: dict[str, Stage] = {
    "contacted": "top_of_funnel",
    "appointment_set": "mid_funnel",
    "listing_signed": "mid_funnel",
    "buyer_agreement": "mid_funnel",
    "closed_won": "won",
    "closed_lost": "lost",
    "invalid": "invalid",
}
STAGE_ORDER: dict[str, int] = {"top_of_funnel": 1, "mid_funnel": 2, "won": 3, "lost": 3, "invalid": 0}


class OutcomeConfig(BaseModel):
    """A tenant's outcome types and the stage each one means (the default unless replaced)."""

    model_config = ConfigDict(frozen=True)

    types: dict[str, Stage] = Field(default_factory=lambda: dict(DEFAULT_OUTCOME_TYPES))

    @field_validator("types")
    @classmethod
    def _names(cls, types: dict[str, Stage]) -> dict[str, Stage]:
        bad = [name for name in types if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name)]
        if bad:
            raise ValueError(f"outcome type names are lower_snake_case: {', '.join(bad)}")
        if not any(stage == "won" for stage in types.values()) or not any(s == "lost" for s in types.values()):
            raise ValueError("a tenant's outcome types need at least one won and one lost type")
        return types

    def first_of(self, stage: Stage) -> str | None:
        return next((name for name, s in self.types.items() if s == stage), None)


class Attribution(BaseModel):
    """Where a lead came from and what it wants: snapshotted into every outcome."""

    model_config = ConfigDict(extra="ignore")

    source_key: str = ""
    geo_key: str = ""
    intent_type: str = ""
    timeline_bucket: str = ""
    price_band: str = ""
    budget_band: str = ""
    assigned_partner: str = ""
    tier: str = ""
    last_activity_at: datetime | None = None
    intent_level: str = ""


class OutcomeIn(BaseModel):
    """One outcome as an API client or the admin form sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Both become Firestore document ids: one pattern each (oie.doc_ids), checked on the raw value.
    lead_id: LeadId
    outcome_type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime | None = None
    notes: str = Field(default="", max_length=MAX_NOTES)
    outcome_id: OutcomeId | None = None
    override: bool = False
    deal_value_band: str = Field(default="", max_length=40)
    reason_code: str = Field(default="", max_length=60)

    @field_validator("outcome_type", "notes", "deal_value_band", "reason_code")
    @classmethod
    def _storable(cls, text: str) -> str:
        # JSON can carry lone surrogates ("\ud800") and NUL, which Firestore cannot store.
        if not is_clean_text(text):
            raise ValueError("text must be valid Unicode without NUL characters")
        return text


class Outcome(BaseModel):
    """A recorded outcome: append-only history, never rewritten."""

    model_config = ConfigDict(frozen=True)

    outcome_id: str
    tenant_id: str
    lead_id: str
    created_at: datetime
    occurred_at: datetime
    outcome_type: str
    outcome_stage: Stage
    recorded_by: str
    notes: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


class LeadState(BaseModel):
    """What the outcomes so far add up to, kept on the lead for validation and listing."""

    model_config = ConfigDict(frozen=True)

    current_stage: Stage | None = None
    last_outcome_type: str | None = None
    last_outcome_at: datetime | None = None
    is_won: bool = False
    is_lost: bool = False
    is_invalid: bool = False
    contacted: bool = False
    outcome_count: int = 0
