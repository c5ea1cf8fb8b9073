"""The rules of recording an outcome: pure functions over a lead's state, the tenant's types and now."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from oie.errors import Conflict, InputError
from oie.outcomes.models import STAGE_ORDER, Attribution, LeadState, OutcomeConfig, OutcomeIn, Stage

CLOCK_SKEW = timedelta(minutes=5)


def outcome_id_for(tenant_id: str, item: OutcomeIn, occurred_at: datetime, recorded_by: str) -> str:
    """The client's outcome id, or one derived from what it says, so a retry is the same outcome."""
    if item.outcome_id:
        return item.outcome_id
    basis = f"{tenant_id}|{item.lead_id}|{item.outcome_type}|{occurred_at.isoformat()}|{recorded_by}"
    return "oc_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def check(
    item: OutcomeIn, state: LeadState, config: OutcomeConfig, now: datetime, may_override: bool
) -> tuple[Stage, datetime, list[str]]:
    """Validate one outcome against the lead's history: its stage, when it happened, warnings.

    Raises InputError (400) naming the field, or Conflict (409) for an impossible sequence
    that only an admin may override.
    """
    if item.outcome_type not in config.types:
        raise InputError(
            f"unknown outcome type {item.outcome_type!r}; this tenant's types: {', '.join(config.types)}",
            field="outcome_type",
        )
    occurred_at = item.occurred_at or now
    if occurred_at.tzinfo is None:
        raise InputError("occurred_at needs a time zone (e.g. 2026-03-01T14:00:00Z)", field="occurred_at")
    if occurred_at > now + CLOCK_SKEW:
        raise InputError("occurred_at is in the future", field="occurred_at")
    stage = config.types[item.outcome_type]
    warnings: list[str] = []
    if stage in ("won", "lost") and (state.is_won or state.is_lost):
        closed_as = "won" if state.is_won else "lost"
        if closed_as != stage:
            if not item.override:
                raise Conflict(
                    f"this lead was already closed as {closed_as}; recording {item.outcome_type} needs an admin "
                    "override",
                    field="outcome_type",
                )
            if not may_override:
                raise Conflict("only an admin key may override a closed lead", field="override")
            warnings.append(f"override: lead was closed as {closed_as}")
    if stage == "mid_funnel" and not state.contacted:
        warnings.append("sequence_warning: no contacted outcome before this one")
    if state.is_invalid and stage != "invalid":
        warnings.append("sequence_warning: lead was marked invalid")
    if state.last_outcome_at and occurred_at < state.last_outcome_at:
        warnings.append("sequence_warning: occurred before the lead's latest outcome")
    return stage, occurred_at, warnings


def next_state(state: LeadState, outcome_type: str, stage: Stage, occurred_at: datetime) -> LeadState:
    """The lead's state after one more outcome (the latest by occurrence sets the stage)."""
    latest = state.last_outcome_at is None or occurred_at >= state.last_outcome_at
    current = stage if latest else state.current_stage
    # A "contacted" after an appointment does not move the lead back down the funnel.
    moves_back = (
        state.current_stage not in (None, "invalid")
        and stage not in ("won", "lost", "invalid")
        and STAGE_ORDER.get(state.current_stage or "", 0) > STAGE_ORDER[stage]
    )
    if latest and moves_back:
        current = state.current_stage
    return LeadState(
        current_stage=current,
        last_outcome_type=outcome_type if latest else state.last_outcome_type,
        last_outcome_at=occurred_at if latest else state.last_outcome_at,
        is_won=state.is_won or stage == "won",
        is_lost=state.is_lost or stage == "lost",
        is_invalid=state.is_invalid or stage == "invalid",
        contacted=state.contacted or stage in ("top_of_funnel", "mid_funnel", "won", "lost"),
        outcome_count=state.outcome_count + 1,
    )


def normalise_key(value: str) -> str:
    """A source or geo key as reports group it: `LinkedIn Ads ` and `linkedin-ads` are one."""
    return "-".join("".join(c if c.isalnum() else " " for c in value.lower()).split())


def snapshot(attributes: dict[str, object], intent_level: str) -> dict[str, object]:
    """The lead's attribution at recording time; later attribute changes never rewrite it."""
    return Attribution.model_validate({**attributes, "intent_level": intent_level}).model_dump(mode="json")


def attribution_from_columns(columns: dict[str, str]) -> dict[str, str]:
    """Attribution attributes from an import's extra columns, normalised like the API's.

    `utm_source` stands in for a missing `source_key`; tiers and timeline buckets outside
    the known values are left out rather than stored wrong.
    """
    from oie.outcomes.models import TIERS, TIMELINE_BUCKETS

    out = dict(columns)
    source = columns.get("source_key") or columns.get("utm_source")
    if source:
        out["source_key"] = normalise_key(source)
    if columns.get("geo_key"):
        out["geo_key"] = normalise_key(columns["geo_key"])
    tier = columns.get("tier", "").strip().upper()
    out.pop("tier", None)
    if tier in TIERS:
        out["tier"] = tier
    if "timeline_bucket" in out and out["timeline_bucket"] not in TIMELINE_BUCKETS:
        out.pop("timeline_bucket")
    return out
