"""CRM sync's Firestore documents.

`tenants/{t}/crm/config`: the connection (a secret ref, never a token), which fields exist
in the CRM, the latest run. `tenants/{t}/leads/{lead}`: `crmContactId`, `syncedToCRM`,
`lastSyncedAt`, `crmLastError` beside the lead. `tenants/{t}/crm_notes/{key}`: the claim on
each note (key from the level change; see oie.crm.claims), so neither a retried sync nor two
syncs at once add a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie.adapters.firestore_store import BATCH_LIMIT, READ_TIMEOUT, _guard
from oie.crm import claims
from oie.crm.claims import NoteClaim
from oie.crm.models import CrmConfig, LeadSyncState

_RUN_FIELDS = (
    "schema_fields",
    "last_sync_at",
    "last_error",
    "updated_at",
    "last_readback_at",
    "last_readback_recorded",
    "last_readback_error",
)


class FirestoreCrmStore:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _tenant(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id)

    def _config(self, tenant_id: str) -> Any:
        return self._tenant(tenant_id).collection("crm").document("config")

    def _read_config(self, tenant_id: str) -> dict[str, Any]:
        snap = _guard(lambda: self._config(tenant_id).get(timeout=READ_TIMEOUT))
        return (snap.to_dict() or {}) if snap.exists else {}

    def get_config(self, tenant_id: str) -> CrmConfig | None:
        data = self._read_config(tenant_id)
        if not data:
            return None
        return CrmConfig.model_validate({k: v for k, v in data.items() if k not in _RUN_FIELDS})

    def put_config(self, tenant_id: str, config: CrmConfig) -> None:
        # A new connection starts over: its CRM may lack the fields the old one had.
        data = {**config.model_dump(mode="json"), "schema_fields": [], "updated_at": datetime.now(UTC)}
        _guard(lambda: self._config(tenant_id).set(data))

    def update_config(self, tenant_id: str, config: CrmConfig) -> None:
        # update(), not set(merge=True): a mapping field (deal_stages) is replaced, never merged.
        data = {**config.model_dump(mode="json"), "updated_at": datetime.now(UTC)}
        _guard(lambda: self._config(tenant_id).update(data))

    def delete_config(self, tenant_id: str) -> None:
        _guard(lambda: self._config(tenant_id).delete())

    def connected_tenants(self) -> list[str]:
        # Tenants are few: read each one's config document rather than rely on a collection-group index.
        tenants = _guard(lambda: list(self._client.collection("tenants").list_documents()))
        configs = _guard(partial(self._get_all, [self._config(t.id) for t in tenants])) if tenants else []
        return sorted(snap.reference.parent.parent.id for snap in configs if snap.exists)

    def mark_schema(self, tenant_id: str, fields: Sequence[str]) -> None:
        _guard(lambda: self._config(tenant_id).update({"schema_fields": list(fields)}))

    def schema_fields(self, tenant_id: str) -> tuple[str, ...]:
        return tuple(self._read_config(tenant_id).get("schema_fields", ()))

    def record_run(self, tenant_id: str, at: datetime, error: str) -> None:
        _guard(lambda: self._config(tenant_id).update({"last_sync_at": at, "last_error": error[:500]}))

    def run_status(self, tenant_id: str) -> tuple[datetime | None, str]:
        data = self._read_config(tenant_id)
        return data.get("last_sync_at"), str(data.get("last_error", ""))

    def lead_emails(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        leads = self._tenant(tenant_id).collection("leads")
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(lead_ids), 100):
            refs = [leads.document(i) for i in lead_ids[start : start + 100]]
            for snap in _guard(partial(self._get_all, refs)):
                data = (snap.to_dict() or {}) if snap.exists else {}
                if data.get("email"):
                    found[snap.id] = {
                        k: str(data.get(k) or "") for k in ("email", "first_name", "last_name", "company")
                    }
        return found

    def _get_all(self, refs: list[Any]) -> list[Any]:
        return list(self._client.get_all(refs, timeout=READ_TIMEOUT))

    def lead_state(self, tenant_id: str, lead_id: str) -> LeadSyncState:
        ref = self._tenant(tenant_id).collection("leads").document(lead_id)
        snap = _guard(lambda: ref.get(timeout=READ_TIMEOUT))
        data = (snap.to_dict() or {}) if snap.exists else {}
        return LeadSyncState(
            crm_contact_id=data.get("crmContactId"),
            synced_to_crm=bool(data.get("syncedToCRM", False)),
            last_synced_at=data.get("lastSyncedAt"),
            last_error=str(data.get("crmLastError", "")),
            created_by_engine=bool(data.get("crmContactCreatedByEngine", False)),
        )

    def set_lead_states(self, tenant_id: str, states: Sequence[tuple[str, LeadSyncState]]) -> None:
        leads = self._tenant(tenant_id).collection("leads")
        for start in range(0, len(states), BATCH_LIMIT):
            batch = self._client.batch()
            for lead_id, state in states[start : start + BATCH_LIMIT]:
                fields: dict[str, Any] = {"syncedToCRM": state.synced_to_crm, "crmLastError": state.last_error[:500]}
                # A failed sync keeps the time and contact of the last one that went through.
                if state.last_synced_at is not None:
                    fields["lastSyncedAt"] = state.last_synced_at
                if state.crm_contact_id is not None:
                    fields["crmContactId"] = state.crm_contact_id
                if state.created_by_engine:
                    fields["crmContactCreatedByEngine"] = True
                batch.set(leads.document(lead_id), fields, merge=True)
            _guard(batch.commit)

    def _note(self, tenant_id: str, key: str) -> Any:
        return self._tenant(tenant_id).collection("crm_notes").document(key)

    def claim_note(
        self, tenant_id: str, key: str, lead_id: str, holder: str, at: datetime, until: datetime
    ) -> NoteClaim:
        ref = self._note(tenant_id, key)

        # A transaction: of two runs reading the same missing or lapsed claim, one commits and
        # the other is retried by the client, then reads the winner's claim as held.
        @firestore.transactional  # type: ignore[misc]
        def claim_in(transaction: Any) -> NoteClaim:
            snap = ref.get(transaction=transaction, timeout=READ_TIMEOUT)
            existing = (snap.to_dict() or {}) if snap.exists else None
            decision = claims.decide(existing, at)
            if decision in ("new", "retry"):
                attempts = int((existing or {}).get("attempts", 0)) + 1
                transaction.set(ref, claims.claimed(lead_id, holder, at, until, attempts))
            return decision

        result: NoteClaim = _guard(lambda: claim_in(self._client.transaction()))
        return result

    def settle_note(self, tenant_id: str, key: str, holder: str, note_id: str | None) -> bool:
        ref = self._note(tenant_id, key)

        @firestore.transactional  # type: ignore[misc]
        def settle_in(transaction: Any) -> bool:
            snap = ref.get(transaction=transaction, timeout=READ_TIMEOUT)
            data = (snap.to_dict() or {}) if snap.exists else {}
            ours = data.get("holder") == holder
            if note_id is None:
                if ours and data.get("state") == "pending":  # never release another run's claim
                    transaction.update(ref, {"state": "released"})
                return ours
            if data.get("state") == "created":
                return False  # another run created one first: keep its id
            # Recorded even when the lease lapsed: the note exists, so no later run makes another.
            transaction.set(ref, {**data, "state": "created", "note_id": note_id})
            return ours

        result: bool = _guard(lambda: settle_in(self._client.transaction()))
        return result

    def lead_notes(self, tenant_id: str, lead_id: str) -> list[tuple[str, str]]:
        query = self._tenant(tenant_id).collection("crm_notes").where(filter=FieldFilter("lead_id", "==", lead_id))  # type: ignore[no-untyped-call]
        docs = _guard(lambda: list(query.stream(timeout=READ_TIMEOUT)))
        return [(d.id, str((d.to_dict() or {}).get("note_id") or "")) for d in docs]

    def forget_lead_notes(self, tenant_id: str, lead_id: str) -> None:
        for key, _ in self.lead_notes(tenant_id, lead_id):
            _guard(self._note(tenant_id, key).delete)

    def synced_contacts(self, tenant_id: str, limit: int) -> dict[str, str]:
        leads = self._tenant(tenant_id).collection("leads")
        query = leads.where(filter=FieldFilter("crmContactId", ">", "")).limit(limit)  # type: ignore[no-untyped-call]
        docs = _guard(lambda: list(query.stream(timeout=READ_TIMEOUT)))
        return {str((d.to_dict() or {})["crmContactId"]): d.id for d in docs}

    def record_readback(self, tenant_id: str, at: datetime, recorded: int, error: str) -> None:
        fields = {"last_readback_at": at, "last_readback_recorded": recorded, "last_readback_error": error[:500]}
        _guard(lambda: self._config(tenant_id).update(fields))

    def readback_status(self, tenant_id: str) -> tuple[datetime | None, int, str]:
        data = self._read_config(tenant_id)
        return (
            data.get("last_readback_at"),
            int(data.get("last_readback_recorded") or 0),
            str(data.get("last_readback_error", "")),
        )
