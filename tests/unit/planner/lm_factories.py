"""Test data and hand-written fakes for the language-model planner (oie.planner.service)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from oie.campaigns.models import Contact
from oie.campaigns.plan import Plan, parse_plan
from oie.devstack.gemini_server import compose
from oie.links.models import LeadRecord
from oie.planner.config import PlannerConfig
from oie.planner.inputs import EmailEngagement, Evidence, LeadFacts, PageViews, PlanningInput
from oie.planner.model import Generation, GenerationRequest, ModelUnavailable
from oie.planner.prompt import build_prompt
from oie.planner.records import PlanGeneration, Prices
from oie.planner.service import LanguageModelPlanner
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeTenantStore, FakeWarehouse
from tests.unit.campaigns.factories import plan_document

TEMPLATE_DICT: dict[str, Any] = plan_document(
    {
        "id": "intro",
        "type": "send",
        "template": {
            "subject": "{{first_name|Hi}}, a question about {{company|your team}}",
            "text": "Hi {{first_name|there}},\n\nWe help teams like {{company}} see who is ready to buy. "
            "Have a look: {{tracking_link}}\n\n{{sender_name}}",
            "html": "<p>Hi {{first_name|there}}</p>",
        },
        "transitions": [
            {"on": "click", "to": "followup"},
            {"on": "no_open", "after": "P3D", "to": "bump"},
            {"on": "timeout", "after": "P7D", "to": "done"},
        ],
    },
    {"id": "bump", "type": "wait", "duration": "PT1H", "next": "bump_send"},
    {
        "id": "bump_send",
        "type": "send",
        "template": {
            "subject": "Re: a question",
            "text": "Bumping this up, {{first_name|there}}. {{tracking_link}}",
        },
        "transitions": [{"on": "timeout", "after": "P4D", "to": "done"}],
    },
    {"id": "followup", "type": "send", "template": {"subject": "Glad you had a look", "text": "Talk soon?"}},
    {"id": "done", "type": "stop", "reason": "sequence finished"},
)
TEMPLATE: Plan = parse_plan(TEMPLATE_DICT)
PRICING_READER = Evidence(
    level="hot",
    score=72.0,
    components={"recency": 20.0, "high_intent": 30.0},
    sessions=3,
    pageviews=9,
    pricing_views=2,
    case_study_views=1,
    last_visit_at=datetime(2026, 3, 1, 16, 0, tzinfo=UTC),
    pages=(PageViews(path="/pricing", page_class="pricing", views=2), PageViews(path="/customers/fintech", views=1)),
    email=EmailEngagement(sent=2, delivered=2, opened=2, clicked=1),
)
NEWCOMER = Evidence()


def make_input(evidence: Evidence = PRICING_READER, **overrides: Any) -> PlanningInput:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "campaign_id": "q1",
        "lead": LeadFacts(lead_id="ld_1", first_name="Ada", last_name="Lovelace", company="Analytical Engines"),
        "sender_company": "Acme Analytics",
        "offer": "Acme Analytics shows which accounts are ready to buy, from the pages they read.",
        "brief": "Short, friendly, no hype.",
        "template": TEMPLATE,
        "evidence": evidence,
    }
    fields.update(overrides)
    return PlanningInput(**fields)


def make_contact(lead_id: str = "ld_1", **overrides: Any) -> Contact:
    fields: dict[str, Any] = {
        "lead_id": lead_id,
        "email": "ada@analytical-engines.example",
        "tracking_id": "trk1",
        "first_name": "Ada",
        "company": "Analytical Engines",
    }
    fields.update(overrides)
    return Contact.model_validate(fields)


def good_answer(planning: PlanningInput) -> str:
    """What the local server composes for this input (a valid, guardrail-clean answer)."""
    return json.dumps(compose(build_prompt(planning)))


def with_text(answer: str, text: str) -> str:
    body = json.loads(answer)
    body["plan"]["nodes"][0]["template"]["text"] = text
    return json.dumps(body)


class FakeModel:
    """Answers from a script: texts in order, or an exception to raise."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Generation:
        self.requests.append(request)
        if not self.answers:
            raise ModelUnavailable("no scripted answer left")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Generation(text=answer, prompt_tokens=1000, output_tokens=500, model="fake-model", latency=0.01)


