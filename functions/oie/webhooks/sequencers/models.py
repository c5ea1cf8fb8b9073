"""Smartlead's and Instantly's webhook payloads as documented, and the event types each maps to.

Both post one JSON object per event (an array of them is accepted too). Each model reads
its fields under every name the sequencer has documented (Smartlead renamed several in
2024: `time_sent` became `event_timestamp`, `message_id` became `sent_message.message_id`,
and its API reference also shows a form with `event`, `timestamp` and a nested `lead`).
Every other field is kept (`extra="allow"`), never refused: the raw delivery has it all.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from oie import json_input

Sequencer = Literal["smartlead", "instantly"]
SEQUENCERS: tuple[Sequencer, ...] = ("smartlead", "instantly")
# The event types SendGrid's rows use (`processed` is what the `sent` metric counts);
# `reply` is the type the console's timeline already names for replies.
NormalType = Literal["processed", "open", "click", "reply", "bounce", "unsubscribe"]

SMARTLEAD_TYPES: dict[str, NormalType] = {
    "EMAIL_SENT": "processed",
    "FIRST_EMAIL_SENT": "processed",  # fires with EMAIL_SENT for step 1: the same key, one event
    "EMAIL_OPEN": "open",
    "EMAIL_OPENED": "open",
    "EMAIL_LINK_CLICK": "click",
    "EMAIL_CLICKED": "click",
    "EMAIL_REPLY": "reply",
    "EMAIL_REPLIED": "reply",
    "EMAIL_BOUNCE": "bounce",
    "EMAIL_BOUNCED": "bounce",
    "LEAD_UNSUBSCRIBED": "unsubscribe",
    "EMAIL_UNSUBSCRIBED": "unsubscribe",
}
INSTANTLY_TYPES: dict[str, NormalType] = {
    "email_sent": "processed",
    "email_opened": "open",
    "email_link_clicked": "click",
    "link_clicked": "click",
    "reply_received": "reply",
    "email_bounced": "bounce",
    "lead_unsubscribed": "unsubscribe",
}
# Any value in one event (unknown fields too): bounded before a model sees it.
EVENT_BOUNDS = json_input.Bounds(depth=8, string=200_000, items=1000, key=256, clean=False)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def as_text(value: Any, limit: int = 256) -> str | None:
    """Ids come as strings or numbers (Smartlead's are integers); kept clean, bounded, or None."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = json_input.clean_text(str(value)).strip()[:limit]
    return text or None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, allow_inf_nan=False)


def _when(value: Any) -> Any:
    # Documented placeholders are "": no time, not a malformed one.
    return None if value == "" else value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value < EARLIEST:
        raise ValueError("a time after 2000-01-01")
    return value.astimezone(UTC)


class SmartleadMessage(_Payload):
    """`sent_message`, `reply_message`, `bounce_message`; the nested form's `email`."""

    message_id: str | None = None
    text: str | None = None

    @field_validator("message_id", "text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return as_text(value, 2048)


class SmartleadLead(_Payload):
    """The nested form's `lead`, whose `custom_fields` carry the tracking id."""

    email: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("email", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return as_text(value, 320)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class SmartleadEvent(_Payload):
    """One Smartlead webhook post (EMAIL_SENT, EMAIL_OPEN, EMAIL_LINK_CLICK, EMAIL_REPLY, …)."""

    event_type: str | None = Field(default=None, validation_alias=AliasChoices("event_type", "event"))
    occurred_at: datetime | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "event_timestamp", "timestamp", "time_replied", "time_clicked", "time_opened", "time_sent",
            "time_bounced", "time_unsubscribed",
        ),
    )  # fmt: skip
    to_email: str | None = None
    sl_lead_email: str | None = None
    lead_email: str | None = None
    lead: SmartleadLead | None = None
    campaign_id: str | None = None
    sequence_number: int | None = None
    stats_id: str | None = None
    message_id: str | None = None
    sent_message: SmartleadMessage | None = None
    bounce_message: SmartleadMessage | None = None
    email: SmartleadMessage | None = None
    link_clicked: Any = None
    link_details: Any = None
    link: Any = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_type", "to_email", "sl_lead_email", "lead_email", "campaign_id", "stats_id", "message_id",
                     mode="before")  # fmt: skip
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return as_text(value, 320)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _when(value)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("sequence_number", mode="before")
    @classmethod
    def _step(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("email", "sent_message", "bounce_message", "lead", mode="before")
    @classmethod
    def _object(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else None

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class InstantlyEvent(_Payload):
    """One Instantly webhook post (email_sent, email_opened, reply_received, …); lead data as extra keys."""

    event_type: str | None = None
    occurred_at: datetime | None = Field(default=None, validation_alias=AliasChoices("timestamp", "event_timestamp"))
    lead_email: str | None = Field(default=None, validation_alias=AliasChoices("lead_email", "email"))
    campaign_id: str | None = None
    step: int | None = None
    variant: int | None = None
    email_id: str | None = None
    link_url: str | None = Field(default=None, validation_alias=AliasChoices("link_url", "url", "link"))
    reason: str | None = Field(default=None, validation_alias=AliasChoices("bounce_reason", "reason"))

    @field_validator("event_type", "lead_email", "campaign_id", "email_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return as_text(value, 320)

    @field_validator("link_url", "reason", mode="before")
    @classmethod
    def _long_text(cls, value: Any) -> str | None:
        return as_text(value, 8192)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _when(value)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @field_validator("step", "variant", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class SequencerEvent(BaseModel):
    """One normalised event: what a `message_events` row is made of."""

    model_config = ConfigDict(frozen=True)

    source: Sequencer
    event_type: NormalType
    raw_type: str
    occurred_at: datetime
    email: str
    provider_campaign_id: str | None = None
    provider_message_id: str | None = None
    step: int | None = None
    url: str | None = None
    reason: str | None = None
    tracking_id: str | None = None
