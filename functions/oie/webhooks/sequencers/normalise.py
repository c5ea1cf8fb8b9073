"""Pure: a sequencer's post → normalised events, their de-dup keys and their `message_events` rows.

De-dup: Smartlead retries up to 3 times and Instantly 3 times within 30 s, with the same
body; Smartlead also posts FIRST_EMAIL_SENT beside EMAIL_SENT. Neither sends an event id
that is documented as stable, so the key is built from what describes the event itself:
the tenant, the sequencer, the normalised type, the message (their message id, else their
campaign and step), the recipient, the second it happened and, for clicks, the URL.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from oie import json_input
from oie.campaigns.models import contact_campaign_id
from oie.errors import InputError
from oie.webhooks.dedup import KEY_CHARS
from oie.webhooks.models import InvalidEvent, validated
from oie.webhooks.sequencers.models import (
    EVENT_BOUNDS,
    INSTANTLY_TYPES,
    SMARTLEAD_TYPES,
    InstantlyEvent,
    NormalType,
    Sequencer,
    SequencerEvent,
    SmartleadEvent,
    as_text,
)

EMAIL = re.compile(r"^[^\s@\x00-\x1f\x7f]{1,256}@[^\s@\x00-\x1f\x7f]{1,255}$")
# The tracking ids `oie campaign create` writes to links.csv: 8 to 16 base62 characters.
TRACKING_ID = re.compile(r"^[0-9A-Za-z]{8,16}$")
TRACKING_FIELDS = ("tracking_id", "trackingid", "oie_tracking_id")


@dataclass(frozen=True)
class Unknown:
    """A valid post of an event type not normalised (lead categories, campaign status, …): kept raw."""

    raw_type: str


@dataclass(frozen=True)
class LeadRef:
    """Which of the tenant's leads, in which of its campaigns, an event is about, and how that was found."""

    lead_id: str
    campaign_id: str
    matched_by: Literal["tracking_id", "email"]

    @property
    def contact_campaign_id(self) -> str:
        return contact_campaign_id(self.campaign_id, self.lead_id)


def parse_delivery(body: bytes) -> list[Any]:
    """The post's events (one object, or an array of them); InputError naming `body` otherwise."""
    payload = json_input.loads(body)
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and payload:
        return payload
    raise InputError("the body must be a JSON object (one event) or a non-empty array of them", field="body")


def _kind(raw_type: str | None, types: dict[str, NormalType]) -> tuple[str, NormalType | None]:
    """The raw event type and what it maps to in any letter case (None: not normalised)."""
    if not raw_type:
        raise InvalidEvent("event_type", "missing")
    folded = raw_type.casefold()
    return raw_type, next((normal for raw, normal in types.items() if raw.casefold() == folded), None)


def _email(value: str | None, field: str) -> str:
    if not value:
        raise InvalidEvent(field, "the recipient's address is missing")
    if not EMAIL.fullmatch(value):
        raise InvalidEvent(field, "not an email address")
    return value.lower()


def _occurred(value: datetime | None, field: str) -> datetime:
    if value is None:
        raise InvalidEvent(field, "missing: when the event happened (it keys the event across retries)")
    return value


def _tracking_id(*sources: Any) -> str | None:
    """The first tracking id among custom-variable maps, or the `i` of a clicked /go link."""
    for source in sources:
        if isinstance(source, dict):
            for key, value in source.items():
                text = as_text(value, 64) if str(key).lower() in TRACKING_FIELDS else None
                if text and TRACKING_ID.fullmatch(text):
                    return text
        elif isinstance(source, str) and "/go" in source:
            parts = urlsplit(source)
            found = parse_qs(parts.query).get("i", [""])[0] if parts.path.rstrip("/").endswith("/go") else ""
            if TRACKING_ID.fullmatch(found):
                return found
    return None


