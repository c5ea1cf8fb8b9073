"""What the webhooks read and claim in Firestore, behind small ports.

- `tenants/{t}/webhook_event_keys/{key}`: one marker per event (or reply) already
  handled, created once; a retry that finds it changes nothing. `expire_at` is there
  for a Firestore TTL policy (SendGrid retries for up to 72 hours; markers live 7 days).
- `tenants/{t}/outbound_messages/{message_id}`: written by the campaign engine
  (layout in `oie.campaigns.contracts`); read here to match replies and delivery times.
  Queried inside the tenant, so a token can only ever find that tenant's messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from oie.webhooks.models import ENGINE_ID

MARKER_TTL = timedelta(days=7)
BATCH_LIMIT = 500  # Firestore's limit of writes per batch


class EventMarkers(Protocol):
    def claim(self, tenant_id: str, keys: Sequence[str]) -> set[str]:
        """Mark keys as handled; return those that were not marked before (this caller owns them)."""
        ...

    def release(self, tenant_id: str, keys: Iterable[str]) -> None:
        """Forget claims whose work failed, so a retry handles them again."""
        ...


class OutboundMessages(Protocol):
    def get_many(self, tenant_id: str, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def find_by_reply_token(self, tenant_id: str, token: str) -> tuple[str, dict[str, Any]] | None: ...

    def find_by_rfc_message_ids(self, tenant_id: str, rfc_ids: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
        """The message one of these Message-IDs belongs to (In-Reply-To first, then References)."""
        ...


class FirestoreEventMarkers:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _col(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("webhook_event_keys")

    def claim(self, tenant_id: str, keys: Sequence[str]) -> set[str]:
        from google.api_core import exceptions as gexc

        from oie.adapters.firestore_store import _guard

        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        col = self._col(tenant_id)
        refs = [col.document(k) for k in wanted]
        existing = {
            s.id for s in _guard(lambda: list(self._client.get_all(refs, field_paths=["at"], timeout=20))) if s.exists
        }
        now = datetime.now(UTC)
        marker = {"at": now, "expire_at": now + MARKER_TTL}
        fresh = [k for k in wanted if k not in existing]
        claimed: set[str] = set()
        for start in range(0, len(fresh), BATCH_LIMIT):
            chunk = fresh[start : start + BATCH_LIMIT]
            batch = self._client.batch()
            for key in chunk:
                batch.create(col.document(key), marker)
            try:
                _guard(partial(batch.commit, timeout=20))
                claimed.update(chunk)
            except (gexc.AlreadyExists, gexc.Conflict):
                # A concurrent retry of the same events got some of them first: learn which, one by one.
                for key in chunk:
                    try:
                        _guard(partial(col.document(key).create, marker, timeout=10))
                        claimed.add(key)
                    except (gexc.AlreadyExists, gexc.Conflict):
                        pass
        return claimed

    def release(self, tenant_id: str, keys: Iterable[str]) -> None:
        from oie.adapters.firestore_store import _guard

        col = self._col(tenant_id)
        keys = list(keys)
        for start in range(0, len(keys), BATCH_LIMIT):
            batch = self._client.batch()
            for key in keys[start : start + BATCH_LIMIT]:
                batch.delete(col.document(key))
            _guard(partial(batch.commit, timeout=20))


class FirestoreOutboundMessages:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _col(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("outbound_messages")

    def get_many(self, tenant_id: str, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        from oie.adapters.firestore_store import _guard

        # Ids come from custom args: only the engine's own form may become a document path.
        refs = [self._col(tenant_id).document(i) for i in dict.fromkeys(message_ids) if ENGINE_ID.fullmatch(i)]
        if not refs:
            return {}
        snaps = _guard(lambda: list(self._client.get_all(refs, timeout=10)))
        return {s.id: s.to_dict() or {} for s in snaps if s.exists}

    def _first(self, tenant_id: str, field: str, op: str, value: Any) -> tuple[str, dict[str, Any]] | None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        from oie.adapters.firestore_store import _guard

        query = self._col(tenant_id).where(filter=FieldFilter(field, op, value)).limit(1)  # type: ignore[no-untyped-call]
        docs = _guard(lambda: list(query.stream(timeout=10)))
        return (docs[0].id, docs[0].to_dict() or {}) if docs else None

    def find_by_reply_token(self, tenant_id: str, token: str) -> tuple[str, dict[str, Any]] | None:
        return self._first(tenant_id, "reply_token", "==", token)

    def find_by_rfc_message_ids(self, tenant_id: str, rfc_ids: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
        for rfc_id in list(dict.fromkeys(rfc_ids))[:20]:
            found = self._first(tenant_id, "rfc_message_id", "==", rfc_id)
            if found:
                return found
        return None


class MemoryEventMarkers:
    """The marker contract in memory, for unit tests."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    def claim(self, tenant_id: str, keys: Sequence[str]) -> set[str]:
        fresh = {k for k in keys if (tenant_id, k) not in self.keys}
        self.keys.update((tenant_id, k) for k in fresh)
        return fresh

    def release(self, tenant_id: str, keys: Iterable[str]) -> None:
        for key in keys:
            self.keys.discard((tenant_id, key))


class MemoryOutboundMessages:
    """Outbound messages in memory, for unit tests: {(tenant, message_id): document}."""

    def __init__(self, items: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.items = items or {}

    def get_many(self, tenant_id: str, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {i: self.items[(tenant_id, i)] for i in message_ids if (tenant_id, i) in self.items}

    def _find(self, tenant_id: str, field: str, value: str) -> tuple[str, dict[str, Any]] | None:
        for (tenant, message_id), doc in self.items.items():
            if tenant == tenant_id and doc.get(field) == value:
                return message_id, doc
        return None

    def find_by_reply_token(self, tenant_id: str, token: str) -> tuple[str, dict[str, Any]] | None:
        return self._find(tenant_id, "reply_token", token)

    def find_by_rfc_message_ids(self, tenant_id: str, rfc_ids: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
        for rfc_id in rfc_ids:
            if found := self._find(tenant_id, "rfc_message_id", rfc_id):
                return found
        return None
