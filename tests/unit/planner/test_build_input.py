"""One planning input for a contact (inputs.build_input), used by the planner and by review checks."""

from datetime import UTC, datetime

from oie.campaigns.plan import parse_plan
from oie.links.models import LeadRecord
from oie.planner.inputs import build_input
from oie.planner.prompt import PROMPT_VERSION
from oie.planner.review import PlanReview
from oie.planner.review_checks import planner_guardrails
from tests.unit.planner.lm_factories import (
    PRICING_READER,
    TEMPLATE,
    FakeModel,
    MemoryLeads,
    good_answer,
    make_contact,
    make_planner,
    template_copy,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECORD = LeadRecord(email="ada@x.example", first_name="Ada", company="Analytical Engines", attributes={"tier": "Gold"})


def _planner(model=None):
    return make_planner(model or FakeModel(), leads=MemoryLeads(ld_1=RECORD))


def test_the_input_carries_the_lead_record_the_tenants_config_and_the_evidence():
    planner = _planner()
    config = planner.configs.get("acme")
    planning = build_input(planner, "acme", "q1", make_contact(), TEMPLATE, config, NOW)
    assert (planning.lead.company, planning.lead.attributes) == ("Analytical Engines", {"tier": "Gold"})
    assert (planning.sender_company, planning.offer) == ("Acme Analytics", config.offer)
    assert planning.evidence == PRICING_READER and planning.template == TEMPLATE


def test_the_planner_records_the_hash_of_the_input_build_input_makes():
    planner = _planner()
    planning = build_input(planner, "acme", "q1", make_contact(), TEMPLATE, planner.configs.get("acme"), NOW)
    planned = make_planner(FakeModel(good_answer(planning)), leads=MemoryLeads(ld_1=RECORD)).plan_contact(
        "acme", "q1", make_contact(), TEMPLATE
    )
    assert planned.record.outcome == "generated"
    assert planned.record.input_hash == planning.input_hash("fake-model", PROMPT_VERSION)


class _Templates:
    def get(self, tenant_id, version):
        return TEMPLATE if version == "tpl-1" else None


REVIEW = PlanReview(
    tenant_id="acme",
    contact_campaign_id="cc1",
    campaign_id="q1",
    contact=make_contact(),
    template_version="tpl-1",
    plan=TEMPLATE,
    created_at=NOW,
)


def test_a_reviewers_edit_may_use_facts_of_the_lead_record_but_not_invented_ones():
    check = planner_guardrails(_planner(), _Templates())
    edited = template_copy()
    del edited["nodes"][0]["template"]["html"]
    edited["nodes"][0]["template"]["text"] = "Hi {{first_name}}, as a Gold tier team you read our pricing."
    assert check("acme", parse_plan(edited), REVIEW) == []
    edited["nodes"][0]["template"]["text"] = "Teams like Globex saved 37% with us."
    problems = check("acme", parse_plan(edited), REVIEW)
    assert any("Globex" in message and "37%" in message for _, message in problems)
