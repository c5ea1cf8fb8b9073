"""Settings documents in Firestore: the change log and the listing of API keys.

Layout under `tenants/{t}/`: `settings_changes/{change_id}` (the log), `api_keys/{key_id}`
(written by oie.outcomes.auth, listed and revoked here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]

from oie import doc_ids
from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.configuration.changelog import Change

MAX_KEYS = 500


class _Tenanted:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _col(self, tenant_id: str, name: str) -> Any:
        tenant = self._client.collection("tenants").document(doc_ids.require("tenant_id", tenant_id))
        return tenant.collection(name)


class FirestoreChangeLog(_Tenanted):
    def add(self, change: Change) -> None:
        doc = change.model_dump(mode="json") | {"at": change.at}
        _guard(lambda: self._col(change.tenant_id, "settings_changes").document(change.change_id).create(doc))

    def recent(self, tenant_id: str, limit: int) -> list[Change]:
        query = self._col(tenant_id, "settings_changes").order_by("change_id", direction="DESCENDING").limit(limit)
        return [Change.model_validate(d.to_dict()) for d in _guard(lambda: list(query.stream(timeout=READ_TIMEOUT)))]


class FirestoreKeyAdmin(_Tenanted):
    """A tenant's API keys as records (hash included: callers drop it before showing one)."""

    def all(self, tenant_id: str) -> list[tuple[str, dict[str, Any]]]:
        docs = _guard(lambda: list(self._col(tenant_id, "api_keys").limit(MAX_KEYS).stream(timeout=READ_TIMEOUT)))
        return [(d.id, d.to_dict() or {}) for d in docs]

    def revoke(self, tenant_id: str, key_id: str, at: datetime) -> dict[str, Any] | None:
        """Mark a key revoked; the record before, or None when the tenant has no such key."""
        ref = self._col(tenant_id, "api_keys").document(doc_ids.require("key_id", key_id))
        snap = _guard(lambda: ref.get(timeout=READ_TIMEOUT))
        if not snap.exists:
            return None
        _guard(lambda: ref.update({"revoked": True, "revoked_at": at}))
        return snap.to_dict() or {}
