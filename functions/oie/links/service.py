"""Importing a campaign: give every lead a tracking link and record who it stands for."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from oie.errors import InputError, NotFound
from oie.go.redirect import is_allowed_url
from oie.links import ids
from oie.links.csv_import import ParsedCsv
from oie.links.models import Campaign, LeadRecord, Link
from oie.links.spool import LeadSpool, SpooledLead
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

CHUNK = 1000  # leads a chunk: the stores split it into batches and commit them at once
IDENTITY_CHUNK = 10_000  # identity rows a warehouse statement (a BigQuery MERGE each: few and large)


@dataclass
class ImportedLead:
    lead: LeadRecord
    lead_id: str
    tracking_id: str
    tracking_url: str
    # The lead's row for the output file (its columns merged, email normalised).
    row: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    campaign: Campaign
    imported: list[ImportedLead] = field(default_factory=list)
    collisions: int = 0
    count: int = 0


@dataclass
class _Wanted:
    """One lead and the ids it may take (from the tenant's secret)."""

    lead: LeadRecord
    lead_id: str
    candidates: list[str]


@dataclass
class ImportPlan:
    """Everything an import will write, checked: made by `CampaignImporter.plan`, which writes nothing.

    The picked ids live in the spool beside their leads, so a plan's size does not grow with the file.
    """

    campaign: Campaign
    go_base_url: str
    spool: LeadSpool
    collisions: int
    created_at: datetime
    secret: bytes = field(repr=False)

    def links(self) -> Iterator[Link]:
        """The link planned for each lead, in file order."""
        for chunk in self.spool.chunks(CHUNK):
            yield from (_link(self, item) for item in chunk)


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
        parsed: ParsedCsv | LeadSpool,
        go_base_url: str,
        progress: Callable[[int], None] = lambda n: None,
    ) -> ImportResult:
        """Import parsed leads into a campaign; safe to re-run with the same file."""
        return self.write(self.plan(tenant_id, campaign_name, landing_url, parsed, go_base_url), progress)

    def plan(
        self, tenant_id: str, campaign_name: str, landing_url: str, parsed: ParsedCsv | LeadSpool, go_base_url: str
    ) -> ImportPlan:
        """Check everything an import needs and pick every id; reads only, so a refusal leaves no trace."""
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
        spool = parsed if isinstance(parsed, LeadSpool) else LeadSpool.of(parsed)
        if not len(spool):
            raise InputError("no lead to import: every row was skipped", field="file")
        now = self.clock.now()
        campaign = self.campaigns.get(tenant_id, campaign_id) or Campaign(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            name=campaign_name,
            landing_url=landing_url,  # type: ignore[arg-type]
            created_at=now,
        )
        plan = ImportPlan(campaign, go_base_url, spool, 0, now, self.secrets.resolve(tenant.id_secret_ref))
        for chunk in spool.chunks(CHUNK):
            wanted = _wanted(plan, chunk)
            links, existing, collisions = self._resolve(campaign, wanted, now)
            spool.pick(_picks(chunk, links, existing))
            plan.collisions += collisions
        return plan

    def write(
        self,
        plan: ImportPlan,
        progress: Callable[[int], None] = lambda n: None,
        out: Callable[[list[ImportedLead]], None] | None = None,
    ) -> ImportResult:
        """Store a checked plan; each chunk's leads go to `out` if given, else into the result.

        The warehouse's identity rows go first: they alone are inert, so a warehouse that
        refuses leaves Firestore untouched. Every write after that is idempotent: an import
        cut short by an outage is completed by re-running it."""
        campaign = plan.campaign
        for chunk in plan.spool.chunks(IDENTITY_CHUNK):
            self.warehouse.upsert_rows(
                "identity_map",
                [_identity_row(_link(plan, item), item.lead) for item in chunk],
                key_fields=("tenant_id", "tracking_id"),
            )
        self.campaigns.put(campaign)
        result = ImportResult(campaign=campaign, collisions=plan.collisions)
        # A chunk's leads and profiles are written on two threads while the next chunk's links are
        # created: one chunk behind at most, so a failure stops the import a chunk later (a re-run ends it).
        with ThreadPoolExecutor(2, thread_name_prefix="import-write") as writers:
            storing: list[Future[None]] = []
            for chunk in plan.spool.chunks(CHUNK):
                imported = self._write_chunk(plan, chunk, result, writers, storing)
                result.count += len(imported)
                if out is None:
                    result.imported.extend(imported)
                else:
                    out(imported)
                progress(len(chunk))
            for future in storing:
                future.result()
        return result

    def _write_chunk(
        self,
        plan: ImportPlan,
        chunk: Sequence[SpooledLead],
        result: ImportResult,
        writers: ThreadPoolExecutor,
        storing: list[Future[None]],
    ) -> list[ImportedLead]:
        """Create one chunk's links, then hand its leads and profiles to `writers` (after the last chunk's)."""
        campaign, tenant_id = plan.campaign, plan.campaign.tenant_id
        planned = [_link(plan, item) for item in chunk]
        links, existing = planned, {item.tracking_id for item in chunk if item.link_created_at is not None}
        while self.links.create_many([link for link in links if link.tracking_id not in existing]):
            # Another import took some of these ids since the plan: pick again (rare).
            links, stored, collisions = self._resolve(campaign, _wanted(plan, chunk), plan.created_at)
            existing = set(stored)
            result.collisions += collisions
        if links != planned:
            self.warehouse.upsert_rows(
                "identity_map",
                [_identity_row(link, item.lead) for link, item in zip(links, chunk, strict=True)],
                key_fields=("tenant_id", "tracking_id"),
            )
        pairs = [
            (link.lead_id, item.lead.model_copy(update={"attributes": attribution_from_columns(item.lead.attributes)}))
            for link, item in zip(links, chunk, strict=True)
        ]
        profiles = [
            (lead_id, initial_profile(lead.first_name, lead.company, lead.attributes)) for lead_id, lead in pairs
        ]
        for future in storing:
            future.result()  # the chunk before: its failure stops the import here
        storing[:] = [
            writers.submit(self.leads.upsert_many, tenant_id, pairs),
            writers.submit(self.profiles.upsert_many, tenant_id, profiles),
        ]
        base = plan.go_base_url.rstrip("/")
        return [
            ImportedLead(
                item.lead, link.lead_id, link.tracking_id, f"{base}/go?{urlencode({'i': link.tracking_id})}", item.row
            )
            for link, item in zip(links, chunk, strict=True)
        ]

    def _resolve(
        self, campaign: Campaign, chunk: Sequence[_Wanted], now: datetime
    ) -> tuple[list[Link], dict[str, Link], int]:
        """Each lead's link: the shortest candidate id nobody else holds; with the links already stored."""
        level = [0] * len(chunk)
        collisions = 0
        while True:
            proposed = [
                Link(
                    tracking_id=item.candidates[level[n]],
                    tenant_id=campaign.tenant_id,
                    campaign_id=campaign.campaign_id,
                    lead_id=item.lead_id,
                    landing_url=campaign.landing_url,
                    created_at=now,
                )
                for n, item in enumerate(chunk)
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
                # Links already stored keep their first creation time.
                return [existing.get(link.tracking_id, link) for link in proposed], existing, collisions
            for n in clashes:
                collisions += 1
                level[n] += 1
                if level[n] >= len(chunk[n].candidates):
                    raise InputError(f"no free tracking id for line(s) {chunk[n].lead.lines}", field="file")


def _identity_row(link: Link, lead: LeadRecord) -> dict[str, object]:
    return {
        "tenant_id": link.tenant_id,
        "tracking_id": link.tracking_id,
        "lead_id": link.lead_id,
        "campaign_id": link.campaign_id,
        "email_sha256": hashlib.sha256(lead.email.encode()).hexdigest(),
        "created_at": link.created_at,
    }


def _wanted(plan: ImportPlan, chunk: Sequence[SpooledLead]) -> list[_Wanted]:
    tenant_id, campaign_id = plan.campaign.tenant_id, plan.campaign.campaign_id
    return [
        _Wanted(
            item.lead,
            ids.lead_id(plan.secret, tenant_id, item.lead.email),
            ids.tracking_id_candidates(plan.secret, tenant_id, campaign_id, item.lead.email),
        )
        for item in chunk
    ]


def _picks(
    chunk: Sequence[SpooledLead], links: Sequence[Link], existing: Mapping[str, Link]
) -> list[tuple[int, str, str, datetime | None]]:
    return [
        (item.seq, link.lead_id, link.tracking_id, link.created_at if link.tracking_id in existing else None)
        for item, link in zip(chunk, links, strict=True)
    ]


def _link(plan: ImportPlan, item: SpooledLead) -> Link:
    """The planned link of a spooled lead (a stored link keeps its first creation time)."""
    if item.tracking_id is None or item.lead_id is None:
        raise ValueError(f"lead at line(s) {item.lead.lines} was not planned")
    return Link(
        tracking_id=item.tracking_id,
        tenant_id=plan.campaign.tenant_id,
        campaign_id=plan.campaign.campaign_id,
        lead_id=item.lead_id,
        landing_url=plan.campaign.landing_url,
        created_at=item.link_created_at or plan.created_at,
    )
