"""The plan language's intent transitions and their filters: what is accepted, and each refusal by field."""

import json
from typing import get_args

import pytest

from oie.campaigns import plan as plans
from oie.campaigns.plan import PlanInvalid, parse_plan
from oie.configuration.models import PageClass
from tests.unit.campaigns.factories import intent_plan_dict, make_intent_plan, make_plan

INTRO = "nodes[0].transitions"


def refusal(data) -> PlanInvalid:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(data)
    return caught.value


def with_intro_transitions(*transitions):
    data = intent_plan_dict()
    data["nodes"][0]["transitions"] = [*transitions, *data["nodes"][0]["transitions"]]
    return data


def test_the_intent_plan_is_valid_and_keeps_camel_case_filters():
    plan = make_intent_plan()
    first, second = plan.nodes[0].transitions[:2]
    assert (first.on, first.page, first.within) == ("page_visit", "pricing", "P7D")
    dumped = plan.model_dump(mode="json", by_alias=True)["nodes"][0]["transitions"][1]
    assert dumped["urlPattern"] == "/blog/*/fintech" and second.url_pattern == "/blog/*/fintech"


def test_the_published_schema_lists_the_new_events_and_filters():
    schema = plans.json_schema()
    transition = schema["$defs"]["Transition"]["properties"]
    events = json.dumps(transition["on"])
    for name in ("page_visit", "intent_level", "form_submit", "return_visit", "outcome"):
        assert f'"{name}"' in events
    assert {"page", "urlPattern", "level", "outcome"} <= transition.keys()
    assert {"variants", "experiment"} <= schema["$defs"]["SendNode"]["properties"].keys()


def test_the_page_classes_are_the_ones_page_rules_give():
    assert get_args(plans.PageClass) == get_args(PageClass)


def test_plans_written_before_the_additions_keep_their_version_id():
    # The hash of tests' PLAN before intent transitions and variants existed.
    assert make_plan().content_hash() == "30cb592586819f5bcf04e5c6cf875637cfffe205215474da20a69d9cc18c42f7"


def test_signal_transitions_are_allowed_on_wait_nodes():
    plan = make_intent_plan()
    assert [t.on for t in plan.node("nurture").transitions] == ["return_visit", "form_submit"]


def test_a_signal_transition_cannot_be_delayed_with_after():
    data = with_intro_transitions({"on": "page_visit", "page": "product", "after": "P1D", "to": "case_followup"})
    error = refusal(data)
    assert error.field == f"{INTRO}[0].after" and "wait node" in error.message


@pytest.mark.parametrize(
    ("transition", "field", "words"),
    [
        ({"on": "page_visit", "to": "case_followup"}, "page", "exactly one of `page` and `urlPattern`"),
        (
            {"on": "page_visit", "page": "product", "urlPattern": "/p*", "to": "case_followup"},
            "page",
            "exactly one",
        ),
        ({"on": "intent_level", "to": "hot_followup"}, "level", "needs `level`"),
        ({"on": "outcome", "to": "nurture"}, "outcome", "needs `outcome`"),
        ({"on": "click", "page": "pricing", "to": "case_followup"}, "page", "`page` filters page_visit, not click"),
        ({"on": "form_submit", "level": "hot", "to": "hot_followup"}, "level", "`level` filters intent_level"),
        ({"on": "intent_level", "level": "hot", "outcome": "invalid", "to": "done"}, "outcome", "filters outcome"),
        ({"on": "return_visit", "urlPattern": "/x", "to": "done"}, "urlPattern", "`urlPattern` filters page_visit"),
    ],
)
def test_a_filter_missing_or_on_the_wrong_event_is_refused_naming_the_field(transition, field, words):
    problems = dict(refusal(with_intro_transitions(transition)).problems)
    assert words in problems[f"{INTRO}[0].{field}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("page", "blog"),
        ("level", "cold"),
        ("outcome", "contacted"),
        ("urlPattern", "pricing*"),
        ("urlPattern", "/a b"),
        ("urlPattern", "/x?y=1"),
        ("urlPattern", "/" + "a" * 200),
    ],
)
def test_filter_values_outside_their_sets_are_refused_by_type(field, value):
    event = {"page": "page_visit", "urlPattern": "page_visit", "level": "intent_level", "outcome": "outcome"}[field]
    error = refusal(with_intro_transitions({"on": event, field: value, "to": "done"}))
    assert error.field == f"nodes.0.send.transitions.0.{field}"  # pydantic's path: index, node type, field


def test_the_same_event_twice_is_allowed_when_the_filters_differ():
    data = with_intro_transitions(
        {"on": "page_visit", "page": "case_study", "to": "case_followup"},
        {"on": "intent_level", "level": "burning", "to": "pricing_followup"},
    )
    plan = parse_plan(data)
    assert [t.page for t in plan.nodes[0].transitions if t.on == "page_visit"] == ["case_study", "pricing", None]


@pytest.mark.parametrize(
    "transition",
    [
        {"on": "page_visit", "page": "pricing", "to": "case_followup"},
        {"on": "page_visit", "urlPattern": "/BLOG/*/fintech", "to": "done"},  # patterns match case-insensitively
        {"on": "intent_level", "level": "hot", "within": "P1D", "to": "done"},
        {"on": "outcome", "outcome": "closed_lost", "to": "done"},
    ],
)
def test_the_same_event_and_filter_twice_is_refused(transition):
    problems = dict(refusal(with_intro_transitions(transition)).problems)
    (field,) = [f for f, m in problems.items() if "second transition" in m]
    assert "with the same filter" in problems[field] and field.startswith(INTRO)


def test_an_unfiltered_event_twice_is_still_refused():
    data = intent_plan_dict()
    data["nodes"][4]["transitions"].append({"on": "form_submit", "within": "P1D", "to": "done"})
    problems = dict(refusal(data).problems)
    assert problems["nodes[4].transitions[2].on"] == "node 'nurture': a second transition on 'form_submit'"


def test_a_signal_transition_to_a_missing_node_names_it():
    data = with_intro_transitions({"on": "return_visit", "to": "nowhere"})
    error = refusal(data)
    assert error.field == f"{INTRO}[0].to" and "return_visit goes to 'nowhere'" in error.message
