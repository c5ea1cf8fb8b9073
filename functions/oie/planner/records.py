"""What every plan generation records: model, prompt version, input hash, tokens, cost, outcome.

Firestore `tenants/{t}/plan_generations/{input_hash}` keeps the latest with its plan (so the
same input reuses it); the warehouse's `plan_generations` keeps one row per generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from oie.campaigns.plan import Plan, parse_plan

Outcome = Literal["generated", "repaired", "fallback_invalid", "fallback_error", "budget_exhausted", "reused"]
# Outcomes whose plan the same input reuses; a fallback is tried again next time.
REUSABLE: frozenset[str] = frozenset({"generated", "repaired"})


@dataclass(frozen=True)
class Prices:
    """USD per 1M tokens, from settings."""

    input_per_1m: float
    output_per_1m: float

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        return round((prompt_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / 1_000_000, 8)


class PlanGeneration(BaseModel):
    """One plan generation: how the contact's plan was made, and what it cost."""

    model_config = ConfigDict(frozen=True)

    generation_id: str
    tenant_id: str
    campaign_id: str
    lead_id: str
    input_hash: str
    model: str
    prompt_version: str
    outcome: Outcome
    fallback_reason: str = ""
    model_calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    plan_version: str
    lead_analysis: str = ""
    planned_at: datetime
    # The plan itself (Firestore only), so a reuse needs no other read.
    plan_json: dict[str, Any] | None = None

    def plan(self) -> Plan | None:
        return parse_plan(self.plan_json) if self.plan_json is not None else None

    def warehouse_row(self) -> dict[str, Any]:
        row = self.model_dump(mode="json", exclude={"plan_json"})
        row["fallback_reason"] = self.fallback_reason or None
        return row


class GenerationRecords(Protocol):
    def get(self, tenant_id: str, input_hash: str) -> PlanGeneration | None: ...

    def put(self, record: PlanGeneration) -> None: ...
