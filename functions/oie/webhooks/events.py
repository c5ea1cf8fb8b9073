"""The Event Webhook service: verify, store, de-duplicate, suppress and feed campaigns.

Order of work, so that a failure never loses an event nor doubles one:
1. verify the signature (nothing stored on failure);
1b. parse: a body that can never be read, and each event that can never be stored, is
   recorded on the delivery row (`error`, `rejected_events`, `details`) and answered
   200: SendGrid retries anything else for days, and a retry would never succeed;
2. claim a Firestore marker per event key (batched): the first claim of a key owns it,
   every later copy is a duplicate; if Firestore is down, 503 and nothing was stored;
3. one warehouse insert for the delivery, one for its events (duplicates too, flagged,
   so the duplicate rate can be measured); on failure the claims are released and 503;
4. for owned events: suppressions and Cloud Tasks (named by key). What fails is released
   and answered 503; everything already written is keyed, so SendGrid's retry adds nothing.
5xx is only ever a backend fault. Steps 2 and 3 are oie.webhooks.deliveries, shared with the
sequencers' webhooks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from oie.campaigns.contracts import EngineEvent
from oie.errors import Forbidden, InputError
from oie.go.scanners import classify
from oie.json_input import clean_text
from oie.logs import get_logger
from oie.ports import Clock, TaskQueue, Warehouse
from oie.privacy import keep_ip
from oie.suppressions.models import Suppression
from oie.suppressions.store import SuppressionStore
from oie.tenants.models import Tenant
from oie.webhooks import signature
from oie.webhooks.dedup import event_key
from oie.webhooks.deliveries import Delivery, Ignored, Receipt, Rejected, claim_and_store, store
from oie.webhooks.effects import act_or_release, engine_task
from oie.webhooks.models import (
    ENGINE_TYPES,
    KNOWN_EVENTS,
    SUPPRESSING,
    InvalidEvent,
    SendGridEvent,
    parse_delivery,
    parse_event,
)
from oie.webhooks.store import EventMarkers, OutboundMessages

log = get_logger(__name__)
# A click this soon after delivery is a security scanner following every link, not a person.
SCANNER_CLICK_SECONDS = 15
MAX_BODY_BYTES = 25 * 1024 * 1024


class TenantLookup(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...


@dataclass
class _Item:
    index: int
    event: SendGridEvent
    key: str
    is_machine_open: bool = False
    scanner_reasons: tuple[str, ...] = ()
    owned: bool = False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _as_datetime(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


class EventWebhooks:
    def __init__(
        self,
        *,
        tenants: TenantLookup,
        markers: EventMarkers,
        outbound: OutboundMessages,
        warehouse: Warehouse,
        tasks: TaskQueue,
        suppressions: SuppressionStore,
        clock: Clock,
        max_age_seconds: int,
        ip_hash_key: bytes,
    ) -> None:
        self.tenants = tenants
        self.markers = markers
        self.outbound = outbound
        self.warehouse = warehouse
        self.tasks = tasks
        self.suppressions = suppressions
        self.clock = clock
        self.max_age_seconds = max_age_seconds
        self.ip_hash_key = ip_hash_key

    def receive(self, tenant_id: str, body: bytes, sig: str | None, timestamp: str | None) -> Receipt:
        """Handle one signed delivery; raise an OieError for the handler to answer."""
        now = self.clock.now()
        tenant = self.tenants.get(tenant_id)
        key = tenant.sendgrid_webhook_public_key if tenant else ""
        try:
            signed_at = signature.verify(key, body, sig, timestamp, now, self.max_age_seconds)
        except Forbidden:
            log.warning("webhook signature refused", extra={"tenant_id": tenant_id})
            raise
        assert tenant is not None  # verify() refuses an empty key
        receipt = Receipt(delivery_id=_sha256(f"{timestamp}.{hashlib.sha256(body).hexdigest()}")[:40])
        raw_body = body.decode("utf-8", errors="replace")
        delivery = Delivery(tenant_id, "sendgrid_events", body, raw_body, received_at=now, signed_at=signed_at)
        try:
            payload = parse_delivery(body)
        except InputError as exc:
            # Authentic but unreadable, now and on every retry: keep it for audit, acknowledge it.
            receipt.error = exc.message
            store(self.warehouse, delivery, receipt)
            log.warning("webhook delivery unreadable", extra={"tenant_id": tenant_id, "error": exc.message})
            return receipt
        receipt.events = len(payload)
        items = self._parse(tenant_id, payload, receipt)
        self._judge_clicks(tenant_id, items)
        owned = claim_and_store(
            self.warehouse, self.markers, delivery, receipt, items, lambda i: self._row(tenant, i, receipt, now)
        )
        self._effects(tenant_id, owned, receipt, now)
        return receipt

    def _parse(self, tenant_id: str, payload: list[Any], receipt: Receipt) -> list[_Item]:
        items = []
        for index, raw in enumerate(payload):
            try:
                event = parse_event(raw)
            except InvalidEvent as exc:
                receipt.rejected.append(Rejected(index, clean_text(exc.field), clean_text(exc.message)))
                continue
            if event.tenant_id and event.tenant_id != tenant_id:
                # Another tenant's message posted to this tenant's URL: never cross tenants.
                receipt.ignored.append(Ignored(index, f"tenant_id {event.tenant_id!r} is not this tenant"))
                continue
            if event.event not in KNOWN_EVENTS:
                receipt.ignored.append(Ignored(index, f"unknown event type {event.event!r} (recorded)"))
            item = _Item(index, event, event_key(tenant_id, event))
            item.is_machine_open = event.event == "open" and event.sg_machine_open
            items.append(item)
        return items

    def _judge_clicks(self, tenant_id: str, items: list[_Item]) -> None:
        clicks = [i for i in items if i.event.event == "click"]
        if not clicks:
            return
        delivered: dict[str, int] = {}
        for item in items:
            if item.event.event == "delivered":
                for ref in (item.event.oie_message_id, item.event.sg_message_id):
                    if ref:
                        delivered[ref] = min(delivered.get(ref, item.event.timestamp), item.event.timestamp)
        ids = [c.event.oie_message_id for c in clicks if c.event.oie_message_id]
        sent = self.outbound.get_many(tenant_id, ids) if ids else {}
        for click in clicks:
            event = click.event
            reasons = list(classify("GET", event.useragent or "", event.ip).reasons)
            times = [delivered.get(r) for r in (event.oie_message_id, event.sg_message_id) if r]
            sent_at = _as_datetime(sent.get(event.oie_message_id or "", {}).get("sent_at"))
            known = [t for t in times if t is not None] + ([int(sent_at.timestamp())] if sent_at else [])
            if known and 0 <= event.timestamp - min(known) < SCANNER_CLICK_SECONDS:
                reasons.append(f"within_{SCANNER_CLICK_SECONDS}s_of_delivery")
            click.scanner_reasons = tuple(reasons)

    def _row(self, tenant: Tenant, item: _Item, receipt: Receipt, now: datetime) -> dict[str, Any]:
        event = item.event
        return {
            "row_id": f"{receipt.delivery_id}-{item.index}",
            "dedup_key": item.key,
            "tenant_id": tenant.tenant_id,
            "delivery_id": receipt.delivery_id,
            "source": "sendgrid",
            "received_at": now,
            "occurred_at": datetime.fromtimestamp(event.timestamp, tz=UTC),
            "event_type": event.event,
            "is_known_type": event.event in KNOWN_EVENTS,
            "sg_event_id": event.sg_event_id,
            "sg_message_id": event.sg_message_id,
            "email_sha256": _sha256(event.email.lower()),
            "url": event.url if event.event == "click" else None,
            "reason": event.reason,
            "bounce_type": event.type if event.event == "bounce" else None,
            "status": event.status,
            "useragent": event.useragent,
            "ip": keep_ip(event.ip, tenant.ip_mode, self.ip_hash_key),
            "contact_campaign_id": event.contact_campaign_id,
            "campaign_id": event.campaign_id,
            "node_id": event.node_id,
            "oie_message_id": event.oie_message_id,
            "variant_id": event.variant_id,
            "is_machine_open": item.is_machine_open,
            "is_scanner_click": bool(item.scanner_reasons),
            "scanner_reasons": list(item.scanner_reasons),
            "is_duplicate": not item.owned,
        }

    def _effects(self, tenant_id: str, owned: list[_Item], receipt: Receipt, now: datetime) -> None:
        calls: list[Callable[[], object]] = []
        keys: list[str] = []
        for item in owned:
            event = item.event
            reason = SUPPRESSING.get(event.event)
            if reason and not (event.event == "bounce" and event.type == "blocked"):
                # A block is a receiving server refusing this send for now, not a dead address.
                suppression = Suppression(
                    tenant_id=tenant_id,
                    address=event.email,
                    reason=reason,
                    source="sendgrid_webhook",
                    created_at=now,
                    details=(event.reason or event.status or "")[:500],
                )
                calls.append(partial(self.suppressions.add, suppression))
                keys.append(item.key)
                receipt.suppressed += 1
            engine = self._engine_event(tenant_id, item)
            if engine is not None:
                calls.append(partial(self.tasks.enqueue, engine_task(engine)))
                keys.append(item.key)
                receipt.enqueued += 1
        act_or_release(calls, keys, self.markers, tenant_id, {"source": "sendgrid"})

    @staticmethod
    def _engine_event(tenant_id: str, item: _Item) -> EngineEvent | None:
        event = item.event
        kind = ENGINE_TYPES.get(event.event)
        if kind is None or item.is_machine_open or item.scanner_reasons:
            return None
        if not event.contact_campaign_id or not event.oie_message_id:
            return None  # not one of the engine's messages: recorded, nothing to move
        details = {
            k: v
            for k, v in {
                "sendgrid_event": event.event,
                "node_id": event.node_id,
                "url": event.url if event.event == "click" else None,
                "reason": event.reason,
                "bounce_type": event.type if event.event == "bounce" else None,
            }.items()
            if v
        }
        return EngineEvent(
            event_key=item.key,
            tenant_id=tenant_id,
            contact_campaign_id=event.contact_campaign_id,
            message_id=event.oie_message_id,
            type=kind,
            occurred_at=datetime.fromtimestamp(event.timestamp, tz=UTC),
            details=details,
        )
