"""What every webhook delivery stores: its raw row, then its events' claims and rows, all or none.

Shared by SendGrid's events and the sequencers' webhooks (the order of work is in
oie.webhooks.events): the first claim of an event key owns the event and every later copy
is a duplicate; the delivery row and the event rows (copies flagged, so the duplicate rate
can be measured) are written after the claims, and when a write fails the claims are
released, so the sender's retry finds its events unclaimed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from oie.errors import BackendUnavailable, OieError
from oie.ports import Row, Warehouse
from oie.webhooks.store import EventMarkers

# Reasons listed per delivery (answer and row); the counts are always complete.
MAX_LISTED = 100


@dataclass(frozen=True)
class Ignored:
    """A valid event not acted on (another tenant's; an unknown type, which is still recorded)."""

    index: int
    reason: str


@dataclass(frozen=True)
class Rejected:
    """An event that can never be stored: kept only in the raw delivery."""

    index: int
    field: str
    message: str


@dataclass
class Receipt:
    """What one delivery did."""

    delivery_id: str
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    ignored: list[Ignored] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    enqueued: int = 0
    suppressed: int = 0
    error: str | None = None  # the whole body could not be read

    def reasons(self) -> dict[str, list[dict[str, Any]]]:
        """The first MAX_LISTED ignored and rejected events, with why."""
        return {
            "ignored": [{"index": i.index, "reason": i.reason} for i in self.ignored[:MAX_LISTED]],
            "rejected": [
                {"index": r.index, "field": r.field, "message": r.message} for r in self.rejected[:MAX_LISTED]
            ],
        }

    def counts(self) -> dict[str, Any]:
        """The numbers alone (for logs)."""
        return {
            "delivery_id": self.delivery_id,
            "events": self.events,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "ignored_events": len(self.ignored),
            "rejected_events": len(self.rejected),
            "enqueued": self.enqueued,
            "suppressed": self.suppressed,
        }

    def summary(self) -> dict[str, Any]:
        """The answer to the sender."""
        answer = {**self.counts(), **self.reasons()}
        if self.error:
            answer["error"] = self.error
        return answer


@dataclass(frozen=True)
class Delivery:
    """One post as received; `raw_body` is what is kept for audit (secrets a sender echoes masked)."""

    tenant_id: str
    kind: str
    body: bytes
    raw_body: str
    received_at: datetime
    signed_at: datetime | None = None

    def row(self, receipt: Receipt) -> Row:
        """The `webhook_deliveries` row: the raw body with what became of its events."""
        return {
            "delivery_id": receipt.delivery_id,
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "received_at": self.received_at,
            "signed_at": self.signed_at,
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "raw_body": self.raw_body,
            "event_count": receipt.events,
            "new_events": receipt.accepted,
            "duplicate_events": receipt.duplicates,
            "ignored_events": len(receipt.ignored),
            "rejected_events": len(receipt.rejected),
            "error": receipt.error,
            "details": json.dumps(receipt.reasons()),
        }


class Claimable(Protocol):
    """An event of a delivery, keyed for de-duplication."""

    key: str
    owned: bool


Item = TypeVar("Item", bound=Claimable)


def guarded(call: Callable[[], object]) -> None:
    """Run a warehouse call; any failure but an OieError becomes BackendUnavailable (503, retry)."""
    # What reaches the warehouse was validated, so a failure here is the backend's.
    try:
        call()
    except OieError:
        raise
    except Exception as exc:
        # Only the error's kind: a warehouse error quotes the rows it refused, and the rows
        # hold recipients' addresses and replies (the cause stays chained for the traceback).
        raise BackendUnavailable(f"warehouse: {type(exc).__name__}") from exc


def store(warehouse: Warehouse, delivery: Delivery, receipt: Receipt, rows: Sequence[Row] = ()) -> None:
    """Write the delivery's row, then its event rows (if any)."""
    guarded(lambda: warehouse.insert_rows("webhook_deliveries", [delivery.row(receipt)], id_field="delivery_id"))
    if rows:
        guarded(lambda: warehouse.insert_rows("message_events", rows, id_field="row_id"))


def claim_and_store(
    warehouse: Warehouse,
    markers: EventMarkers,
    delivery: Delivery,
    receipt: Receipt,
    items: Sequence[Item],
    row: Callable[[Item], Row],
) -> list[Item]:
    """Claim the items' keys, store the delivery and a row per item; the items this delivery owns.

    The first copy of a key in the delivery owns it; on a failed write the claims are released.
    """
    owned = markers.claim(delivery.tenant_id, [i.key for i in items])
    for item in items:
        if item.key in owned:
            item.owned = True
            owned.discard(item.key)
    receipt.accepted = sum(i.owned for i in items)
    receipt.duplicates = len(items) - receipt.accepted
    claimed = [i.key for i in items if i.owned]
    try:
        store(warehouse, delivery, receipt, [row(i) for i in items])
    except Exception:
        markers.release(delivery.tenant_id, claimed)
        raise
    return [i for i in items if i.owned]
