"""Recording outcomes (one, or many with a result each) and reading a lead's history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from oie import json_input
from oie.campaigns.signal_tasks import outcome_signal, signal_task
from oie.errors import BackendUnavailable, InputError, NotFound, OieError, status_for
from oie.json_input import is_clean_text
from oie.logs import get_logger
from oie.outcomes import rules
from oie.outcomes.auth import Actor
from oie.outcomes.models import TIERS, TIMELINE_BUCKETS, LeadState, Outcome, OutcomeIn
from oie.outcomes.ports import OutcomeStore
from oie.ports import Clock, ProfileStore, TaskQueue, Warehouse

MAX_BULK = 500
STALE_AFTER = timedelta(days=7)
HANDOFF_DELAYED = "campaigns see this outcome within 15 minutes (the campaign_signals job retries the hand-off)"
log = get_logger(__name__)


@dataclass
class Recorded:
    outcome: Outcome
    created: bool
    warnings: list[str] = field(default_factory=list)


def warehouse_row(outcome: Outcome) -> dict[str, Any]:
    """The `lead_outcomes` row: the outcome plus its attribution flattened for aggregation."""
    attribution = outcome.metadata.get("attribution", {})
    return {
        **outcome.model_dump(exclude={"metadata"}),
        "metadata": json.dumps(outcome.metadata, default=str),
        "source_key": attribution.get("source_key") or "unknown",
        "geo_key": attribution.get("geo_key") or "unknown",
        "intent_type": attribution.get("intent_type") or "unknown",
        "intent_level": attribution.get("intent_level") or "unscored",
    }


@dataclass
class OutcomesService:
    store: OutcomeStore
    warehouse: Warehouse
    profiles: ProfileStore
    clock: Clock
    # Outcomes handed to the lead's campaigns as intent signals (stop rules, outcome transitions).
    tasks: TaskQueue | None = None

    def record(self, tenant_id: str, item: OutcomeIn, actor: Actor) -> Recorded:
        """Validate against the lead's history and store, once per outcome id."""
        now = self.clock.now()
        config = self.store.config(tenant_id)
        recorded_by = actor.label or actor.key_id
        warnings: list[str] = []
        intent_level = str((self.profiles.get(tenant_id, item.lead_id) or {}).get("intentLevel", ""))
        # The id is fixed before the transaction so that a retry finds the stored outcome.
        occurred_for_id = item.occurred_at or now.replace(microsecond=0)
        outcome_id = rules.outcome_id_for(tenant_id, item, occurred_for_id, recorded_by)
        fixed = item.model_copy(update={"occurred_at": occurred_for_id})

        def build(state: LeadState, attributes: dict[str, Any]) -> tuple[Outcome, LeadState]:
            stage, occurred_at, found = rules.check(fixed, state, config, now, may_override=actor.is_admin)
            warnings.extend(found)
            metadata = {
                "attribution": rules.snapshot(attributes, intent_level),
                "warnings": found,
                "override": bool(fixed.override and any(w.startswith("override") for w in found)),
                "deal_value_band": fixed.deal_value_band,
                "reason_code": fixed.reason_code,
            }
            outcome = Outcome(
                outcome_id=outcome_id,
                tenant_id=tenant_id,
                lead_id=fixed.lead_id,
                created_at=now,
                occurred_at=occurred_at,
                outcome_type=fixed.outcome_type,
                outcome_stage=stage,
                recorded_by=recorded_by,
                notes=fixed.notes,
                metadata=metadata,
            )
            return outcome, rules.next_state(state, fixed.outcome_type, stage, occurred_at)

        outcome, created = self.store.record(tenant_id, item.lead_id, outcome_id, build)
        handed_over = self._hand_over(outcome)
        # After the document commit; a retry after a failure here re-inserts the same id.
        self.warehouse.insert_rows("lead_outcomes", [warehouse_row(outcome)], id_field="outcome_id")
        found = warnings if created else list(outcome.metadata.get("warnings", []))
        return Recorded(outcome, created, found if handed_over else [*found, HANDOFF_DELAYED])

    def _hand_over(self, outcome: Outcome) -> bool:
        """Enqueue the outcome's signal (a retry re-enqueues under the same name); False when the queue is down.

        A lost hand-off is repaired by the campaign_signals job, which sweeps recent lead_outcomes rows.
        """
        if self.tasks is None:
            return True
        try:
            o = outcome
            signal = outcome_signal(
                o.tenant_id, o.lead_id, o.outcome_id, o.outcome_type, o.outcome_stage, o.occurred_at
            )
            self.tasks.enqueue(signal_task(signal))
        except BackendUnavailable as exc:
            extra = {"outcome_id": outcome.outcome_id, "error": exc.message}
            log.warning("outcome signal not enqueued; the campaign_signals job will", extra=extra)
            return False
        return True

    def record_many(self, tenant_id: str, items: list[Any], actor: Actor) -> list[dict[str, Any]]:
        """Each item on its own: one bad item never loses the others. A result per item, in order."""
        if len(items) > MAX_BULK:
            raise InputError(f"at most {MAX_BULK} outcomes per request", field="outcomes")
        results: list[dict[str, Any]] = []
        for index, raw in enumerate(items):
            try:
                try:
                    item = OutcomeIn.model_validate(raw)
                except ValidationError as exc:
                    raise input_error(exc, whole=f"outcomes[{index}]") from None
                done = self.record(tenant_id, item, actor)
            except OieError as exc:
                error = {"code": exc.code, "message": exc.message, "field": exc.field}
                results.append({"index": index, "status": status_for(exc), "error": error})
                continue
            results.append(
                {
                    "index": index,
                    "status": 201 if done.created else 200,
                    "outcome_id": done.outcome.outcome_id,
                    "warnings": done.warnings,
                }
            )
        return results

    def lead(self, tenant_id: str, lead_id: str) -> dict[str, Any]:
        """A lead with its state, attribution and intent, or 404 (also for another tenant's lead)."""
        lead = self.store.lead(tenant_id, lead_id)
        if lead is None:
            raise NotFound("no such lead", field="lead_id")
        intent = self.warehouse.query("lead_intent", {"tenant_id": tenant_id, "lead_id": lead_id})
        return {
            "lead_id": lead_id,
            "email": lead.get("email", ""),
            "first_name": lead.get("first_name", ""),
            "last_name": lead.get("last_name", ""),
            "company": lead.get("company", ""),
            "attributes": lead.get("attributes", {}),
            "state": LeadState.model_validate(lead.get("state") or {}).model_dump(mode="json"),
            "intent": intent[0] if intent else None,
        }

    def history(self, tenant_id: str, lead_id: str) -> list[dict[str, Any]]:
        if self.store.lead(tenant_id, lead_id) is None:
            raise NotFound("no such lead", field="lead_id")
        return [o.model_dump(mode="json") for o in self.store.history(tenant_id, lead_id)]

    def missing(self, tenant_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """Stale leads: tier A/B, timeline within 90 days, activity over 7 days ago, no outcome beyond contacted."""
        now = self.clock.now()
        stale = []
        for tier in ("A", "B"):
            for lead in self.store.leads(tenant_id, {"tier": tier}, limit):
                attrs = lead.get("attributes") or {}
                state = LeadState.model_validate(lead.get("state") or {})
                last_at = _aware(attrs.get("last_activity_at"))
                if (
                    attrs.get("timeline_bucket") in TIMELINE_BUCKETS[:2]
                    and last_at is not None
                    and now - last_at > STALE_AFTER
                    and state.current_stage in (None, "top_of_funnel")
                ):
                    stale.append(
                        {
                            "lead_id": lead.get("lead_id", ""),
                            "email": lead.get("email", ""),
                            "first_name": lead.get("first_name", ""),
                            "company": lead.get("company", ""),
                            "tier": attrs.get("tier"),
                            "source_key": attrs.get("source_key", ""),
                            "last_activity_at": last_at,
                            "days_stale": (now - last_at).days,
                            "current_stage": state.current_stage,
                        }
                    )
        return sorted(stale, key=lambda s: -s["days_stale"])[:limit]


def _aware(value: Any) -> datetime | None:
    """A stored activity time, or None when it is missing or not a time with a zone (an odd import)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def input_error(exc: ValidationError, whole: str = "body") -> InputError:
    """The first problem pydantic found, naming its field (`whole` when the value itself is wrong)."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or whole
    return InputError(first["msg"], field=field)


def clean_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise attribution attributes an API client or CSV sets (InputError names the field)."""
    unknown = sorted(set(raw) - set(ATTRIBUTE_NAMES))
    if unknown:
        raise InputError(f"unknown attribute(s): {', '.join(unknown)}", field=unknown[0])
    # Text only: str(NaN) or str([...]) would be stored as if someone had typed it.
    for name, value in raw.items():
        if name != "metadata" and not (isinstance(value, str) and is_clean_text(value)):
            raise InputError(f"{name} is text (valid Unicode, no NUL)", field=name)
    out: dict[str, Any] = {}
    for name in ("source_key", "geo_key"):
        if name in raw:
            out[name] = rules.normalise_key(raw[name])[:80]
    for name in ("intent_type", "price_band", "budget_band", "assigned_partner"):
        if name in raw:
            out[name] = raw[name].strip()[:80]
    if "tier" in raw:
        if raw["tier"].upper() not in TIERS:
            raise InputError(f"tier is one of {', '.join(TIERS)}", field="tier")
        out["tier"] = raw["tier"].upper()
    if "timeline_bucket" in raw:
        if raw["timeline_bucket"] not in TIMELINE_BUCKETS:
            raise InputError(f"timeline_bucket is one of {', '.join(TIMELINE_BUCKETS)}", field="timeline_bucket")
        out["timeline_bucket"] = raw["timeline_bucket"]
    if "last_activity_at" in raw:
        try:
            at = datetime.fromisoformat(raw["last_activity_at"].replace("Z", "+00:00"))
        except ValueError:
            raise InputError("last_activity_at is an ISO 8601 time", field="last_activity_at") from None
        if at.tzinfo is None:
            raise InputError("last_activity_at needs a time zone", field="last_activity_at")
        out["last_activity_at"] = at.isoformat()
    if "metadata" in raw:
        problem = metadata_problem(raw["metadata"])
        if problem:
            raise InputError(f"metadata: {problem}", field="metadata")
        out["metadata"] = raw["metadata"]
    if not out:
        raise InputError(f"send at least one of {', '.join(ATTRIBUTE_NAMES)}", field="body")
    return out


ATTRIBUTE_NAMES = (
    "source_key",
    "geo_key",
    "intent_type",
    "price_band",
    "budget_band",
    "assigned_partner",
    "tier",
    "timeline_bucket",
    "last_activity_at",
    "metadata",
)
MAX_METADATA_CHARS = 4000
# Firestore allows 20 levels of maps; a lead's free metadata needs few.
METADATA_BOUNDS = json_input.Bounds(depth=5, string=MAX_METADATA_CHARS, items=100, key=64)


def metadata_problem(value: Any) -> str | None:
    """Why a free metadata object cannot be stored as is, or None (an object of bounded JSON)."""
    if not isinstance(value, dict):
        return "an object"
    if found := json_input.problem(value, METADATA_BOUNDS):
        return f"{found.path}: {found.message}" if found.path else found.message
    keys = _keys(value)
    if any(key.startswith("__") for key in keys):
        return "keys may not start with __ (Firestore reserves them)"
    if any(key == "" for key in keys):
        return "keys may not be empty (Firestore refuses empty map keys)"
    if _has_nested_list(value):
        return "a list may not hold a list (Firestore refuses arrays of arrays)"
    if len(json.dumps(value)) > MAX_METADATA_CHARS:
        return f"at most {MAX_METADATA_CHARS} characters as JSON"
    return None


def _has_nested_list(value: Any, in_list: bool = False) -> bool:
    if isinstance(value, list):
        return in_list or any(_has_nested_list(child, True) for child in value)
    if isinstance(value, dict):
        return any(_has_nested_list(child) for child in value.values())
    return False


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for child in value.values() for k in _keys(child))]
    if isinstance(value, list):
        return [k for child in value for k in _keys(child)]
    return []
