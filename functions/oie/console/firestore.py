"""Firestore reads for the console: lead documents, contact campaigns and alert markers, in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]

from oie import doc_ids
from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.models import ContactCampaign
from oie.campaigns.plan import Plan


class FirestoreConsole:
    """One `get_all` per kind of document: a page of 50 leads costs one round trip."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _tenant(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id)

    def _get_all(self, refs: list[Any]) -> list[Any]:
        if not refs:
            return []
        return _guard(lambda: [s for s in self._client.get_all(refs, timeout=READ_TIMEOUT) if s.exists])

    def get_many(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        col = self._tenant(tenant_id).collection("leads")
        refs = [col.document(i) for i in dict.fromkeys(lead_ids) if doc_ids.is_valid("lead_id", i)]
        return {snap.id: snap.to_dict() or {} for snap in self._get_all(refs)}

    def states(self, tenant_id: str, contact_campaign_ids: Sequence[str]) -> list[ContactCampaign]:
        col = self._tenant(tenant_id).collection("contact_campaigns")
        snaps = self._get_all([col.document(i) for i in dict.fromkeys(contact_campaign_ids)])
        return [ContactCampaign.model_validate(s.to_dict()) for s in snaps]

    def plan_nodes(self, tenant_id: str, plan_version: str) -> list[str]:
        # Written by oie.campaigns.firestore.FirestorePlanVersions: {"version", "plan", "created_at"}.
        snaps = self._get_all([self._tenant(tenant_id).collection("campaign_plan_versions").document(plan_version)])
        if not snaps:
            return []
        plan = Plan.model_validate((snaps[0].to_dict() or {})["plan"])
        return [node.id for node in plan.nodes]

    def sent(self, keys: Sequence[str]) -> set[str]:
        col = self._client.collection("alert_markers")
        snaps = self._get_all([col.document(k) for k in dict.fromkeys(keys)])
        return {s.id for s in snaps if (s.to_dict() or {}).get("state") == "sent"}
