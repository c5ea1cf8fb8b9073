"""Everything Firestore holds about one person, found and deleted for an erasure.

Under `tenants/{t}/`: the lead and its outcomes (a sub-collection: deleting a document
never deletes its sub-collections), the profile, the contact campaigns and their scheduled
actions, the outbound messages (their address is in each); top level: the tracking links,
alert markers (the alert carried the name and address) and spooled clicks. Nudges keep
lead ids as evidence: the erased id is taken out of them. The retention job expires
outbound message documents older than the tenant's retention.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from oie.adapters.firestore_store import BATCH_LIMIT, _guard

_IN_LIMIT = 30  # Firestore's limit of values in an `in` filter
_TIMEOUT = 30


def _filter(field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)  # type: ignore[no-untyped-call]


class FirestorePersonData:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _refs(self, query: Any) -> list[Any]:
        return [d.reference for d in _guard(lambda: list(query.stream(timeout=_TIMEOUT)))]

    def _in(self, col: Any, field: str, values: list[str]) -> list[Any]:
        refs: list[Any] = []
        for start in range(0, len(values), _IN_LIMIT):
            refs += self._refs(col.where(filter=_filter(field, "in", values[start : start + _IN_LIMIT])))
        return refs

    def full_name(self, tenant_id: str, lead_id: str) -> str:
        ref = self._client.collection("tenants").document(tenant_id).collection("leads").document(lead_id)
        snap = _guard(lambda: ref.get(timeout=_TIMEOUT))
        lead = (snap.to_dict() or {}) if snap.exists else {}
        first, last = str(lead.get("first_name") or "").strip(), str(lead.get("last_name") or "").strip()
        return f"{first} {last}" if first and last else ""

    def forget(self, tenant_id: str, lead_id: str, email: str) -> dict[str, int]:
        """Delete the person's documents; counts by kind (`lead` is 1 when the lead existed)."""
        tenant = self._client.collection("tenants").document(tenant_id)
        lead = tenant.collection("leads").document(lead_id)
        found: dict[str, list[Any]] = {
            "lead": [lead],
            "outcomes": list(_guard(lambda: list(lead.collection("outcomes").list_documents()))),
            "profile": [tenant.collection("profiles").document(lead_id)],
            "links": self._refs(
                self._client.collection("links")
                .where(filter=_filter("tenant_id", "==", tenant_id))
                .where(filter=_filter("lead_id", "==", lead_id))
            ),
        }
        campaigns = self._refs(
            tenant.collection("contact_campaigns").where(filter=_filter("contact.lead_id", "==", lead_id))
        )
        ccids = [ref.id for ref in campaigns]
        found["contact_campaigns"] = campaigns
        found["scheduled_actions"] = self._in(tenant.collection("scheduled_actions"), "contact_campaign_id", ccids)
        messages = self._in(tenant.collection("outbound_messages"), "contact_campaign_id", ccids)
        # A message to the address outside any of the lead's campaigns is theirs too.
        messages += self._refs(tenant.collection("outbound_messages").where(filter=_filter("to_email", "==", email)))
        found["outbound_messages"] = list({ref.path: ref for ref in messages}.values())
        found["alert_markers"] = self._refs(
            self._client.collection("alert_markers")
            .where(filter=_filter("payload.tenant_id", "==", tenant_id))
            .where(filter=_filter("payload.alert.lead.id", "==", lead_id))
        )
        # What planning and intent triggers keep about the person: plan copy and analysis, reviews, watches.
        found["plan_generations"] = self._refs(
            tenant.collection("plan_generations").where(filter=_filter("lead_id", "==", lead_id))
        )
        found["plan_reviews"] = [tenant.collection("plan_reviews").document(ccid) for ccid in ccids]
        found["intent_watch"] = self._refs(
            tenant.collection("intent_watch").where(filter=_filter("lead_id", "==", lead_id))
        )
        found["spooled_clicks"] = self._refs(
            self._client.collection("spooled_clicks")
            .where(filter=_filter("tenant_id", "==", tenant_id))
            .where(filter=_filter("lead_id", "==", lead_id))
        )
        counts = {kind: self._delete(refs) for kind, refs in found.items()}
        counts["nudges"] = self._drop_from_nudges(tenant, lead_id)
        return counts

    def expire_messages(self, tenant_id: str, before: datetime) -> int:
        """Delete the tenant's outbound message documents created before `before` (the address is in each)."""
        col = self._client.collection("tenants").document(tenant_id).collection("outbound_messages")
        old = col.where(filter=_filter("created_at", "<", before)).limit(BATCH_LIMIT)
        deleted = 0
        while refs := self._refs(old):
            batch = self._client.batch()
            for ref in refs:
                batch.delete(ref)
            _guard(batch.commit)
            deleted += len(refs)
        return deleted

    def _delete(self, refs: Iterable[Any]) -> int:
        refs = list(refs)
        existing = [s.reference for s in _guard(lambda: list(self._client.get_all(refs, timeout=_TIMEOUT))) if s.exists]
        for start in range(0, len(existing), BATCH_LIMIT):
            batch = self._client.batch()
            for ref in existing[start : start + BATCH_LIMIT]:
                batch.delete(ref)
            _guard(batch.commit)
        return len(existing)

    def _drop_from_nudges(self, tenant: Any, lead_id: str) -> int:
        from google.cloud import firestore  # type: ignore[attr-defined]

        refs = self._refs(tenant.collection("nudges").where(filter=_filter("lead_ids", "array_contains", lead_id)))
        for ref in refs:
            _guard(partial(ref.update, {"lead_ids": firestore.ArrayRemove([lead_id])}))
        return len(refs)
