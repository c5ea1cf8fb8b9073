"""A reviewer's edited plan passes the checks a model's plan passes (oie.planner.guardrails).

The business rules against the template the plan was made from, and the copy against the
facts of the lead's input as the planner builds it (`inputs.build_input`), with the tenant's
banned phrases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oie.campaigns.plan import Plan
from oie.planner import guardrails
from oie.planner.inputs import build_input
from oie.planner.prompt import prompt_input
from oie.planner.review import Guardrails, PlanReview

if TYPE_CHECKING:
    from oie.planner.service import LanguageModelPlanner


def planner_guardrails(planner: LanguageModelPlanner, templates: Any) -> Guardrails:
    """Guardrails for ReviewService from the planner's own sources; `templates` is a PlanVersions."""

    def check(tenant_id: str, plan: Plan, review: PlanReview) -> list[tuple[str, str]]:
        template = templates.get(tenant_id, review.template_version) if review.template_version else None
        config = planner.configs.get(tenant_id)
        now = planner.clock.now()
        planning = build_input(
            planner, tenant_id, review.campaign_id, review.contact, template or review.plan, config, now
        )
        inputs = [prompt_input(planning), planning.sender_company]
        return guardrails.check_plan(plan, planning.template, inputs, planning.banned_phrases)

    return check
