"""Where suppressions live: Firestore `tenants/{t}/suppressions/{channel_sha256(address)}`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from oie.suppressions.models import Channel, Suppression, address_key, tombstone


class SuppressionStore(Protocol):
    def add(self, suppression: Suppression) -> bool:
        """Record a suppression; False when the address was already suppressed (kept as it was)."""
        ...

    def is_suppressed(self, tenant_id: str, channel: Channel, address: str) -> bool: ...

    def forget_address(self, tenant_id: str, channel: Channel, address: str, now: datetime) -> bool:
        """Keep the address suppressed by its hash only (an erasure); True when it was suppressed before."""
        ...


class FirestoreSuppressions:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _doc(self, tenant_id: str, channel: Channel, address: str) -> Any:
        return (
            self._client.collection("tenants")
            .document(tenant_id)
            .collection("suppressions")
            .document(address_key(channel, address))
        )

    def add(self, suppression: Suppression) -> bool:
        from google.api_core import exceptions as gexc

        try:
            self._doc(suppression.tenant_id, suppression.channel, suppression.address).create(
                suppression.model_dump(mode="json")
            )
        except (gexc.AlreadyExists, gexc.Conflict):
            return False
        return True

    def is_suppressed(self, tenant_id: str, channel: Channel, address: str) -> bool:
        return bool(self._doc(tenant_id, channel, address).get(timeout=5).exists)

    def forget_address(self, tenant_id: str, channel: Channel, address: str, now: datetime) -> bool:
        from oie.adapters.firestore_store import _guard

        doc = self._doc(tenant_id, channel, address)
        snap = _guard(lambda: doc.get(timeout=5))
        reason = str((snap.to_dict() or {}).get("reason") or "erasure") if snap.exists else "erasure"
        _guard(lambda: doc.set(tombstone(tenant_id, channel, reason, now)))
        return bool(snap.exists)


class MemorySuppressions:
    """The same contract in memory, for unit tests of services that check suppressions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Suppression | dict[str, object]] = {}

    def add(self, suppression: Suppression) -> bool:
        key = (suppression.tenant_id, address_key(suppression.channel, suppression.address))
        if key in self.items:
            return False
        self.items[key] = suppression
        return True

    def is_suppressed(self, tenant_id: str, channel: Channel, address: str) -> bool:
        return (tenant_id, address_key(channel, address)) in self.items

    def forget_address(self, tenant_id: str, channel: Channel, address: str, now: datetime) -> bool:
        key = (tenant_id, address_key(channel, address))
        before = self.items.get(key)
        reason = before.reason if isinstance(before, Suppression) else "erasure"
        self.items[key] = tombstone(tenant_id, channel, reason, now)
        return before is not None
