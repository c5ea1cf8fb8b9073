"""A/B/n variants: how a plan declares them, and the stable weighted choice per contact."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oie.campaigns import variants
from oie.campaigns.plan import PlanInvalid, SendNode, parse_plan
from tests.unit.campaigns.factories import intent_plan_dict, make_intent_plan

PLAN = make_intent_plan()
NODE = PLAN.node("pricing_followup")
FOLLOWUP = "nodes[1]"


def refusal(data) -> PlanInvalid:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(data)
    return caught.value


def with_followup(**fields):
    data = intent_plan_dict()
    data["nodes"][1].update(fields)
    return data


def variant(vid, weight=None, **template):
    body = {"id": vid, "template": {"subject": "s", "text": "t", **template}}
    return body if weight is None else {**body, "weight": weight}


def node_of(weights):
    return SendNode.model_validate(
        {"id": "n", "type": "send", "variants": [variant(f"v{i}", w) for i, w in enumerate(weights)]}
    )


# -- the plan language --------------------------------------------------------------------


def test_variants_with_an_experiment_are_valid_and_keep_camel_case():
    assert [(v.id, v.weight) for v in NODE.variants] == [("A", 3), ("B", 1)]
    assert (NODE.experiment.metric, NODE.experiment.auto_winner, NODE.experiment.confidence) == ("reply", True, 0.95)
    assert NODE.experiment.min_per_variant == 100
    dumped = PLAN.model_dump(mode="json", by_alias=True)["nodes"][1]["experiment"]
    assert dumped["autoWinner"] is True and dumped["minPerVariant"] == 100


def test_a_template_and_variants_together_are_refused_naming_variants():
    error = refusal(with_followup(template={"subject": "s", "text": "t"}))
    assert error.field == f"{FOLLOWUP}.variants" and "either `template` or `variants`" in error.message


def test_a_send_node_with_neither_is_refused_naming_template():
    data = intent_plan_dict()
    del data["nodes"][1]["variants"], data["nodes"][1]["experiment"]
    assert refusal(data).field == f"{FOLLOWUP}.template"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"variants": [variant("A")]}, "nodes.1.send.variants"),
        ({"variants": [variant(f"v{n}") for n in range(11)]}, "nodes.1.send.variants"),
        ({"variants": [variant("A", 0), variant("B")]}, "nodes.1.send.variants.0.weight"),
        ({"variants": [variant("A", 101), variant("B")]}, "nodes.1.send.variants.0.weight"),
        ({"variants": [variant("has space"), variant("B")]}, "nodes.1.send.variants.0.id"),
        ({"variants": [variant("x" * 33), variant("B")]}, "nodes.1.send.variants.0.id"),
        ({"experiment": {"metric": "open"}}, "nodes.1.send.experiment.metric"),
        ({"experiment": {"metric": "reply", "confidence": 0.5}}, "nodes.1.send.experiment.confidence"),
        ({"experiment": {"metric": "reply", "confidence": 0.9999}}, "nodes.1.send.experiment.confidence"),
        ({"experiment": {"metric": "click", "minPerVariant": 9}}, "nodes.1.send.experiment.minPerVariant"),
    ],
)
def test_out_of_range_variants_and_experiments_are_refused_by_type(fields, field):
    assert refusal(with_followup(**fields)).field == field


def test_two_variants_with_one_id_are_refused_naming_the_second():
    error = refusal(with_followup(variants=[variant("A"), variant("B"), variant("A")]))
    assert error.field == f"{FOLLOWUP}.variants[2].id" and "'A' twice" in error.message


def test_an_experiment_without_variants_is_refused():
    data = intent_plan_dict()
    data["nodes"][2]["experiment"] = {"metric": "click"}
    error = refusal(data)
    assert error.field == "nodes[2].experiment" and "needs `variants`" in error.message


def test_every_variants_template_is_checked_like_a_template():
    error = refusal(with_followup(variants=[variant("A"), variant("B", text="{{password}}")]))
    assert error.field == f"{FOLLOWUP}.variants[1].template.text" and "{{password}}" in error.message
    bad_html = refusal(with_followup(variants=[variant("A", html="<p>{{</p>"), variant("B")]))
    assert bad_html.field == f"{FOLLOWUP}.variants[0].template.html"
    sms = refusal(with_followup(variants=[{"id": "A", "template": {"text": "t"}}, variant("B")]))
    assert sms.field == f"{FOLLOWUP}.variants[0].template" and "subject" in sms.message


# -- the choice ---------------------------------------------------------------------------


def test_a_node_without_variants_has_no_variant_id():
    node = PLAN.node("case_followup")
    assert variants.assign(node, "q1_ld_1_email", None) == (None, node.template)
    assert variants.assign(node, "q1_ld_1_email", "A") == (None, node.template)


def test_the_winner_is_given_to_everyone_and_an_unknown_winner_is_ignored():
    ids = [f"q1_ld_{n}_email" for n in range(200)]
    assert {variants.assign(NODE, ccid, "B")[0] for ccid in ids} == {"B"}
    assert [variants.assign(NODE, c, "gone")[0] for c in ids] == [variants.assign(NODE, c, None)[0] for c in ids]


def test_the_template_returned_is_the_chosen_variants():
    for n in range(50):
        vid, template = variants.assign(NODE, f"q1_ld_{n}_email", None)
        assert template == next(v.template for v in NODE.variants if v.id == vid)


@given(st.text(min_size=1, max_size=80), st.lists(st.integers(1, 100), min_size=2, max_size=10))
def test_the_choice_is_stable_for_a_contact_and_node(ccid, weights):
    node = node_of(weights)
    assert variants.assign(node, ccid, None) == variants.assign(node, ccid, None)
    assert variants.assign(node, ccid, None) == variants.assign(node_of(weights), ccid, None)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 100), min_size=2, max_size=10))
def test_over_many_contacts_the_split_follows_the_weights(weights):
    node, contacts = node_of(weights), 4000
    counts = dict.fromkeys((v.id for v in node.variants), 0)
    for n in range(contacts):
        counts[variants.assign(node, f"q1_ld_{n:016d}_email", None)[0]] += 1
    total = sum(weights)
    for index, weight in enumerate(weights):
        # 4000 draws: one standard deviation of a share is at most 0.8 points; allow 4.
        assert abs(counts[f"v{index}"] / contacts - weight / total) < 0.04, (weights, counts)


def test_choices_on_two_nodes_are_independent():
    other = NODE.model_copy(update={"id": "second_followup"})
    ids = [f"q1_ld_{n:016d}_email" for n in range(4000)]
    pairs = [(variants.assign(NODE, c, None)[0], variants.assign(other, c, None)[0]) for c in ids]
    both_a = sum(1 for a, b in pairs if a == b == "A") / len(ids)
    assert abs(both_a - 0.75 * 0.75) < 0.03  # as if drawn separately, not the same draw twice (0.75)
