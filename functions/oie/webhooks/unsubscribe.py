"""Unsubscribe links and RFC 8058 one-click unsubscribes.

A GET only shows a confirmation page (mail scanners fetch every link, and a GET must not
unsubscribe anyone); the page's button, or a mail client's one-click POST
(`List-Unsubscribe=One-Click`), records the suppression at once and stops the plan.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from oie.campaigns.contracts import EngineEvent
from oie.errors import InputError
from oie.ports import Clock, Task, TaskQueue, Warehouse
from oie.queues import WEBHOOK_EVENTS
from oie.suppressions.models import Channel, Suppression
from oie.suppressions.store import SuppressionStore
from oie.suppressions.tokens import UnsubscribeClaim, verify
from oie.webhooks.dedup import KEY_CHARS, task_name


class Unsubscribes:
    def __init__(
        self, *, key: bytes, suppressions: SuppressionStore, warehouse: Warehouse, tasks: TaskQueue, clock: Clock
    ) -> None:
        self.key = key
        self.suppressions = suppressions
        self.warehouse = warehouse
        self.tasks = tasks
        self.clock = clock

    def check(self, token: str | None) -> UnsubscribeClaim:
        """The claim of a genuine token; InputError for anything else."""
        claim = verify(self.key, token or "")
        if claim is None or claim.channel not in ("email", "sms"):
            raise InputError("this unsubscribe link is not valid", field="t")
        return claim

    def unsubscribe(self, token: str | None, source: str) -> UnsubscribeClaim:
        """Suppress the token's address now, record it, and tell the engine to stop the plan."""
        claim = self.check(token)
        now = self.clock.now()
        channel: Channel = "sms" if claim.channel == "sms" else "email"
        self.suppressions.add(
            Suppression(
                tenant_id=claim.tenant_id,
                channel=channel,
                address=claim.address,
                reason="unsubscribe",
                source="one_click" if source == "one_click" else "link",
                created_at=now,
                details=f"contact campaign {claim.contact_campaign_id}" if claim.contact_campaign_id else "",
            )
        )
        material = f"{claim.tenant_id}\x1f{channel}\x1f{claim.address.lower()}\x1f{claim.contact_campaign_id}"
        key = "un-" + hashlib.sha256(material.encode()).hexdigest()[:KEY_CHARS]
        self.warehouse.insert_rows("message_events", [self._row(claim, key, source, now)], id_field="row_id")
        if claim.contact_campaign_id:
            event = EngineEvent(
                event_key=key,
                tenant_id=claim.tenant_id,
                contact_campaign_id=claim.contact_campaign_id,
                message_id="",
                type="unsubscribe",
                occurred_at=now,
                details={"source": source, "channel": channel},
            )
            self.tasks.enqueue(
                Task(
                    queue=WEBHOOK_EVENTS,
                    function="campaign_step",
                    payload={"kind": "event", "event": event.model_dump(mode="json")},
                    name=task_name(key),
                )
            )
        return claim

    @staticmethod
    def _row(claim: UnsubscribeClaim, key: str, source: str, now: datetime) -> dict[str, Any]:
        return {
            "row_id": key,  # one row per address and contact campaign, however often it is clicked
            "dedup_key": key,
            "tenant_id": claim.tenant_id,
            "source": source,
            "received_at": now,
            "occurred_at": now,
            "event_type": "unsubscribe",
            "is_known_type": True,
            "email_sha256": hashlib.sha256(claim.address.strip().lower().encode()).hexdigest(),
            "contact_campaign_id": claim.contact_campaign_id or None,
            "is_machine_open": False,
            "is_scanner_click": False,
            "is_duplicate": False,
        }
