"""What the sequencer webhooks read: the tenant's secret hash and the leads an event is about.

- `tenants/{t}/sequencer_webhooks/{sequencer}`: `secret_hash` (oie.webhooks.sequencers.auth)
  and `created_at`; never the secret. Read on every post, uncached, so a new secret counts at once.
- Leads: by tracking id through `links/{tracking_id}` (the link names its tenant, campaign and
  lead), else by the recipient's sha256 in the warehouse's `identity_map` (query
  `sequencer_leads_by_email`): the email itself is never looked up or stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from oie.errors import BackendUnavailable
from oie.ports import LinkStore, Warehouse
from oie.webhooks.sequencers.models import Sequencer
from oie.webhooks.sequencers.normalise import TRACKING_ID, LeadRef

COLLECTION = "sequencer_webhooks"


class SecretHashes(Protocol):
    def get(self, tenant_id: str, sequencer: Sequencer) -> str | None:
        """The stored hash of the tenant's secret for this sequencer, if one was created."""
        ...

    def put(self, tenant_id: str, sequencer: Sequencer, secret_hash: str, created_at: datetime) -> None: ...


class LeadDirectory(Protocol):
    def by_tracking_ids(self, tenant_id: str, tracking_ids: Sequence[str]) -> dict[str, LeadRef]: ...

    def by_email_hashes(self, tenant_id: str, email_hashes: Sequence[str]) -> dict[str, LeadRef]: ...


class FirestoreSecretHashes:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _doc(self, tenant_id: str, sequencer: Sequencer) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection(COLLECTION).document(sequencer)

    def get(self, tenant_id: str, sequencer: Sequencer) -> str | None:
        from oie.adapters.firestore_store import READ_TIMEOUT, _guard

        snap = _guard(lambda: self._doc(tenant_id, sequencer).get(timeout=READ_TIMEOUT))
        value = (snap.to_dict() or {}).get("secret_hash") if snap.exists else None
        return str(value) if value else None

    def put(self, tenant_id: str, sequencer: Sequencer, secret_hash: str, created_at: datetime) -> None:
        from oie.adapters.firestore_store import _guard

        data = {"secret_hash": secret_hash, "created_at": created_at, "sequencer": sequencer}
        _guard(lambda: self._doc(tenant_id, sequencer).set(data))


class IdentityLeads:
    """Leads by tracking id (Firestore links) or by email hash (identity_map)."""

    def __init__(self, links: LinkStore, warehouse: Warehouse) -> None:
        self.links = links
        self.warehouse = warehouse

    def by_tracking_ids(self, tenant_id: str, tracking_ids: Sequence[str]) -> dict[str, LeadRef]:
        # Only the engine's own id form may become a document path.
        wanted = [i for i in dict.fromkeys(tracking_ids) if TRACKING_ID.fullmatch(i)]
        found = self.links.get_many(wanted) if wanted else {}
        return {
            tid: LeadRef(link.lead_id, link.campaign_id, "tracking_id")
            for tid, link in found.items()
            if link.tenant_id == tenant_id  # another tenant's link names nobody here
        }

    def by_email_hashes(self, tenant_id: str, email_hashes: Sequence[str]) -> dict[str, LeadRef]:
        wanted = list(dict.fromkeys(email_hashes))
        if not wanted:
            return {}
        rows = self.warehouse.query("sequencer_leads_by_email", {"tenant_id": tenant_id, "email_hashes": wanted})
        return {str(r["email_sha256"]): LeadRef(str(r["lead_id"]), str(r["campaign_id"]), "email") for r in rows}


class MemorySecretHashes:
    """Secret hashes in memory, for unit tests."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get(self, tenant_id: str, sequencer: Sequencer) -> str | None:
        return self.items.get((tenant_id, sequencer))

    def put(self, tenant_id: str, sequencer: Sequencer, secret_hash: str, created_at: datetime) -> None:
        self.items[(tenant_id, sequencer)] = secret_hash


class MemoryLeads:
    """Leads in memory, for unit tests: {(tenant, tracking id or email hash): LeadRef}."""

    def __init__(self, by_tracking: dict[tuple[str, str], LeadRef], by_email: dict[tuple[str, str], LeadRef]) -> None:
        self.by_tracking = by_tracking
        self.by_email = by_email
        self.down = False

    def by_tracking_ids(self, tenant_id: str, tracking_ids: Sequence[str]) -> dict[str, LeadRef]:
        return {i: self.by_tracking[(tenant_id, i)] for i in tracking_ids if (tenant_id, i) in self.by_tracking}

    def by_email_hashes(self, tenant_id: str, email_hashes: Sequence[str]) -> dict[str, LeadRef]:
        if self.down:
            raise BackendUnavailable("warehouse is down")
        return {h: self.by_email[(tenant_id, h)] for h in email_hashes if (tenant_id, h) in self.by_email}
