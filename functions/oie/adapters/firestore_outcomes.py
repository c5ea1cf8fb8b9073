"""Outcomes in Firestore: `tenants/{t}/leads/{lead}` (attributes, state) and its `outcomes`
subcollection, `tenants/{t}/config/outcomes`, `tenants/{t}/nudges`, `tenants/{t}/api_keys`.

Every id that becomes a path segment is checked against its pattern (oie.doc_ids) here too,
whatever the caller checked: `a/outcomes/b` as a lead id would otherwise name a sub-document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie import doc_ids
from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.errors import NotFound
from oie.outcomes.models import STAGE_ORDER, LeadState, Outcome, OutcomeConfig
from oie.outcomes.ports import Build

STAGES = tuple(STAGE_ORDER)
SEARCH_FIELDS = ("lead_id", "email", "first_name", "last_name", "company")
SEARCH_SCAN = 5000


class FirestoreOutcomes:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _tenant(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(doc_ids.require("tenant_id", tenant_id))

    def _lead(self, tenant_id: str, lead_id: str) -> Any:
        return self._tenant(tenant_id).collection("leads").document(doc_ids.require("lead_id", lead_id))

    def record(self, tenant_id: str, lead_id: str, outcome_id: str, build: Build) -> tuple[Outcome, bool]:
        lead_ref = self._lead(tenant_id, lead_id)
        outcome_ref = lead_ref.collection("outcomes").document(doc_ids.require("outcome_id", outcome_id))

        @firestore.transactional  # type: ignore[misc]
        def in_transaction(transaction: Any) -> tuple[Outcome, bool]:
            lead = lead_ref.get(transaction=transaction)
            if not lead.exists:
                raise NotFound("no such lead", field="lead_id")
            existing = outcome_ref.get(transaction=transaction)
            if existing.exists:
                return Outcome.model_validate(existing.to_dict()), False
            data = lead.to_dict() or {}
            outcome, state = build(LeadState.model_validate(data.get("state") or {}), data.get("attributes") or {})
            transaction.set(outcome_ref, outcome.model_dump(mode="json"))
            transaction.update(lead_ref, {"state": state.model_dump(mode="json")})
            return outcome, True

        result: tuple[Outcome, bool] = _guard(lambda: in_transaction(self._client.transaction()))
        return result

    def history(self, tenant_id: str, lead_id: str) -> list[Outcome]:
        if not doc_ids.is_valid("lead_id", lead_id):
            return []
        col = self._lead(tenant_id, lead_id).collection("outcomes")
        docs = _guard(lambda: list(col.stream(timeout=READ_TIMEOUT * 4)))
        return sorted((Outcome.model_validate(d.to_dict()) for d in docs), key=lambda o: (o.occurred_at, o.created_at))

    def lead(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        if not doc_ids.is_valid("lead_id", lead_id):
            return None  # no document can have that id
        snap = _guard(lambda: self._lead(tenant_id, lead_id).get(timeout=READ_TIMEOUT))
        return snap.to_dict() if snap.exists else None

    def set_attributes(self, tenant_id: str, lead_id: str, attributes: dict[str, Any]) -> bool:
        if not doc_ids.is_valid("lead_id", lead_id):
            return False
        ref = self._lead(tenant_id, lead_id)
        try:
            _guard(lambda: ref.update({f"attributes.{k}": v for k, v in attributes.items()}))
        except gexc.NotFound:
            return False
        return True

    def set_many_attributes(self, tenant_id: str, updates: list[tuple[str, dict[str, Any]]]) -> None:
        """Batched attribute updates of existing leads (leads that no longer exist are skipped)."""
        col = self._tenant(tenant_id).collection("leads")
        for start in range(0, len(updates), 400):
            chunk = [
                (lead_id, attrs)
                for lead_id, attrs in updates[start : start + 400]
                if doc_ids.is_valid("lead_id", lead_id)
            ]
            present = self._existing([col.document(lead_id) for lead_id, _ in chunk])
            batch = self._client.batch()
            for lead_id, attributes in chunk:
                if lead_id in present:
                    batch.update(col.document(lead_id), {f"attributes.{k}": v for k, v in attributes.items()})
            _guard(batch.commit)

    def _existing(self, refs: list[Any]) -> set[str]:
        return {snap.id for snap in _guard(lambda: list(self._client.get_all(refs))) if snap.exists}

    def leads(self, tenant_id: str, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        query: Any = self._tenant(tenant_id).collection("leads")
        for name, value in filters.items():
            query = query.where(filter=FieldFilter(f"attributes.{name}", "==", value))
        docs = _guard(lambda: list(query.limit(limit).stream(timeout=30)))
        return [d.to_dict() for d in docs]

    def stage_counts(self, tenant_id: str) -> dict[str, int]:
        # Count aggregations on the lead's own state: each lead once, in its current stage.
        col = self._tenant(tenant_id).collection("leads")
        queries = {"": col, **{s: col.where(filter=FieldFilter("state.current_stage", "==", s)) for s in STAGES}}
        counts = {stage: self._count(query) for stage, query in queries.items()}
        total = counts.pop("")
        counts["none"] = max(0, total - sum(counts.values()))
        return counts

    def _count(self, query: Any) -> int:
        result = _guard(lambda: query.count().get(timeout=READ_TIMEOUT))
        return int(result[0][0].value)

    def search_leads(self, tenant_id: str, text: str, limit: int) -> list[dict[str, Any]]:
        """Leads by id, exact email, or a case-insensitive part of email, name or company.

        Firestore has no text search: the part match scans at most SEARCH_SCAN leads of the
        tenant (only the fields shown), while an exact email or lead id is an indexed lookup.
        """
        needle = " ".join(text.split()).casefold()
        if not needle:
            return []
        col = self._tenant(tenant_id).collection("leads")
        if doc_ids.is_valid("lead_id", text.strip()):
            lead = self.lead(tenant_id, text.strip())
            if lead is not None:
                return [lead]
        if "@" in needle:
            exact = col.where(filter=FieldFilter("email", "==", text.strip().lower())).limit(limit)
            found = [d.to_dict() or {} for d in _guard(lambda: list(exact.stream(timeout=READ_TIMEOUT)))]
            if found:
                return found
        scan = col.select(list(SEARCH_FIELDS)).limit(SEARCH_SCAN)
        matches = []
        for doc in _guard(lambda: list(scan.stream(timeout=READ_TIMEOUT * 4))):
            data = doc.to_dict() or {}
            haystack = " ".join(str(data.get(f, "")) for f in SEARCH_FIELDS[1:]).casefold()
            if needle in haystack:
                matches.append({**data, "lead_id": data.get("lead_id") or doc.id})
                if len(matches) >= limit:
                    break
        return matches

    def config(self, tenant_id: str) -> OutcomeConfig:
        snap = _guard(
            lambda: self._tenant(tenant_id).collection("config").document("outcomes").get(timeout=READ_TIMEOUT)
        )
        return OutcomeConfig.model_validate(snap.to_dict()) if snap.exists else OutcomeConfig()

    def put_config(self, tenant_id: str, config: OutcomeConfig) -> None:
        _guard(lambda: self._tenant(tenant_id).collection("config").document("outcomes").set(config.model_dump()))

    def save_nudge(self, tenant_id: str, nudge_id: str, nudge: dict[str, Any]) -> bool:
        ref = self._tenant(tenant_id).collection("nudges").document(doc_ids.require("nudge_id", nudge_id))
        try:
            _guard(lambda: ref.create(nudge))
        except (gexc.AlreadyExists, gexc.Conflict):
            return False
        return True

    def nudges(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        col = self._tenant(tenant_id).collection("nudges")
        docs = _guard(lambda: list(col.order_by("created_at", direction="DESCENDING").limit(limit).stream(timeout=30)))
        return [{"nudge_id": d.id, **(d.to_dict() or {})} for d in docs]

    def dismiss_nudge(self, tenant_id: str, nudge_id: str, by: str, at: datetime) -> bool:
        if not doc_ids.is_valid("nudge_id", nudge_id):
            return False
        ref = self._tenant(tenant_id).collection("nudges").document(nudge_id)
        try:
            _guard(lambda: ref.update({"dismissed_by": by, "dismissed_at": at}))
        except gexc.NotFound:
            return False
        return True


class FirestoreApiKeys:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _doc(self, tenant_id: str, key_id: str) -> Any:
        tenant = self._client.collection("tenants").document(doc_ids.require("tenant_id", tenant_id))
        return tenant.collection("api_keys").document(doc_ids.require("key_id", key_id))

    def get(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        if not (doc_ids.is_valid("tenant_id", tenant_id) and doc_ids.is_valid("key_id", key_id)):
            return None
        snap = _guard(lambda: self._doc(tenant_id, key_id).get(timeout=READ_TIMEOUT))
        return snap.to_dict() if snap.exists else None

    def put(self, tenant_id: str, key_id: str, record: dict[str, Any]) -> None:
        _guard(lambda: self._doc(tenant_id, key_id).set(record))
