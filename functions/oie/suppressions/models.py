"""A suppression: one address of one channel that a tenant must not contact, and why."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "sms"]
Reason = Literal["unsubscribe", "group_unsubscribe", "bounce", "dropped", "spam_report", "manual", "invalid", "erasure"]
Source = Literal[
    "link", "one_click", "sendgrid_webhook", "smartlead_webhook", "instantly_webhook", "manual", "import", "erasure"
]


def address_key(channel: Channel, address: str) -> str:
    """The document key of an address: its channel and the sha256 of the normalised address.

    Keyed by the address, not by a contact, so a suppression survives contact deletion
    and re-import.
    """
    return f"{channel}_{hashlib.sha256(address.strip().lower().encode()).hexdigest()}"


class Suppression(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel = "email"
    address: str = Field(min_length=3, max_length=320)
    reason: Reason
    source: Source
    created_at: datetime
    details: str = ""


def tombstone(tenant_id: str, channel: Channel, reason: str, erased_at: datetime) -> dict[str, object]:
    """What a suppression keeps after an erasure: no address, no details; the key is its hash.

    The person must still never be emailed again (a re-import must not undo an erasure), so the
    entry stays, found by the sha256 in its key, as the README's privacy section explains.
    """
    return {"tenant_id": tenant_id, "channel": channel, "reason": reason, "source": "erasure", "erased_at": erased_at}
