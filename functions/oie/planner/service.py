"""LanguageModelPlanner: one contact's plan and copy from the model, or the template when it cannot.

Per contact: the input (lead, tenant offer and brief, template, evidence) and its hash; a stored
plan of the same hash is reused with no call; else the daily token budget is reserved, a
concurrency slot leased, and the model asked once, plus one repair with the problems found.
Whatever happened is recorded (Firestore and the warehouse), and the lead analysis is stored
on the lead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from oie.campaigns.models import Contact
from oie.campaigns.plan import Plan
from oie.errors import BackendUnavailable, InputError
from oie.planner import analysis, guardrails
from oie.planner.budget import ConcurrencySlots, TokenBudget
from oie.planner.config import PlannerConfig, PlannerConfigs
from oie.planner.firestore import LeadSummaries
from oie.planner.inputs import EvidenceSource, PlanningInput, Tenants, build_input
from oie.planner.model import Generation, GenerationRequest, LanguageModel, ModelRefused, ModelUnavailable
from oie.planner.prompt import (
    PROMPT_VERSION,
    SYSTEM,
    Draft,
    DraftInvalid,
    build_prompt,
    parse_draft,
    prompt_input,
    repair_prompt,
    response_schema,
)
from oie.planner.records import REUSABLE, GenerationRecords, Outcome, PlanGeneration, Prices
from oie.ports import Clock, LeadStore, Warehouse

CHARS_PER_TOKEN = 4  # a conservative estimate for English prose and JSON


@dataclass(frozen=True)
class PlannedContact:
    """A contact's plan, how it was made, and the lead analysis stored with it."""

    plan: Plan
    record: PlanGeneration
    analysis: str


@dataclass(frozen=True)
class _Attempt:
    outcome: Outcome
    draft: Draft | None = None
    reason: str = ""