def _first_url(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("url") or value.get("link")
        if text := as_text(value, 8192):
            return text
    return None


def normalise_smartlead(raw: Any) -> SequencerEvent | Unknown:
    """One Smartlead post; InvalidEvent naming the field when it can never be read."""
    event = validated(SmartleadEvent, raw, EVENT_BOUNDS, "body")
    raw_type, kind = _kind(event.event_type, SMARTLEAD_TYPES)
    if kind is None:
        return Unknown(raw_type)
    lead = event.lead
    address = event.to_email or event.sl_lead_email or event.lead_email or (lead.email if lead else None)
    bounce = event.bounce_message.text if kind == "bounce" and event.bounce_message else None
    url = _first_url(event.link_clicked, event.link_details, event.link) if kind == "click" else None
    message = next((m.message_id for m in (event.sent_message, event.email) if m and m.message_id), None)
    return SequencerEvent(
        source="smartlead",
        event_type=kind,
        raw_type=raw_type,
        occurred_at=_occurred(event.occurred_at, "event_timestamp"),
        email=_email(address, "to_email"),
        provider_campaign_id=event.campaign_id,
        provider_message_id=message or event.message_id or event.stats_id,
        step=event.sequence_number,
        url=url,
        reason=bounce[:2048] if bounce else None,
        tracking_id=_tracking_id(event.custom_fields, lead.custom_fields if lead else None, raw, url),
    )


def normalise_instantly(raw: Any) -> SequencerEvent | Unknown:
    """One Instantly post; InvalidEvent naming the field when it can never be read."""
    event = validated(InstantlyEvent, raw, EVENT_BOUNDS, "body")
    raw_type, kind = _kind(event.event_type, INSTANTLY_TYPES)
    if kind is None:
        return Unknown(raw_type)
    url = event.link_url if kind == "click" else None
    return SequencerEvent(
        source="instantly",
        event_type=kind,
        raw_type=raw_type,
        occurred_at=_occurred(event.occurred_at, "timestamp"),
        email=_email(event.lead_email, "lead_email"),
        provider_campaign_id=event.campaign_id,
        provider_message_id=event.email_id,
        step=event.step,
        url=url,
        reason=event.reason[:2048] if kind == "bounce" and event.reason else None,
        # Instantly merges the lead's custom variables into the payload as top-level keys.
        tracking_id=_tracking_id(raw, url),
    )


NORMALISERS = {"smartlead": normalise_smartlead, "instantly": normalise_instantly}


def normalise(sequencer: Sequencer, raw: Any) -> SequencerEvent | Unknown:
    """One post of either sequencer, normalised."""
    return NORMALISERS[sequencer](raw)


def event_key(tenant_id: str, event: SequencerEvent) -> str:
    """The stable de-dup key of one event (hex, valid as a Firestore id and a task name)."""
    message = event.provider_message_id or f"campaign:{event.provider_campaign_id}:{event.step}"
    parts = [
        tenant_id,
        event.source,
        event.event_type,
        message,
        event.email,
        str(int(event.occurred_at.timestamp())),
        (event.url or "") if event.event_type == "click" else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:KEY_CHARS]


def message_event_row(
    event: SequencerEvent,
    *,
    key: str,
    tenant_id: str,
    delivery_id: str,
    index: int,
    received_at: datetime,
    lead: LeadRef | None,
    duplicate: bool,
) -> dict[str, Any]:
    """The `message_events` row of one event, in the columns SendGrid's rows use."""
    return {
        "row_id": f"{delivery_id}-{index}",
        "dedup_key": key,
        "tenant_id": tenant_id,
        "delivery_id": delivery_id,
        "source": event.source,
        "received_at": received_at,
        "occurred_at": event.occurred_at,
        "event_type": event.event_type,
        "is_known_type": True,
        "sg_event_id": None,
        "sg_message_id": None,
        "email_sha256": hashlib.sha256(event.email.encode()).hexdigest(),
        "url": event.url,
        "reason": event.reason,
        "bounce_type": None,
        "status": None,
        "useragent": None,
        "ip": None,
        "contact_campaign_id": lead.contact_campaign_id if lead else None,
        "campaign_id": lead.campaign_id if lead else None,
        "node_id": None,
        "oie_message_id": None,
        "provider_campaign_id": event.provider_campaign_id,
        "provider_message_id": event.provider_message_id,
        "is_machine_open": False,
        "is_scanner_click": False,
        "scanner_reasons": [],
        "is_duplicate": duplicate,
    }
