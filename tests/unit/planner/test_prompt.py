"""The prompt, the model-facing schema, and reading the model's answer."""

import json

import pytest

from oie.campaigns.plan import EVENTS, TIMERS, json_schema
from oie.planner.prompt import DraftInvalid, build_prompt, parse_draft, prompt_input, repair_prompt, response_schema
from tests.unit.planner.lm_factories import PRICING_READER, good_answer, make_input


def _keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_the_model_facing_schema_is_inlined_without_keywords_gemini_refuses():
    keys = set(_keys(response_schema()))
    assert not keys & {"$ref", "$defs", "discriminator", "oneOf", "const", "title", "default", "additionalProperties"}
    assert "html" not in json.dumps(response_schema()["properties"]["plan"])


def test_the_model_facing_schema_follows_the_plan_models_transition_events():
    text = json.dumps(response_schema())
    for event in (*EVENTS, *TIMERS):
        assert f'"{event}"' in text


def test_the_published_plan_schema_keeps_its_definitions():
    assert "$defs" in json_schema()


def test_the_prompt_carries_the_input_but_never_the_email_address_or_template_html():
    prompt = build_prompt(make_input())
    assert "<planning_input>" in prompt and "Analytical Engines" in prompt
    assert "@" not in prompt_input(make_input())
    assert "<p>Hi" not in prompt
    assert '"pricing_views": 2' in prompt


def test_the_repair_prompt_lists_each_problem_and_the_refused_answer():
    prompt = repair_prompt(
        make_input(), '{"plan": 1}', [("plan.nodes[0].template.text", "facts not in the input: 37%")]
    )
    assert "- plan.nodes[0].template.text: facts not in the input: 37%" in prompt
    assert '{"plan": 1}' in prompt


def test_a_valid_answer_becomes_a_draft_through_the_plan_validator():
    draft = parse_draft(good_answer(make_input(evidence=PRICING_READER)))
    assert draft.plan.start_node_id == "intro"
    assert "pricing" in draft.lead_analysis


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"plan": ', "answer"),
        ('{"leadAnalysis": "x"}', "plan"),
        ('{"plan": {}, "leadAnalysis": 3}', "leadAnalysis"),
        ('{"leadAnalysis": "x", "plan": {"startNodeId": "a", "nodes": [{"id": "a", "type": "wait"}]}}', "plan.nodes.0"),
    ],
)
def test_an_unusable_answer_names_the_field(text, field):
    with pytest.raises(DraftInvalid) as caught:
        parse_draft(text)
    assert caught.value.problems[0][0].startswith(field)
