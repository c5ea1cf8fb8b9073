"""Importing a campaign: give every lead a tracking link and record who it stands for."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from oie.errors import InputError, NotFound
from oie.go.redirect import is_allowed_url
from oie.links import ids
from oie.links.csv_import import ParsedCsv
from oie.links.models import Campaign, LeadRecord, Link
from oie.outcomes.rules import attribution_from_columns
from oie.personalize.service import initial_profile
from oie.ports import (
    CampaignStore,
    Clock,
    LeadStore,
    LinkStore,
    ProfileStore,
    SecretResolver,
    TenantStore,
    Warehouse,
)

CHUNK = 400  # under Firestore's 500 writes per batch


@dataclass
class ImportedLead:
    lead: LeadRecord
    lead_id: str
    tracking_id: str
    tracking_url: str


@dataclass
class ImportResult:
    campaign: Campaign
    imported: list[ImportedLead] = field(default_factory=list)
    collisions: int = 0


@dataclass
class CampaignImporter:
    tenants: TenantStore
    campaigns: CampaignStore
    links: LinkStore
    leads: LeadStore
    profiles: ProfileStore
    warehouse: Warehouse
    secrets: SecretResolver
    clock: Clock

    def run(
        self,
        tenant_id: str,
        campaign_name: str,
        landing_url: str,
        parsed: ParsedCsv,
        go_base_url: str,
        progress: Callable[[int], None] = lambda n: None,
    ) -> ImportResult:
        """Import parsed leads into a campaign; safe to re-run with the same file."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        if not is_allowed_url(landing_url, tenant.redirect_domains):
            raise InputError(
                f"landing page {landing_url!r} is not on the tenant's redirect domains "
                f"({', '.join(tenant.redirect_domains)})",
                field="landing",
            )
        try:
            campaign_id = ids.campaign_id(campaign_name)
        except ValueError as exc:
            raise InputError(str(exc), field="campaign") from None
        now = self.clock.now()
        campaign = self.campaigns.get(tenant_id, campaign_id) or Campaign(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            name=campaign_name,
            landing_url=landing_url,  # type: ignore[arg-type]
            created_at=now,
        )
        self.campaigns.put(campaign)
        secret = self.secrets.resolve(tenant.id_secret_ref)

        result = ImportResult(campaign=campaign)
        for start in range(0, len(parsed.leads), CHUNK):
            chunk = parsed.leads[start : start + CHUNK]
            links, collisions = self._assign(secret, campaign, chunk, now)
            result.collisions += collisions
            pairs = [
                (link.lead_id, lead.model_copy(update={"attributes": attribution_from_columns(lead.attributes)}))
                for link, lead in zip(links, chunk, strict=True)
            ]
            self.leads.upsert_many(tenant_id, pairs)
            self.profiles.upsert_many(
                tenant_id,
                [(lead_id, initial_profile(lead.first_name, lead.company, lead.attributes)) for lead_id, lead in pairs],
            )
            self.warehouse.upsert_rows(
                "identity_map",
                [_identity_row(link, lead) for link, lead in zip(links, chunk, strict=True)],
                key_fields=("tenant_id", "tracking_id"),
            )
            for link, lead in zip(links, chunk, strict=True):
                url = f"{go_base_url.rstrip('/')}/go?{urlencode({'i': link.tracking_id})}"
                result.imported.append(ImportedLead(lead, link.lead_id, link.tracking_id, url))
            progress(len(chunk))
        return result

    def _assign(
        self, secret: bytes, campaign: Campaign, chunk: Sequence[LeadRecord], now: datetime
    ) -> tuple[list[Link], int]:
        """Pick each lead's id: the shortest candidate nobody else holds."""
        wanted = [
            (
                lead,
                ids.lead_id(secret, campaign.tenant_id, lead.email),
                ids.tracking_id_candidates(secret, campaign.tenant_id, campaign.campaign_id, lead.email),
            )
            for lead in chunk
        ]
        level = [0] * len(wanted)
        collisions = 0
        while True:
            proposed = [
                Link(
                    tracking_id=candidates[level[n]],
                    tenant_id=campaign.tenant_id,
                    campaign_id=campaign.campaign_id,
                    lead_id=lead_id,
                    landing_url=campaign.landing_url,
                    created_at=now,
                )
                for n, (_, lead_id, candidates) in enumerate(wanted)
            ]
            existing = self.links.get_many([link.tracking_id for link in proposed])
            taken_in_chunk: dict[str, Link] = {}
            clashes = []
            for n, link in enumerate(proposed):
                holder = existing.get(link.tracking_id) or taken_in_chunk.get(link.tracking_id)
                if holder is not None and not holder.same_owner(link):
                    clashes.append(n)
                else:
                    taken_in_chunk[link.tracking_id] = link
            if not clashes:
                new = [link for link in proposed if link.tracking_id not in existing]
                raced = self.links.create_many(new)
                if not raced:
                    # Links keep their first creation time; report them as stored.
                    return [existing.get(link.tracking_id, link) for link in proposed], collisions
                continue  # another import created some ids meanwhile: look again
            for n in clashes:
                collisions += 1
                level[n] += 1
                if level[n] >= len(wanted[n][2]):
                    raise RuntimeError(f"no free tracking id for line(s) {wanted[n][0].lines}")


def _identity_row(link: Link, lead: LeadRecord) -> dict[str, object]:
    return {
        "tenant_id": link.tenant_id,
        "tracking_id": link.tracking_id,
        "lead_id": link.lead_id,
        "campaign_id": link.campaign_id,
        "email_sha256": hashlib.sha256(lead.email.encode()).hexdigest(),
        "created_at": link.created_at,
    }
