"""SendGrid's event payload as received, and how each event type is treated here.

A delivery is parsed in two steps so one bad event never costs the others:
`parse_delivery` (the body: InputError when it can never be read) and `parse_event`
(each element: InvalidEvent naming the field). Whatever passes is storable: text is
valid Unicode and bounded, numbers and times are in range.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from oie import json_input
from oie.campaigns.contracts import EngineEventType
from oie.errors import InputError
from oie.suppressions.models import Reason

M = TypeVar("M", bound=BaseModel)

# Every event type SendGrid's Event Webhook documents; anything else is recorded and ignored.
KNOWN_EVENTS = frozenset(
    {
        "processed",
        "dropped",
        "delivered",
        "deferred",
        "bounce",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    }
)
# Event types that suppress the address at once, with the suppression reason.
SUPPRESSING: dict[str, Reason] = {
    "bounce": "bounce",
    "dropped": "dropped",
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
}
# Event types that can move a plan, as the engine names them (human opens and clicks only).
ENGINE_TYPES: dict[str, EngineEventType] = {
    "delivered": "delivered",
    "open": "open",
    "click": "click",
    "bounce": "bounce",
    "dropped": "bounce",
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}


# The last second a datetime can hold (9999-12-31T23:59:59Z).
MAX_TIMESTAMP = 253_402_300_799
# Ids the engine sets as custom args become Firestore document ids and task payloads:
# anything else (`..`, `__x__`, a slash) is not one of the engine's messages.
ENGINE_ID = re.compile(r"^(?!__.*__$)(?!\.\.?$)[A-Za-z0-9_.:-]{1,200}$")
# Any value in an event, unknown fields included (they are only hashed, never stored apart).
# Text is not refused here: descriptive fields are cleaned, the others refuse it themselves.
EVENT_BOUNDS = json_input.Bounds(depth=8, string=100_000, items=1000, key=256, clean=False)
TEXT_LIMITS = {"url": 8192, "reason": 2048, "status": 2048, "useragent": 2048, "sg_event_id": 256}


def _text(value: Any, limit: int = 256) -> str | None:
    """Custom args come back as given: strings usually, numbers sometimes. Kept clean and bounded."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = json_input.clean_text(str(value)).strip()[:limit]
    return text or None


def _engine_id(value: Any) -> str | None:
    text = _text(value)
    return text if text and ENGINE_ID.fullmatch(text) else None


class SendGridEvent(BaseModel):
    """One element of the Event Webhook's JSON array; unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    event: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+$")
    timestamp: int = Field(ge=0, le=MAX_TIMESTAMP)
    sg_event_id: str | None = None
    sg_message_id: str | None = None
    url: str | None = None
    reason: str | None = None
    type: str | None = None  # bounce: "bounce" or "blocked"
    status: str | None = None
    useragent: str | None = None
    ip: str | None = None
    sg_machine_open: bool = False
    tenant_id: str | None = None
    contact_campaign_id: str | None = None
    campaign_id: str | None = None
    node_id: str | None = None
    oie_message_id: str | None = None
    variant_id: str | None = None  # the A/B/n variant of the message's send node

    @field_validator(
        "sg_event_id", "sg_message_id", "url", "reason", "type", "status", "useragent", "ip", "tenant_id",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _as_text(cls, value: Any, info: ValidationInfo) -> str | None:
        # Descriptive text is evidence: cleaned and cut, never a reason to lose a bounce.
        return _text(value, TEXT_LIMITS.get(info.field_name or "", 256))

    @field_validator("contact_campaign_id", "campaign_id", "node_id", "oie_message_id", "variant_id", mode="before")
    @classmethod
    def _as_engine_id(cls, value: Any) -> str | None:
        return _engine_id(value)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any) -> Any:
        # SendGrid sends integers; a float or numeric string is the same second.
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,9})?", value.strip()):
            value = float(value)
        if isinstance(value, float):
            if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP:
                raise ValueError(f"a unix time between 0 and {MAX_TIMESTAMP}")
            return int(value)
        return value

    @field_validator("event", "email", mode="before")
    @classmethod
    def _trimmed(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class InvalidEvent(ValueError):
    """One element of a delivery refused: `field` names where ("event" for the whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_delivery(body: bytes) -> list[Any]:
    """The delivery's elements (a single object counts as one); InputError when it can never be read."""
    payload = json_input.loads(body)
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise InputError("the body must be a JSON array of events", field="body")
    return payload


def validated(model: type[M], raw: Any, bounds: json_input.Bounds, whole: str) -> M:
    """One element of any provider's delivery as `model`; InvalidEvent naming the field (`whole`: the element)."""
    if not isinstance(raw, dict):
        raise InvalidEvent(whole, "an event is a JSON object")
    if found := json_input.problem(raw, bounds):
        raise InvalidEvent(found.path or whole, found.message)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidEvent(".".join(str(p) for p in first["loc"]) or whole, first["msg"]) from None


def parse_event(raw: Any) -> SendGridEvent:
    """One element as a SendGridEvent; InvalidEvent naming the field otherwise."""
    return validated(SendGridEvent, raw, EVENT_BOUNDS, "event")
