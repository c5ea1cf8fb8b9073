"""LanguageModelPlanner on fakes: generate, repair, fall back, budget, slots, reuse, records."""

import pytest

from oie.errors import BackendUnavailable, InputError
from oie.planner.config import PlannerConfig
from oie.planner.model import ModelRefused, ModelUnavailable
from oie.planner.prompt import PROMPT_VERSION
from tests.unit.planner.lm_factories import (
    NEWCOMER,
    PRICING_READER,
    TEMPLATE,
    FakeModel,
    FixedEvidence,
    MemoryConfigs,
    MemorySlots,
    good_answer,
    make_contact,
    make_input,
    make_planner,
    with_text,
)


def _answer():
    # The input the planner builds from its fakes (the tenant's name is the sender's company).
    return good_answer(make_input(offer="Acme Analytics shows which accounts are ready to buy.", brief=""))


def test_a_valid_answer_is_the_contacts_plan_recorded_with_model_prompt_version_tokens_and_cost():
    model = FakeModel(_answer())
    planner = make_planner(model)
    planned = planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    record = planned.record
    assert record.outcome == "generated"
    assert planned.plan != TEMPLATE and planned.plan.content_hash() == record.plan_version
    assert (record.model, record.prompt_version, record.model_calls) == ("fake-model", PROMPT_VERSION, 1)
    assert (record.prompt_tokens, record.output_tokens) == (1000, 500)
    assert record.cost_usd == pytest.approx((1000 * 0.30 + 500 * 2.50) / 1e6)
    assert planner.warehouse.tables["plan_generations"][0]["outcome"] == "generated"
    assert planner.summaries.items["ld_1"] == planned.analysis
    assert "@" not in model.requests[0].prompt


def test_an_invalid_answer_gets_one_repair_with_its_problems():
    model = FakeModel('{"plan": ', _answer())
    planned = make_planner(model).plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert planned.record.outcome == "repaired"
    assert planned.record.model_calls == 2
    assert "- answer: not valid JSON" in model.requests[1].prompt


def test_invalid_twice_falls_back_to_the_template_with_the_reason_and_an_evidence_summary():
    invented = with_text(_answer(), "Teams like Globex saved 37% with us. {{tracking_link}}")
    model = FakeModel(invented, invented)
    planned = make_planner(model).plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert planned.plan == TEMPLATE
    assert planned.record.outcome == "fallback_invalid"
    assert "facts not in the input: 37%, Globex" in planned.record.fallback_reason
    assert planned.analysis.startswith("Hot (score 72)")
    assert len(model.requests) == 2


@pytest.mark.parametrize("error", [ModelUnavailable("timed out"), ModelRefused("400 INVALID_ARGUMENT")])
def test_a_model_error_falls_back_to_the_template(error):
    planned = make_planner(FakeModel(error)).plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert (planned.plan, planned.record.outcome) == (TEMPLATE, "fallback_error")
    assert planned.record.fallback_reason == error.message


def test_an_exhausted_budget_plans_the_template_without_calling_the_model():
    model = FakeModel(_answer())
    planner = make_planner(model, configs=MemoryConfigs(PlannerConfig(daily_token_budget=100)))
    planned = planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert planned.record.outcome == "budget_exhausted"
    assert planned.plan == TEMPLATE and model.requests == []


def test_the_budget_counts_actual_usage_and_frees_the_reservation():
    planner = make_planner(FakeModel(_answer()))
    planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    day = planner.clock.now().date()
    assert (planner.budget.used[day], planner.budget.reserved[day]) == (1500, 0)


def test_no_free_slot_raises_backend_unavailable_and_a_slot_frees_after_its_lease():
    slots = MemorySlots()
    planner = make_planner(FakeModel(_answer()), slots=slots, configs=MemoryConfigs(PlannerConfig(max_concurrent=1)))
    slots.acquire("acme", 1, "crashed-worker", planner.clock.now(), planner.lease)
    with pytest.raises(BackendUnavailable, match="planning slots"):
        planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert planner.budget.reserved[planner.clock.now().date()] == 0
    planner.clock.advance(seconds=121)
    assert planner.plan_contact("acme", "q1", make_contact(), TEMPLATE).record.outcome == "generated"
    assert slots.held == {}


def test_the_same_input_reuses_the_stored_plan_without_a_second_call():
    model = FakeModel(_answer())
    planner = make_planner(model)
    first = planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    second = planner.plan_contact("acme", "q1", make_contact(), TEMPLATE)
    assert second.plan == first.plan and second.record.outcome == "reused"
    assert len(model.requests) == 1
    assert [r["outcome"] for r in planner.warehouse.tables["plan_generations"]] == ["generated", "reused"]


def test_a_fallback_is_not_reused():
    model = FakeModel(ModelUnavailable("down"), _answer())
    planner = make_planner(model)
    assert planner.plan_contact("acme", "q1", make_contact(), TEMPLATE).record.outcome == "fallback_error"
    assert planner.plan_contact("acme", "q1", make_contact(), TEMPLATE).record.outcome == "generated"


def test_contacts_with_different_evidence_get_different_plans():
    evidence = FixedEvidence(ld_1=PRICING_READER, ld_2=NEWCOMER)
    model = FakeModel(
        _answer(), good_answer(make_input(evidence=NEWCOMER, offer=MemoryConfigs().config.offer, brief=""))
    )
    planner = make_planner(model, evidence=evidence)
    first = planner.plan_contact("acme", "q1", make_contact("ld_1"), TEMPLATE)
    second = planner.plan_contact("acme", "q1", make_contact("ld_2", first_name="Grace"), TEMPLATE)
    assert first.plan.content_hash() != second.plan.content_hash()
    assert first.record.input_hash != second.record.input_hash


def test_plan_for_adapts_the_bound_template_and_needs_one():
    planner = make_planner(FakeModel(_answer()))
    with pytest.raises(InputError, match="template"):
        planner.plan_for("acme", "q1", make_contact())
    assert planner.with_template(TEMPLATE).plan_for("acme", "q1", make_contact()) != TEMPLATE
