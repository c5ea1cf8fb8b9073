"""Plans, states and events for campaign tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from oie.campaigns.models import Contact, ContactCampaign
from oie.campaigns.plan import Plan, parse_plan

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles (PST)


def plan_document(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A plan's JSON with the tests' usual header: Los Angeles time, quiet 21:00-07:30, starting at the first node."""
    return {
        "version": "1.0",
        "timezone": "America/Los_Angeles",
        "quietHours": {"start": "21:00", "end": "07:30"},
        "startNodeId": nodes[0]["id"],
        "nodes": list(nodes),
    }


PLAN: dict[str, Any] = plan_document(
    {
        "id": "intro",
        "type": "send",
        "channel": "email",
        "template": {
            "subject": "Hi {{first_name|there}}",
            "text": "Hello {{first_name}} at {{company}}: https://www.acme.com/pricing and https://other.example/x",
            "html": '<p>Hello {{first_name}}</p><a href="https://www.acme.com/pricing?a=1&amp;b=2">pricing</a>'
            '<a href="https://other.example/x">other</a>',
        },
        "transitions": [
            {"on": "click", "to": "followup_hot"},
            {"on": "no_open", "after": "P3D", "to": "bump"},
            {"on": "reply", "to": "done"},
        ],
    },
    {"id": "bump", "type": "wait", "duration": "P2D", "next": "bump_send"},
    {
        "id": "bump_send",
        "type": "send",
        "template": {"subject": "Re: hi", "text": "Bump {{first_name}} {{tracking_link}}"},
        "transitions": [{"on": "timeout", "after": "P4D", "to": "done"}],
    },
    {"id": "followup_hot", "type": "send", "template": {"subject": "Glad", "text": "Talk? {{unsubscribe_link}}"}},
    {"id": "done", "type": "stop"},
)


def plan_dict(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(PLAN)
    data.update(changes)
    return data


def make_plan(**changes: Any) -> Plan:
    return parse_plan(plan_dict(**changes))


def make_contact(**overrides: Any) -> Contact:
    fields: dict[str, Any] = {
        "lead_id": "ld_0000000000000001",
        "email": "ada@example.com",
        "tracking_id": "ab3f9k2q",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Engines",
    }
    fields.update(overrides)
    return Contact.model_validate(fields)


def make_state(plan: Plan, now: datetime = T0, **overrides: Any) -> ContactCampaign:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "contact_campaign_id": "q1_ld_0000000000000001_email",
        "campaign_id": "q1",
        "contact": make_contact(),
        "sender_id": "sdr",
        "plan_version": plan.content_hash(),
        "created_at": now,
        "updated_at": now,
    }
    fields.update(overrides)
    return ContactCampaign.model_validate(fields)


# After the intro: a pricing visit within 7 days, a fintech case study, becoming hot or an outcome
# each lead somewhere else; the pricing follow-up is an A/B test.
INTENT_PLAN: dict[str, Any] = plan_document(
    {
        "id": "intro",
        "type": "send",
        "template": {"subject": "Hi {{first_name|there}}", "text": "Hello {{first_name}}"},
        "transitions": [
            {"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing_followup"},
            {"on": "page_visit", "urlPattern": "/blog/*/fintech", "to": "case_followup"},
            {"on": "intent_level", "level": "hot", "to": "hot_followup"},
            {"on": "outcome", "outcome": "closed_lost", "to": "nurture"},
            {"on": "timeout", "after": "P10D", "to": "done"},
        ],
    },
    {
        "id": "pricing_followup",
        "type": "send",
        "variants": [
            {"id": "A", "weight": 3, "template": {"subject": "Plans for {{company}}", "text": "A {{first_name}}"}},
            {"id": "B", "template": {"subject": "Pricing questions?", "text": "B {{first_name}}"}},
        ],
        "experiment": {"metric": "reply", "autoWinner": True},
        "transitions": [{"on": "timeout", "after": "P5D", "to": "done"}],
    },
    {"id": "case_followup", "type": "send", "template": {"subject": "Fintech", "text": "A case study"}},
    {"id": "hot_followup", "type": "send", "template": {"subject": "Call?", "text": "Shall we talk?"}},
    {
        "id": "nurture",
        "type": "wait",
        "duration": "P30D",
        "next": "done",
        "transitions": [
            {"on": "return_visit", "within": "P30D", "to": "hot_followup"},
            {"on": "form_submit", "to": "hot_followup"},
        ],
    },
    {"id": "done", "type": "stop"},
)


def intent_plan_dict() -> dict[str, Any]:
    return copy.deepcopy(INTENT_PLAN)


def make_intent_plan() -> Plan:
    return parse_plan(intent_plan_dict())
