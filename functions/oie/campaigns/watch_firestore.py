"""The intent watch (oie.campaigns.watch) in Firestore: `tenants/{t}/intent_watch/{tracking_id}`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.watch import WatchEntry


class FirestoreIntentWatch:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _doc(self, tenant_id: str, tracking_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("intent_watch").document(tracking_id)

    def add(self, tenant_id: str, tracking_id: str, lead_id: str, ccid: str, at: datetime) -> None:
        fields = {"lead_id": lead_id, "contact_campaign_ids": firestore.ArrayUnion([ccid]), "updated_at": at}
        _guard(lambda: self._doc(tenant_id, tracking_id).set(fields, merge=True))

    def get(self, tenant_id: str, tracking_id: str) -> WatchEntry | None:
        snap = _guard(lambda: self._doc(tenant_id, tracking_id).get(timeout=READ_TIMEOUT))
        if not snap.exists:
            return None
        data = snap.to_dict() or {}
        return WatchEntry(
            tenant_id=tenant_id,
            tracking_id=tracking_id,
            lead_id=str(data.get("lead_id", "")),
            contact_campaign_ids=tuple(data.get("contact_campaign_ids") or ()),
            updated_at=data.get("updated_at"),
        )

    def drop(self, tenant_id: str, tracking_id: str, ended: Collection[str]) -> None:
        ref = self._doc(tenant_id, tracking_id)

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> None:
            # In a transaction: a contact started meanwhile (array union) is never dropped with the rest.
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                return
            left = [c for c in (snap.to_dict() or {}).get("contact_campaign_ids") or () if c not in ended]
            if left:
                transaction.update(ref, {"contact_campaign_ids": left})
            else:
                transaction.delete(ref)

        _guard(lambda: run(self._client.transaction()))
