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
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

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


def _number(value: Any) -> Any:
    return None if value == "" else value


def _object(value: Any) -> Any:
    # A nested object sent as anything else (a string, a list) is absent, not an error.
    return value if isinstance(value, dict) else None


def _variables(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


# How both sequencers' fields are read: one rule per kind of field, for every model.
ShortText = Annotated[str | None, BeforeValidator(partial(as_text, limit=320))]
Text = Annotated[str | None, BeforeValidator(partial(as_text, limit=2048))]
LongText = Annotated[str | None, BeforeValidator(partial(as_text, limit=8192))]
When = Annotated[datetime | None, BeforeValidator(_when), AfterValidator(_aware)]
Number = Annotated[int | None, BeforeValidator(_number)]
Variables = Annotated[dict[str, Any], BeforeValidator(_variables)]


class SmartleadMessage(_Payload):
    """`sent_message`, `reply_message`, `bounce_message`; the nested form's `email`."""

    message_id: Text = None
    text: Text = None


Message = Annotated[SmartleadMessage | None, BeforeValidator(_object)]


class SmartleadLead(_Payload):
    """The nested form's `lead`, whose `custom_fields` carry the tracking id."""

    email: ShortText = None
    custom_fields: Variables = Field(default_factory=dict)


class SmartleadEvent(_Payload):
    """One Smartlead webhook post (EMAIL_SENT, EMAIL_OPEN, EMAIL_LINK_CLICK, EMAIL_REPLY, …)."""

    event_type: ShortText = Field(default=None, validation_alias=AliasChoices("event_type", "event"))
    occurred_at: When = Field(
        default=None,
        validation_alias=AliasChoices(
            "event_timestamp", "timestamp", "time_replied", "time_clicked", "time_opened", "time_sent",
            "time_bounced", "time_unsubscribed",
        ),
    )  # fmt: skip
    to_email: ShortText = None
    sl_lead_email: ShortText = None
    lead_email: ShortText = None
    lead: Annotated[SmartleadLead | None, BeforeValidator(_object)] = None
    campaign_id: ShortText = None
    sequence_number: Number = None
    stats_id: ShortText = None
    message_id: ShortText = None
    sent_message: Message = None
    bounce_message: Message = None
    email: Message = None
    link_clicked: Any = None
    link_details: Any = None
    link: Any = None
    custom_fields: Variables = Field(default_factory=dict)


class InstantlyEvent(_Payload):
    """One Instantly webhook post (email_sent, email_opened, reply_received, …); lead data as extra keys."""

    event_type: ShortText = None
    occurred_at: When = Field(default=None, validation_alias=AliasChoices("timestamp", "event_timestamp"))
    lead_email: ShortText = Field(default=None, validation_alias=AliasChoices("lead_email", "email"))
    campaign_id: ShortText = None
    step: Number = None
    variant: Number = None
    email_id: ShortText = None
    link_url: LongText = Field(default=None, validation_alias=AliasChoices("link_url", "url", "link"))
    reason: LongText = Field(default=None, validation_alias=AliasChoices("bounce_reason", "reason"))


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
