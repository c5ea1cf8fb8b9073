"""A suppression: one address of one channel that a tenant must not contact, and why."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "sms"]
Reason = Literal["unsubscribe", "group_unsubscribe", "bounce", "dropped", "spam_report", "manual", "invalid"]
Source = Literal["link", "one_click", "sendgrid_webhook", "manual", "import"]


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
