"""Where plans come from: the template planner gives every contact the tenant's sequence."""

from __future__ import annotations

from dataclasses import dataclass

from oie.campaigns.models import Contact
from oie.campaigns.plan import Plan, parse_plan


@dataclass(frozen=True)
class TemplatePlanner:
    """The tenant's sequence template for every contact; personal fields are filled at send time.

    So the same template is one plan version for all of them. A planner that writes a plan
    per contact (an AI planner) implements the same `plan_for`.
    """

    template: Plan

    @classmethod
    def from_json(cls, source: str | bytes) -> TemplatePlanner:
        return cls(parse_plan(source))

    def plan_for(self, tenant_id: str, campaign_id: str, contact: Contact) -> Plan:
        return self.template