@dataclass(frozen=True)
class LanguageModelPlanner:
    """The Planner port on a language model; `template` is the plan `plan_for` adapts."""

    model: LanguageModel
    model_name: str
    configs: PlannerConfigs
    tenants: Tenants
    leads: LeadStore
    evidence: EvidenceSource
    records: GenerationRecords
    warehouse: Warehouse
    budget: TokenBudget
    slots: ConcurrencySlots
    summaries: LeadSummaries
    clock: Clock
    prices: Prices
    max_output_tokens: int = 4096
    lease: timedelta = timedelta(seconds=120)
    template: Plan | None = None
    _schema: dict[str, object] = field(default_factory=response_schema, repr=False)

    def with_template(self, template: Plan) -> LanguageModelPlanner:
        """This planner adapting `template` (what a campaign start hands to `plan_for`)."""
        return replace(self, template=template)

    def plan_for(self, tenant_id: str, campaign_id: str, contact: Contact) -> Plan:
        """The Planner port: the contact's plan (the template when the model could not write one)."""
        if self.template is None:
            raise InputError("the language-model planner needs the campaign's template plan", field="template")
        return self.plan_contact(tenant_id, campaign_id, contact, self.template).plan

    def plan_contact(self, tenant_id: str, campaign_id: str, contact: Contact, template: Plan) -> PlannedContact:
        """Plan one contact: reuse, generate (with one repair) or fall back to `template`, and record it."""
        now = self.clock.now()
        config = self.configs.get(tenant_id)
        planning = build_input(self, tenant_id, campaign_id, contact, template, config, now)
        input_hash = planning.input_hash(self.model_name, PROMPT_VERSION)
        previous = self.records.get(tenant_id, input_hash)
        if previous is not None and previous.outcome in REUSABLE:
            plan = previous.plan()
            if plan is not None:
                return self._reuse(previous, plan, now)
        prompt = build_prompt(planning)
        estimate = (len(SYSTEM) + len(prompt) + len(str(self._schema))) // CHARS_PER_TOKEN + self.max_output_tokens
        day = now.date()
        if not self.budget.reserve(tenant_id, day, estimate, config.daily_token_budget):
            reason = f"the daily token budget of {config.daily_token_budget} is spent"
            return self._finish(planning, input_hash, _Attempt("budget_exhausted", reason=reason), [], now)
        calls: list[Generation] = []
        try:
            with self._slot(tenant_id, config, now):
                attempt = self._generate(planning, prompt, config, calls)
        finally:
            self.budget.settle(tenant_id, day, estimate, sum(c.prompt_tokens + c.output_tokens for c in calls))
        return self._finish(planning, input_hash, attempt, calls, now)

    @contextmanager
    def _slot(self, tenant_id: str, config: PlannerConfig, now: datetime) -> Iterator[None]:
        holder = uuid.uuid4().hex
        slot = self.slots.acquire(tenant_id, config.max_concurrent, holder, now, self.lease)
        if slot is None:
            raise BackendUnavailable(
                f"all {config.max_concurrent} planning slots of tenant {tenant_id!r} are busy; retry shortly"
            )
        try:
            yield
        finally:
            self.slots.release(tenant_id, slot, holder)

    def _request(self, prompt: str) -> GenerationRequest:
        return GenerationRequest(
            prompt=prompt, response_schema=self._schema, system=SYSTEM, max_output_tokens=self.max_output_tokens
        )

    def _generate(
        self, planning: PlanningInput, prompt: str, config: PlannerConfig, calls: list[Generation]
    ) -> _Attempt:
        try:
            calls.append(self.model.generate(self._request(prompt)))
            draft, problems = self._check(calls[-1].text, planning)
            if not problems:
                return _Attempt("generated", draft)
            calls.append(self.model.generate(self._request(repair_prompt(planning, calls[-1].text, problems))))
            draft, problems = self._check(calls[-1].text, planning)
            if not problems:
                return _Attempt("repaired", draft)
            reason = "; ".join(f"{f}: {m}" for f, m in problems[:3])
            return _Attempt("fallback_invalid", reason=f"invalid after one repair: {reason}"[:1000])
        except (ModelUnavailable, ModelRefused) as exc:
            return _Attempt("fallback_error", reason=exc.message[:1000])

    def _check(self, text: str, planning: PlanningInput) -> tuple[Draft | None, list[tuple[str, str]]]:
        """The draft and every problem with it: parse and plan validator, business rules, guardrails."""
        try:
            draft = parse_draft(text)
        except DraftInvalid as exc:
            return None, exc.problems
        inputs = [prompt_input(planning), planning.sender_company]
        banned = planning.banned_phrases
        problems = guardrails.check_plan(draft.plan, planning.template, inputs, banned)
        problems += guardrails.check_copy("leadAnalysis", draft.lead_analysis, inputs, banned, analysis.MAX_LENGTH)
        return draft, problems

    def _reuse(self, previous: PlanGeneration, plan: Plan, now: datetime) -> PlannedContact:
        # The stored record stays the one that made the plan; the warehouse counts the reuse.
        record = previous.model_copy(
            update={
                "generation_id": _generation_id(previous.input_hash, now, "reused"),
                "outcome": "reused",
                "fallback_reason": "",
                "model_calls": 0,
                "prompt_tokens": 0,
                "output_tokens": 0,
                "cost_usd": 0.0,
                "latency_ms": 0,
                "planned_at": now,
            }
        )
        self.warehouse.insert_rows("plan_generations", [record.warehouse_row()], id_field="generation_id")
        return PlannedContact(plan, record, previous.lead_analysis)

    def _finish(
        self, planning: PlanningInput, input_hash: str, attempt: _Attempt, calls: list[Generation], now: datetime
    ) -> PlannedContact:
        draft = attempt.draft
        plan = draft.plan if draft else planning.template
        summary = analysis.clip(draft.lead_analysis) if draft else analysis.summarize(planning.evidence)
        prompt_tokens = sum(c.prompt_tokens for c in calls)
        output_tokens = sum(c.output_tokens for c in calls)
        record = PlanGeneration(
            generation_id=_generation_id(input_hash, now, attempt.outcome),
            tenant_id=planning.tenant_id,
            campaign_id=planning.campaign_id,
            lead_id=planning.lead.lead_id,
            input_hash=input_hash,
            model=calls[-1].model if calls else self.model_name,
            prompt_version=PROMPT_VERSION,
            outcome=attempt.outcome,
            fallback_reason=attempt.reason,
            model_calls=len(calls),
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            cost_usd=self.prices.cost(prompt_tokens, output_tokens),
            latency_ms=round(sum(c.latency for c in calls) * 1000),
            plan_version=plan.content_hash(),
            lead_analysis=summary,
            planned_at=now,
            plan_json=plan.model_dump(mode="json", by_alias=True) if attempt.outcome in REUSABLE else None,
        )
        # Firestore first: a retry after a warehouse failure reuses the plan instead of paying again.
        self.records.put(record)
        self.warehouse.insert_rows("plan_generations", [record.warehouse_row()], id_field="generation_id")
        self.summaries.put(planning.tenant_id, planning.lead.lead_id, summary, now)
        return PlannedContact(plan, record, summary)


def _generation_id(input_hash: str, at: datetime, outcome: str) -> str:
    return f"{input_hash[:40]}-{int(at.timestamp() * 1000)}-{outcome}"
