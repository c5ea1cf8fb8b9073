"""Which profile fields a request may see: none without a valid identity token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oie.go.cache import ReadThroughCache
from oie.identity import tokens
from oie.links.models import Link
from oie.ports import Clock
from oie.tenants.models import Tenant


@dataclass
class PersonalizeService:
    tenants: ReadThroughCache[Tenant]
    links: ReadThroughCache[Link]
    # keyed "tenant_id/lead_id"
    profiles: ReadThroughCache[dict[str, Any]]
    clock: Clock
    token_key: bytes

    def profile(self, tenant_id: str, visitor_id: str, token: str | None) -> dict[str, Any]:
        """The tenant's whitelisted fields of the visitor's lead; `{}` for anyone not proven.

        The token is the protection: browsers send no Origin on same-origin GETs, and a
        foreign page cannot read the answer anyway, since CORS allows only tenant origins.
        """
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            return {}
        identity = tokens.check(self.token_key, tenant_id, token, None, visitor_id, self.clock.now())
        if identity.status != "verified" or identity.tracking_id is None:
            # Ids must never be enumerable into names: no proof, no profile.
            return {}
        link = self.links.get(identity.tracking_id)
        if link is None or link.tenant_id != tenant_id:
            return {}
        stored = self.profiles.get(f"{tenant_id}/{link.lead_id}") or {}
        return {name: stored[name] for name in tenant.personalization_fields if stored.get(name) is not None}


def initial_profile(first_name: str, company: str, attributes: dict[str, str]) -> dict[str, Any]:
    """The profile an import knows before any behaviour: who the lead is."""
    fields = {"firstName": first_name, "company": company, "industry": attributes.get("industry", "")}
    return {k: v for k, v in fields.items() if v}
