"""What the engine writes to a CRM contact, and the note on a rise: pure functions of stored facts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from oie.console.reasons import ScoreFacts, reason_words
from oie.tenants.models import LEVEL_RANK

FieldType = Literal["number", "string", "datetime", "text"]
# HubSpot's property group and Salesforce's field prefix: everything the engine owns is
# found (and erased) together.
GROUP_NAME = "oie_intent"
GROUP_LABEL = "Outbound Intent Engine"
TOP_PAGES = 5


@dataclass(frozen=True)
class Field:
    """One engine field: its canonical name, label and type, and its name in each CRM."""

    name: str
    label: str
    type: FieldType

    @property
    def hubspot(self) -> str:
        return f"oie_{self.name}"

    @property
    def salesforce(self) -> str:
        return "OIE_" + "_".join(part.capitalize() for part in self.name.split("_")) + "__c"


FIELDS: tuple[Field, ...] = (
    Field("intent_score", "Intent score (0-100)", "number"),
    Field("intent_level", "Intent level", "string"),
    Field("last_visit", "Last website visit", "datetime"),
    Field("top_pages", "Top pages visited", "text"),
    Field("intent_reason", "Why the intent level", "text"),
    Field("tracking_id", "Engine tracking id", "string"),
)
BY_NAME = {f.name: f for f in FIELDS}


def fields_for(names: Sequence[str]) -> tuple[Field, ...]:
    """The engine fields among `names`, in FIELDS order."""
    return tuple(f for f in FIELDS if f.name in names)


def facts(profile: dict[str, Any]) -> ScoreFacts:
    return ScoreFacts.model_validate({k: v for k, v in profile.items() if v is not None})


def contact_values(
    profile: dict[str, Any], top_pages: Sequence[str], tracking_id: str | None, now: datetime, written: Sequence[str]
) -> dict[str, str | float | None]:
    """The engine's values for one lead's contact, only for the fields it writes."""
    last_visit = profile.get("last_activity_at")
    values: dict[str, str | float | None] = {
        "intent_score": float(round(float(profile["score"]))),
        "intent_level": str(profile["level"]),
        "last_visit": last_visit.isoformat() if isinstance(last_visit, datetime) else None,
        "top_pages": "\n".join(top_pages[:TOP_PAGES]),
        "intent_reason": reason_words(facts(profile), now),
        "tracking_id": tracking_id or "",
    }
    return {name: values[name] for name in written if name in values}


def is_note_rise(from_level: str | None, to_level: str, note_levels: Sequence[str]) -> bool:
    """Whether a level change is a rise into one of the levels that get a note."""
    return LEVEL_RANK[to_level] > LEVEL_RANK[from_level or "cold"] and to_level in note_levels


def note_key(tenant_id: str, change_id: str) -> str:
    """The note's once-only key, a single token the CRM's search can find: `oie-<hex>`."""
    return "oie-" + hashlib.sha256(f"{tenant_id}|{change_id}".encode()).hexdigest()[:24]


def note_title(change: dict[str, Any]) -> str:
    return f"Intent: now {str(change['to_level']).upper()} (score {round(float(change['score']))}/100)"


def note_body(
    change: dict[str, Any], profile: dict[str, Any], top_pages: Sequence[str], now: datetime, key: str
) -> str:
    """The evidence behind a rise, as plain text a sales rep reads on the contact's timeline."""
    sessions = {
        "verified": int(change.get("verified_sessions") or 0),
        "corroborated": int(change.get("corroborated_sessions") or 0),
        "id only": int(change.get("id_only_sessions") or 0),
    }
    lines = [
        f"{(change.get('from_level') or 'cold').capitalize()} -> {str(change['to_level']).capitalize()}"
        f" at {change['changed_at'].isoformat()}",
        f"Why: {reason_words(facts(profile), now)}",
        f"Evidence: {change.get('evidence_level') or 'unknown'} ("
        + ", ".join(f"{n} {what}" for what, n in sessions.items() if n)
        + " sessions)",
    ]
    if top_pages:
        lines.append("Top pages: " + ", ".join(top_pages[:TOP_PAGES]))
    # The key lets a sync that crashed after creating the note find it again instead of adding one.
    lines.append(f"Ref: {key}")
    return "\n".join(lines)
