"""SendGrid's event payload as received, and how each event type is treated here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oie.campaigns.contracts import EngineEventType
from oie.suppressions.models import Reason

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


def _text(value: Any) -> str | None:
    """Custom args come back as given: strings usually, numbers sometimes."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


class SendGridEvent(BaseModel):
    """One element of the Event Webhook's JSON array; unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=3, max_length=320)
    timestamp: int = Field(ge=0)
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

    @field_validator(
        "sg_event_id",
        "sg_message_id",
        "url",
        "reason",
        "type",
        "status",
        "useragent",
        "ip",
        "tenant_id",
        "contact_campaign_id",
        "campaign_id",
        "node_id",
        "oie_message_id",
        mode="before",
    )
    @classmethod
    def _as_text(cls, value: Any) -> str | None:
        return _text(value)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any) -> Any:
        # SendGrid sends integers; a float or numeric string is the same second.
        if isinstance(value, float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
            return int(float(value))
        return value

    @field_validator("event", "email", mode="before")
    @classmethod
    def _trimmed(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value
