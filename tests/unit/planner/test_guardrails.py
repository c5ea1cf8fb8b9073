"""The guardrails on model-written copy: facts, links, unsubscribe text, banned phrases, rules."""

from oie.campaigns.plan import parse_plan
from oie.planner.guardrails import check_copy, check_plan, check_rules, figures, names, unsupported_facts
from tests.unit.planner.lm_factories import TEMPLATE, template_copy

TEMPLATE_TEXTS = [n.model_dump_json() for n in TEMPLATE.nodes]
INPUT = ["Ada Lovelace, CTO at Analytical Engines; read /pricing twice; score 72; offer: save 20% on seats"]


def test_invented_figures_and_customers_are_caught():
    text = "Teams like Globex cut churn by 37% and saved $120,000."
    assert unsupported_facts(text, INPUT) == ["$120000", "37%", "Globex"]


def test_figures_from_the_input_are_allowed_with_their_unit_only():
    assert unsupported_facts("You could save 20% on seats.", INPUT) == []
    # 72 is in the input as a score, not as a percentage or a price.
    assert unsupported_facts("Up to 72% faster.", INPUT) == ["72%"]
    assert figures("$1,200 and 3.5x and 40 percent") == {"$1200", "3.5x", "40%"}


def test_a_capitalised_word_opening_a_sentence_is_grammar_not_a_name():
    assert unsupported_facts("Thanks for reading. Worth a look? Happy to help.", INPUT) == []


def test_a_brand_opening_a_sentence_is_still_caught():
    assert unsupported_facts("HubSpot users love it.", INPUT) == ["HubSpot"]
    # The first word of a two-word name is skipped, the second is not.
    assert unsupported_facts("Goldman Sachs uses it.", INPUT) == ["Sachs"]


def test_names_in_the_input_are_allowed_case_insensitively_and_possessive():
    assert unsupported_facts("I saw the Analytical Engines team read Pricing; Ada's notes too.", INPUT) == []


def test_the_senders_own_company_is_allowed_when_given():
    assert unsupported_facts("Hi, this is Sam from Acme Analytics.", INPUT) == ["Sam", "Acme", "Analytics"]
    assert unsupported_facts("Hi, this is Sam from Acme Analytics.", [*INPUT, "Acme Analytics", "Sam"]) == []


def test_placeholders_are_not_facts():
    assert names("Hi {{first_name|There}}, {{company}} and {{sender_name}}") == []
    assert unsupported_facts("Hi {{first_name|Friend}}, about {{company|Your Team}}: 2 {{title}}", INPUT) == ["2"]


def test_days_months_and_i_are_not_names():
    assert unsupported_facts("Could I call you on Tuesday in March?", INPUT) == []


def test_links_unsubscribe_text_and_banned_phrases_are_refused():
    problems = check_copy(
        "text",
        "See https://acme.com or www.acme.com. To unsubscribe reply STOP. We guarantee results.",
        [*INPUT, "see acme com or www reply stop we guarantee results to"],
        ["Guarantee"],
        1500,
    )
    messages = " | ".join(m for _, m in problems)
    assert "no links" in messages
    assert "no unsubscribe text" in messages
    assert "banned phrase 'Guarantee'" in messages


def test_only_the_tracking_link_placeholder_is_allowed():
    assert check_copy("text", "Look: {{tracking_link}}", INPUT, [], 1500) == []
    problems = check_copy("text", "Bye {{unsubscribe_link}} {{email}}", INPUT, [], 1500)
    assert [m for _, m in problems] == [
        "placeholder {{email}} is not for the model to write",
        "placeholder {{unsubscribe_link}} is not for the model to write",
    ]


def test_copy_over_its_length_limit_is_refused():
    assert check_copy("subject", "a" * 121, INPUT, [], 120) == [("subject", "121 characters; at most 120")]


def test_business_rules_keep_the_tenants_timezone_quiet_hours_and_stop_on_reply():
    changed = template_copy()
    changed.update(timezone="UTC", quietHours=None, stopOnReply=False)
    fields = [f for f, _ in check_rules(parse_plan(changed), TEMPLATE)]
    assert fields == ["plan.stopOnReply", "plan.timezone", "plan.quietHours"]


def test_check_plan_names_the_node_and_part_of_each_problem():
    plan = template_copy()
    plan["nodes"][2]["template"]["text"] = "Globex loved it: https://x.io"
    problems = check_plan(parse_plan(plan), TEMPLATE, [*INPUT, *TEMPLATE_TEXTS], [])
    assert {f for f, _ in problems} >= {"plan.nodes[2].template.text", "plan.nodes[0].template.html"}
