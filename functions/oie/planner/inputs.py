"""What the model is given for one contact, and its hash (the key that reuses a plan).

The lead's address never reaches the model: only its names, company, title and the
import's other columns. Evidence comes from the warehouse (planner.sql), bounded by tenant,
lead and the last EVIDENCE_DAYS days.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from oie.campaigns.models import Contact
from oie.campaigns.plan import Plan
from oie.links.models import LeadRecord
from oie.planner.config import PlannerConfig
from oie.ports import LeadStore, Warehouse
from oie.tenants.models import Tenant

EVIDENCE_DAYS = 90
MAX_PAGES = 20
MAX_ATTRIBUTES = 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PageViews(_Frozen):
    path: str
    page_class: str = ""  # pricing, case_study, product, or "" for other pages
    views: int


class EmailEngagement(_Frozen):
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0


class Evidence(_Frozen):
    """The lead's intent so far: score and its components, sessions, pages, email engagement."""

    level: str = ""
    score: float = 0.0
    components: dict[str, float] = Field(default_factory=dict)
    sessions: int = 0
    pageviews: int = 0
    pricing_views: int = 0
    case_study_views: int = 0
    product_views: int = 0
    forms_submitted: int = 0
    last_visit_at: datetime | None = None
    pages: tuple[PageViews, ...] = ()
    email: EmailEngagement = EmailEngagement()


class LeadFacts(_Frozen):
    """The lead as the model sees it (no email address)."""

    lead_id: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)


class PlanningInput(_Frozen):
    """Everything one plan is made from; its hash names the plan generation."""

    tenant_id: str
    campaign_id: str
    lead: LeadFacts
    sender_company: str
    offer: str
    brief: str
    banned_phrases: tuple[str, ...] = ()
    template: Plan
    evidence: Evidence

    def input_hash(self, model: str, prompt_version: str) -> str:
        """sha256 of the canonical input with the model and prompt version: equal inputs reuse a plan."""
        body = self.model_dump(mode="json", by_alias=True)
        canonical = json.dumps({"input": body, "model": model, "prompt": prompt_version}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


class EvidenceSource(Protocol):
    def evidence(self, tenant_id: str, lead_id: str, now: datetime) -> Evidence: ...


class Tenants(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...


class InputSources(Protocol):
    """Where a planning input comes from (the LanguageModelPlanner has all four)."""

    @property
    def tenants(self) -> Tenants: ...
    @property
    def leads(self) -> LeadStore: ...
    @property
    def evidence(self) -> EvidenceSource: ...


def build_input(
    sources: InputSources,
    tenant_id: str,
    campaign_id: str,
    contact: Contact,
    template: Plan,
    config: PlannerConfig,
    now: datetime,
) -> PlanningInput:
    """The planning input for one contact: what the planner sends and a reviewer's edit is checked against."""
    tenant = sources.tenants.get(tenant_id)
    return PlanningInput(
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        lead=lead_facts(contact, sources.leads.get(tenant_id, contact.lead_id)),
        sender_company=config.sender_company or (tenant.name if tenant else ""),
        offer=config.offer,
        brief=config.brief,
        banned_phrases=config.banned_phrases,
        template=template,
        evidence=sources.evidence.evidence(tenant_id, contact.lead_id, now),
    )


def lead_facts(contact: Contact, record: LeadRecord | None) -> LeadFacts:
    """The lead's names, company, title and other columns; the contact's own fields when no record."""
    source: Any = record or contact
    attributes = dict(sorted((record.attributes if record else {}).items())[:MAX_ATTRIBUTES])
    return LeadFacts(
        lead_id=contact.lead_id,
        first_name=source.first_name or contact.first_name,
        last_name=source.last_name or contact.last_name,
        company=source.company or contact.company,
        title=source.title or contact.title,
        attributes={k: v[:200] for k, v in attributes.items() if v and "@" not in v},
    )


class WarehouseEvidence:
    """Evidence from three bounded named queries (sql/queries/planner.sql)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    def evidence(self, tenant_id: str, lead_id: str, now: datetime) -> Evidence:
        since = now - timedelta(days=EVIDENCE_DAYS)
        scope = {"tenant_id": tenant_id, "lead_ids": [lead_id]}
        profiles = self._warehouse.query("planner_lead_profiles", scope)
        pages = self._warehouse.query("planner_lead_pages", {**scope, "since": since, "limit_rows": MAX_PAGES})
        emails = self._warehouse.query("planner_lead_engagement", {**scope, "since": since})
        return evidence_from_rows(profiles[0] if profiles else None, pages, emails[0] if emails else None)


COMPONENTS = ("recency_points", "frequency_points", "engagement_points", "high_intent_points", "conversion_points")


def evidence_from_rows(
    profile: dict[str, Any] | None, pages: list[dict[str, Any]], email: dict[str, Any] | None
) -> Evidence:
    """Evidence from the query rows (a lead never scored has no profile row)."""
    fields: dict[str, Any] = {}
    if profile:
        fields = {
            "level": profile["level"] or "",
            "score": float(profile["score"] or 0),
            "components": {c.removesuffix("_points"): round(float(profile[c] or 0), 1) for c in COMPONENTS},
            "sessions": int(profile["sessions"] or 0),
            "pageviews": int(profile["pageviews"] or 0),
            "pricing_views": int(profile["pricing_views"] or 0),
            "case_study_views": int(profile["case_study_views"] or 0),
            "product_views": int(profile["product_views"] or 0),
            "forms_submitted": int(profile["forms_submitted"] or 0),
            "last_visit_at": profile["last_activity_at"],
        }
    engagement = EmailEngagement(**{k: int((email or {}).get(k) or 0) for k in EmailEngagement.model_fields})
    return Evidence(
        **fields,
        pages=tuple(
            PageViews(path=str(p["page_path"])[:200], page_class=p["page_class"] or "", views=int(p["views"]))
            for p in pages
        ),
        email=engagement,
    )
