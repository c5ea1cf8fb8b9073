"""What the console's services need from the document store, beyond the outcomes' ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from oie.campaigns.models import ContactCampaign
from oie.tenants.models import Tenant


class TenantLookup(Protocol):
    def get(self, tenant_id: str) -> Tenant | None:
        """The tenant (its alert channels), from a cache or the store."""
        ...


class LeadDocs(Protocol):
    def get_many(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The lead documents (names, email, company, attributes) of these ids, by id; absent ones left out."""
        ...


class CampaignReader(Protocol):
    def states(self, tenant_id: str, contact_campaign_ids: Sequence[str]) -> list[ContactCampaign]:
        """The contact campaigns of these ids that exist."""
        ...

    def plan_nodes(self, tenant_id: str, plan_version: str) -> list[str]:
        """The node ids of one plan version, in the plan's order ([] when unknown)."""
        ...


class AlertLog(Protocol):
    def sent(self, keys: Sequence[str]) -> set[str]:
        """Which of these alert marker keys were sent."""
        ...
