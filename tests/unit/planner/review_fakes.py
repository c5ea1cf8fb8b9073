"""In-memory stand-ins for planning's ports: a review store, a per-contact planner, tenant configs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from oie.campaigns.models import Contact, SenderIdentity
from oie.campaigns.plan import Plan, parse_plan
from oie.campaigns.service import CampaignService
from oie.planner.review import PlanReview
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeTenantStore
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0
from tests.unit.campaigns.send_fakes import memory_service

SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


class MemoryReviews:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], PlanReview] = {}

    def add(self, review: PlanReview) -> bool:
        key = (review.tenant_id, review.contact_campaign_id)
        if key in self.items:
            return False
        self.items[key] = review
        return True

    def get(self, tenant_id: str, ccid: str) -> PlanReview | None:
        return self.items.get((tenant_id, ccid))

    def pending(self, tenant_id: str, limit: int) -> list[PlanReview]:
        found = [r for (t, _), r in self.items.items() if t == tenant_id and r.status == "pending"]
        return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]

    def decide(self, tenant_id: str, ccid: str, change: Callable[[PlanReview], PlanReview | None]) -> PlanReview | None:
        current = self.items.get((tenant_id, ccid))
        if current is None:
            return None
        after = change(current)
        if after is None:
            return current
        self.items[(tenant_id, ccid)] = after
        return after


@dataclass(frozen=True)
class Planned:
    plan: Plan
    record: dict[str, Any]
    analysis: str


@dataclass
class FakePlanner:
    """Writes each contact's own intro subject into the template; counts calls; may fail."""

    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None

    def plan_contact(self, tenant_id: str, campaign_id: str, contact: Contact, template: Plan) -> Planned:
        self.calls.append(contact.lead_id)
        if self.fail_with is not None:
            raise self.fail_with
        data = template.model_dump(mode="json", by_alias=True)
        data["nodes"][0]["template"]["subject"] = f"{contact.first_name}, about {contact.company}"
        record = {"model": "gemini-test", "prompt_version": "p1", "input_hash": contact.lead_id, "total_tokens": 900}
        return Planned(parse_plan(data), record, f"{contact.first_name} read pricing twice")


@dataclass(frozen=True)
class Config:
    review_ai_plans: bool = False


@dataclass
class MemoryConfigs:
    review: set[str] = field(default_factory=set)

    def get(self, tenant_id: str) -> Config:
        return Config(review_ai_plans=tenant_id in self.review)


def campaign_service(clock: FakeClock | None = None, *contacts: Contact) -> CampaignService:
    """The real CampaignService on the in-memory campaign ports, tenants acme and globex."""
    return memory_service(
        senders=fakes.MemorySenders(SENDER),
        contacts=fakes.MemoryContacts(*contacts),
        tenants=FakeTenantStore(make_tenant(reply_domain="reply.acme.com"), make_tenant(tenant_id="globex")),
        clock=clock or FakeClock(T0),
    )


def edited(plan: Plan, **node_changes: Any) -> dict[str, Any]:
    """The plan as JSON with the first node's template changed."""
    data = copy.deepcopy(plan.model_dump(mode="json", by_alias=True))
    data["nodes"][0]["template"].update(node_changes)
    return data
