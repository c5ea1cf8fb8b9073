"""Smartlead and Instantly posts: authenticate, store raw, normalise, de-duplicate, tie to the lead, act.

Order of work, as for SendGrid's events (oie.webhooks.events), so a failure never loses an
event nor doubles one:
1. the tenant's secret for this sequencer (401 without one, 403 when wrong): nothing stored;
2. parse: a body that can never be read is kept raw with its error and answered 400 naming
   the field (the sequencer's retries send the same bytes); unknown event types are kept
   raw, never normalised; an event that can never be read is listed in `rejected`;
3. tie each event to a lead: its tracking id custom variable (or a clicked /go link), else
   the recipient's sha256 in identity_map; then one Firestore marker per event key: the
   first claim owns the event, every later copy is a duplicate;
4. one warehouse insert for the delivery, one for its events (copies flagged); on failure
   the claims are released and 503;
5. owned events act: bounces and unsubscribes suppress the address; replies, bounces and
   unsubscribes reach the campaign engine as EngineEvents (a Cloud Task named by the key)
   for the lead's contact campaign in the event's campaign, where the plan's stop rules
   end it (`replied`, `bounced`, `unsubscribed`) or take its reply transition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from oie.campaigns.contracts import EngineEvent, EngineEventType
from oie.errors import Forbidden, InputError, Unauthenticated
from oie.json_input import clean_text
from oie.logs import get_logger
from oie.ports import Clock, Row, TaskQueue, Warehouse
from oie.suppressions.models import Reason, Source, Suppression
from oie.suppressions.store import SuppressionStore
from oie.webhooks.deliveries import Delivery, Ignored, Receipt, Rejected, claim_and_store, guarded, store
from oie.webhooks.effects import act_or_release, engine_task
from oie.webhooks.events import TenantLookup
from oie.webhooks.models import InvalidEvent
from oie.webhooks.sequencers.auth import matches
from oie.webhooks.sequencers.models import NormalType, Sequencer, SequencerEvent
from oie.webhooks.sequencers.normalise import (
    LeadRef,
    Unknown,
    event_key,
    message_event_row,
    normalise,
    parse_delivery,
)
from oie.webhooks.sequencers.store import LeadDirectory, SecretHashes
from oie.webhooks.store import EventMarkers

log = get_logger(__name__)
SUPPRESSING: dict[NormalType, Reason] = {"bounce": "bounce", "unsubscribe": "unsubscribe"}
SOURCES: dict[Sequencer, Source] = {"smartlead": "smartlead_webhook", "instantly": "instantly_webhook"}
STOPPING: dict[NormalType, EngineEventType] = {"reply": "reply", "bounce": "bounce", "unsubscribe": "unsubscribe"}
REDACTED = ("secret_key",)  # Smartlead echoes its own webhook secret in every post: never kept


@dataclass
class _Item:
    index: int
    event: SequencerEvent
    key: str
    lead: LeadRef | None = None
    owned: bool = False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def audit_copy(body: bytes) -> str:
    """The body as stored: verbatim, except secrets a sequencer echoes (`secret_key`) are masked."""
    text = body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except ValueError:
        return text
    events = payload if isinstance(payload, list) else [payload]
    if not any(isinstance(e, dict) and any(k in e for k in REDACTED) for e in events):
        return text
    masked = [
        {k: "[redacted]" if k in REDACTED else v for k, v in e.items()} if isinstance(e, dict) else e for e in events
    ]
    return json.dumps(masked if isinstance(payload, list) else masked[0])


class SequencerWebhooks:
    def __init__(
        self,
        *,
        tenants: TenantLookup,
        secrets: SecretHashes,
        leads: LeadDirectory,
        markers: EventMarkers,
        warehouse: Warehouse,
        tasks: TaskQueue,
        suppressions: SuppressionStore,
        clock: Clock,
    ) -> None:
        self.tenants = tenants
        self.secrets = secrets
        self.leads = leads
        self.markers = markers
        self.warehouse = warehouse
        self.tasks = tasks
        self.suppressions = suppressions
        self.clock = clock

    def authorize(self, sequencer: Sequencer, tenant_id: str, secret: str | None) -> None:
        """Unauthenticated without a secret; Forbidden (the same for an unknown tenant) when it is not the tenant's."""
        if not secret:
            raise Unauthenticated(
                f"{sequencer} posts need the tenant's webhook secret (see `oie webhooks sequencer-secret`)",
                field="authorization",
            )
        stored = self.secrets.get(tenant_id, sequencer) if self.tenants.get(tenant_id) is not None else None
        if not matches(stored, tenant_id, sequencer, secret):
            log.warning("sequencer webhook secret refused", extra={"tenant_id": tenant_id, "sequencer": sequencer})
            raise Forbidden(f"not this tenant's {sequencer} webhook secret", field="authorization")

    def receive(self, sequencer: Sequencer, tenant_id: str, body: bytes, secret: str | None) -> Receipt:
        """Handle one post; raise an OieError for the handler to answer."""
        self.authorize(sequencer, tenant_id, secret)
        now = self.clock.now()
        # The same bytes again (a retry) are the same delivery: one raw row, one row per event.
        body_hash = hashlib.sha256(body).hexdigest()
        receipt = Receipt(delivery_id=_sha256(f"{sequencer}\x1f{tenant_id}\x1f{body_hash}")[:40])
        delivery = Delivery(tenant_id, f"{sequencer}_events", body, audit_copy(body), received_at=now)
        try:
            payload = parse_delivery(body)
        except InputError as exc:
            receipt.error = exc.message
            store(self.warehouse, delivery, receipt)
            raise
        receipt.events = len(payload)
        items = self._parse(sequencer, tenant_id, payload, receipt)
        if not items and not receipt.ignored:
            first = receipt.rejected[0]
            receipt.error = f"{first.field}: {first.message}"
            store(self.warehouse, delivery, receipt)
            raise InputError(first.message, field=first.field)
        self._resolve(tenant_id, items)

        def row(i: _Item) -> Row:
            return message_event_row(
                i.event,
                key=i.key,
                tenant_id=tenant_id,
                delivery_id=receipt.delivery_id,
                index=i.index,
                received_at=now,
                lead=i.lead,
                duplicate=not i.owned,
            )

        owned = claim_and_store(self.warehouse, self.markers, delivery, receipt, items, row)
        self._effects(sequencer, tenant_id, owned, receipt, now)
        return receipt

    def _parse(self, sequencer: Sequencer, tenant_id: str, payload: list[Any], receipt: Receipt) -> list[_Item]:
        items = []
        for index, raw in enumerate(payload):
            try:
                event = normalise(sequencer, raw)
            except InvalidEvent as exc:
                receipt.rejected.append(Rejected(index, clean_text(exc.field), clean_text(exc.message)))
                continue
            if isinstance(event, Unknown):
                kind = clean_text(event.raw_type)[:64]
                receipt.ignored.append(Ignored(index, f"event type {kind!r} stored raw only"))
                continue
            items.append(_Item(index, event, event_key(tenant_id, event)))
        return items

    def _resolve(self, tenant_id: str, items: list[_Item]) -> None:
        """Each event's lead: its tracking id first, else the recipient's hash."""
        tracking: dict[str, LeadRef] = {}
        by_email: dict[str, LeadRef] = {}

        def lookup() -> None:
            ids = [i.event.tracking_id for i in items if i.event.tracking_id]
            tracking.update(self.leads.by_tracking_ids(tenant_id, ids) if ids else {})
            rest = [_sha256(i.event.email) for i in items if tracking.get(i.event.tracking_id or "") is None]
            by_email.update(self.leads.by_email_hashes(tenant_id, rest) if rest else {})

        guarded(lookup)
        for item in items:
            item.lead = tracking.get(item.event.tracking_id or "") or by_email.get(_sha256(item.event.email))

    def _effects(
        self, sequencer: Sequencer, tenant_id: str, owned: list[_Item], receipt: Receipt, now: datetime
    ) -> None:
        calls: list[Callable[[], object]] = []
        keys: list[str] = []
        for item in owned:
            event = item.event
            if reason := SUPPRESSING.get(event.event_type):
                suppression = Suppression(
                    tenant_id=tenant_id,
                    address=event.email,
                    reason=reason,
                    source=SOURCES[sequencer],
                    created_at=now,
                    details=(event.reason or event.raw_type)[:500],
                )
                calls.append(partial(self.suppressions.add, suppression))
                keys.append(item.key)
                receipt.suppressed += 1
            kind = STOPPING.get(event.event_type)
            if kind is not None and item.lead is not None:
                engine = EngineEvent(
                    event_key=item.key,
                    tenant_id=tenant_id,
                    contact_campaign_id=item.lead.contact_campaign_id,
                    message_id=f"{sequencer}:{event.provider_message_id or item.key}"[:200],
                    type=kind,
                    occurred_at=event.occurred_at,
                    details={
                        k: v
                        for k, v in {
                            "source": sequencer,
                            "sequencer_event": event.raw_type,
                            "sequencer_campaign_id": event.provider_campaign_id,
                            "step": event.step,
                            "matched_by": item.lead.matched_by,
                            "reason": event.reason,
                        }.items()
                        if v is not None
                    },
                )
                calls.append(partial(self.tasks.enqueue, engine_task(engine)))
                keys.append(item.key)
                receipt.enqueued += 1
        act_or_release(calls, keys, self.markers, tenant_id, {"source": sequencer})
