"""Unsubscribe links and RFC 8058 one-click unsubscribes.

A GET only shows a confirmation page (mail scanners fetch every link, and a GET must not
unsubscribe anyone); the page's button, or a mail client's one-click POST
(`List-Unsubscribe=One-Click`), records the suppression at once and stops the plan.
The link names the outbound message, not the person: the address is read from the
message's document at that moment, and never shown on a page (a forwarded email must
not tell whose it was).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from oie.campaigns.contracts import EngineEvent
from oie.errors import InputError
from oie.ports import Clock, TaskQueue, Warehouse
from oie.suppressions.models import Channel, Suppression
from oie.suppressions.store import SuppressionStore
from oie.suppressions.tokens import UnsubscribeClaim, UnsubscribeRef, verify
from oie.webhooks.dedup import KEY_CHARS
from oie.webhooks.effects import engine_task
from oie.webhooks.store import OutboundMessages


class Recipient(BaseModel):
    """Whom one link unsubscribes, once resolved."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel
    address: str
    contact_campaign_id: str = ""


class Unsubscribes:
    def __init__(
        self,
        *,
        key: bytes,
        suppressions: SuppressionStore,
        outbound: OutboundMessages,
        warehouse: Warehouse,
        tasks: TaskQueue,
        clock: Clock,
        accept_legacy: bool = True,
    ) -> None:
        self.key = key
        self.suppressions = suppressions
        self.outbound = outbound
        self.warehouse = warehouse
        self.tasks = tasks
        self.clock = clock
        self.accept_legacy = accept_legacy

    def check(self, token: str | None) -> UnsubscribeRef | UnsubscribeClaim:
        """What a genuine token names, checked offline; InputError for anything else."""
        found = verify(self.key, token or "")
        if isinstance(found, UnsubscribeClaim) and (not self.accept_legacy or found.channel not in ("email", "sms")):
            found = None
        if found is None:
            raise InputError("this unsubscribe link is not valid", field="t")
        return found

    def _recipient(self, found: UnsubscribeRef | UnsubscribeClaim) -> Recipient | None:
        if isinstance(found, UnsubscribeClaim):
            channel: Channel = "sms" if found.channel == "sms" else "email"
            return Recipient(
                tenant_id=found.tenant_id,
                channel=channel,
                address=found.address,
                contact_campaign_id=found.contact_campaign_id,
            )
        message = self.outbound.get_many(found.tenant_id, [found.message_id]).get(found.message_id)
        if not message or not message.get("to_email"):
            return None  # erased (its suppression stays, by hash) or never sent: nobody left to unsubscribe
        return Recipient(
            tenant_id=found.tenant_id,
            channel="sms" if message.get("channel") == "sms" else "email",
            address=str(message["to_email"]),
            contact_campaign_id=str(message.get("contact_campaign_id") or ""),
        )

    def unsubscribe(self, token: str | None, source: str) -> Recipient | None:
        """Suppress the link's address now, record it, and tell the engine to stop the plan."""
        recipient = self._recipient(self.check(token))
        if recipient is None:
            return None
        now = self.clock.now()
        ccid = recipient.contact_campaign_id
        self.suppressions.add(
            Suppression(
                tenant_id=recipient.tenant_id,
                channel=recipient.channel,
                address=recipient.address,
                reason="unsubscribe",
                source="one_click" if source == "one_click" else "link",
                created_at=now,
            )
        )
        material = f"{recipient.tenant_id}\x1f{recipient.channel}\x1f{recipient.address.lower()}\x1f{ccid}"
        key = "un-" + hashlib.sha256(material.encode()).hexdigest()[:KEY_CHARS]
        self.warehouse.insert_rows("message_events", [self._row(recipient, key, source, now)], id_field="row_id")
        if ccid:
            event = EngineEvent(
                event_key=key,
                tenant_id=recipient.tenant_id,
                contact_campaign_id=ccid,
                message_id="",
                type="unsubscribe",
                occurred_at=now,
                details={"source": source, "channel": recipient.channel},
            )
            self.tasks.enqueue(engine_task(event))
        return recipient

    @staticmethod
    def _row(recipient: Recipient, key: str, source: str, now: datetime) -> dict[str, Any]:
        return {
            "row_id": key,  # one row per address and contact campaign, however often it is clicked
            "dedup_key": key,
            "tenant_id": recipient.tenant_id,
            "source": source,
            "received_at": now,
            "occurred_at": now,
            "event_type": "unsubscribe",
            "is_known_type": True,
            "email_sha256": hashlib.sha256(recipient.address.strip().lower().encode()).hexdigest(),
            "contact_campaign_id": recipient.contact_campaign_id or None,
            "is_machine_open": False,
            "is_scanner_click": False,
            "is_duplicate": False,
        }