class MemoryConfigs:
    def __init__(self, config: PlannerConfig | None = None) -> None:
        self.config = config or PlannerConfig(offer="Acme Analytics shows which accounts are ready to buy.")

    def get(self, tenant_id: str) -> PlannerConfig:
        return self.config

    def put(self, tenant_id: str, config: PlannerConfig) -> None:
        self.config = config


class MemoryLeads:
    def __init__(self, **records: LeadRecord) -> None:
        self.records = records

    def get(self, tenant_id: str, lead_id: str) -> LeadRecord | None:
        return self.records.get(lead_id)

    def upsert_many(self, tenant_id: str, leads: Any) -> None:
        self.records.update(dict(leads))


class FixedEvidence:
    def __init__(self, **by_lead: Evidence) -> None:
        self.by_lead = by_lead

    def evidence(self, tenant_id: str, lead_id: str, now: datetime) -> Evidence:
        return self.by_lead.get(lead_id, NEWCOMER)


class MemoryRecords:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], PlanGeneration] = {}

    def get(self, tenant_id: str, input_hash: str) -> PlanGeneration | None:
        return self.items.get((tenant_id, input_hash))

    def put(self, record: PlanGeneration) -> None:
        self.items[(record.tenant_id, record.input_hash)] = record


class MemoryBudget:
    def __init__(self) -> None:
        self.used: dict[date, int] = {}
        self.reserved: dict[date, int] = {}

    def reserve(self, tenant_id: str, day: date, tokens: int, limit: int) -> bool:
        if self.used.get(day, 0) + self.reserved.get(day, 0) + tokens > limit:
            return False
        self.reserved[day] = self.reserved.get(day, 0) + tokens
        return True

    def settle(self, tenant_id: str, day: date, reserved: int, used: int) -> None:
        self.reserved[day] -= reserved
        self.used[day] = self.used.get(day, 0) + used


class MemorySlots:
    def __init__(self) -> None:
        self.held: dict[str, tuple[str, datetime]] = {}

    def acquire(self, tenant_id: str, slots: int, holder: str, now: datetime, lease: timedelta) -> str | None:
        for n in range(slots):
            slot = f"slot-{n}"
            if slot not in self.held or self.held[slot][1] <= now:
                self.held[slot] = (holder, now + lease)
                return slot
        return None

    def release(self, tenant_id: str, slot_id: str, holder: str) -> None:
        if self.held.get(slot_id, ("", None))[0] == holder:
            del self.held[slot_id]


class MemorySummaries:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def put(self, tenant_id: str, lead_id: str, summary: str, at: datetime) -> None:
        self.items[lead_id] = summary


def make_planner(model: FakeModel, **overrides: Any) -> LanguageModelPlanner:
    fields: dict[str, Any] = {
        "model": model,
        "model_name": "fake-model",
        "configs": MemoryConfigs(),
        "tenants": FakeTenantStore(make_tenant(name="Acme Analytics")),
        "leads": MemoryLeads(),
        "evidence": FixedEvidence(ld_1=PRICING_READER),
        "records": MemoryRecords(),
        "warehouse": FakeWarehouse(),
        "budget": MemoryBudget(),
        "slots": MemorySlots(),
        "summaries": MemorySummaries(),
        "clock": FakeClock(),
        "prices": Prices(input_per_1m=0.30, output_per_1m=2.50),
    }
    fields.update(overrides)
    return LanguageModelPlanner(**fields)


def template_copy() -> dict[str, Any]:
    return copy.deepcopy(TEMPLATE_DICT)
