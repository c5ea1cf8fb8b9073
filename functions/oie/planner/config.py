"""A tenant's planner settings: what it sells, how to write, and the planner's limits.

Stored in Firestore `tenants/{t}/campaign_config/planner`; the console and CLI read and
write it through a PlannerConfigs store.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PlannerConfig(BaseModel):
    """What the model is told about the tenant's offer, and what bounds its work."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    offer: str = Field(default="", max_length=2000, description="what the tenant sells, in its own words")
    brief: str = Field(default="", max_length=4000, description="how to write: tone, audience, what to stress")
    # The sender's own company, which the copy may always name (the tenant's name when blank).
    sender_company: str = Field(default="", max_length=200)
    banned_phrases: tuple[str, ...] = Field(default=(), max_length=200)
    review_ai_plans: bool = False
    daily_token_budget: int = Field(default=2_000_000, ge=0, le=10_000_000_000)
    max_concurrent: int = Field(default=4, ge=1, le=200)

    @field_validator("banned_phrases")
    @classmethod
    def _clean_phrases(cls, phrases: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(p.strip() for p in phrases if p.strip())
        if any(len(p) > 200 for p in cleaned):
            raise ValueError("a banned phrase has at most 200 characters")
        return cleaned


class PlannerConfigs(Protocol):
    def get(self, tenant_id: str) -> PlannerConfig:
        """The tenant's planner config; the defaults when it never set one."""
        ...

    def put(self, tenant_id: str, config: PlannerConfig) -> None: ...
