import json
from pathlib import Path

import pytest

from oie.campaigns import plan as plans
from oie.campaigns.plan import PlanInvalid, parse_plan
from tests.unit.campaigns.factories import PLAN, make_plan, plan_dict

SCHEMA = Path(plans.__file__).with_name("plan.schema.json")


def refusal(data) -> PlanInvalid:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(data)
    return caught.value


def test_the_example_plan_is_valid_and_keeps_camel_case_fields():
    plan = parse_plan(json.dumps(PLAN))
    assert plan.start_node_id == "intro" and plan.quiet_hours.start == "21:00"
    assert plan.model_dump(mode="json", by_alias=True)["startNodeId"] == "intro"


def test_the_published_json_schema_matches_the_models():
    current = json.dumps(plans.json_schema(), indent=2, sort_keys=True) + "\n"
    if not SCHEMA.exists() or SCHEMA.read_text() != current:
        SCHEMA.write_text(current)
        pytest.fail(f"{SCHEMA.name} drifted from the models and was rewritten: review and commit it")


def test_the_same_plan_hashes_the_same_and_a_change_hashes_differently():
    assert make_plan().content_hash() == parse_plan(json.dumps(PLAN, indent=4)).content_hash()
    assert make_plan(timezone="Europe/Paris").content_hash() != make_plan().content_hash()


def test_a_transition_to_a_missing_node_names_the_field():
    data = plan_dict()
    data["nodes"][0]["transitions"][0]["to"] = "nowhere"
    error = refusal(data)
    assert error.field == "nodes[0].transitions[0].to"
    assert "'nowhere'" in error.message and "'intro'" in error.message


def test_an_unreachable_node_is_refused():
    data = plan_dict()
    data["nodes"].append({"id": "orphan", "type": "stop"})
    assert any("'orphan' cannot be reached" in m for _, m in refusal(data).problems)


def test_a_zero_delay_cycle_is_refused_but_a_delayed_one_is_not():
    data = plan_dict()
    data["nodes"][1] = {"id": "bump", "type": "wait", "duration": "PT0S", "next": "loop"}
    data["nodes"].append({"id": "loop", "type": "wait", "duration": "P0D", "next": "bump"})
    assert any("loop with no delay" in m for _, m in refusal(data).problems)
    data["nodes"][-1]["duration"] = "PT1H"
    data["nodes"][-1]["next"] = "bump"
    data["nodes"][1]["next"] = "loop"
    data["nodes"][-1]["transitions"] = [{"on": "reply", "to": "bump_send"}]
    parse_plan(data)


def test_an_unknown_placeholder_is_refused_with_the_template_part():
    data = plan_dict()
    data["nodes"][0]["template"]["html"] = "<p>{{password}}</p>"
    error = refusal(data)
    assert error.field == "nodes[0].template.html" and "{{password}}" in error.message


@pytest.mark.parametrize(
    ("quiet", "field"),
    [({"start": "25:00", "end": "07:00"}, "quietHours.start"), ({"start": "08:00", "end": "08:00"}, "quietHours")],
)
def test_malformed_quiet_hours_are_refused(quiet, field):
    assert refusal(plan_dict(quietHours=quiet)).field == field


def test_unknown_time_zone_and_bad_durations_are_refused():
    assert refusal(plan_dict(timezone="Mars/Olympus")).field == "timezone"
    data = plan_dict()
    data["nodes"][1]["duration"] = "P1M"
    assert refusal(data).field == "nodes[1].duration"


def test_timers_need_after_and_events_cannot_be_delayed():
    data = plan_dict()
    data["nodes"][0]["transitions"][1] = {"on": "no_open", "to": "bump"}
    assert refusal(data).field == "nodes[0].transitions[1].after"
    data = plan_dict()
    data["nodes"][0]["transitions"][0]["after"] = "P1D"
    assert "wait node" in refusal(data).message


def test_a_timer_written_with_within_is_refused_with_the_spelling_it_takes():
    # A timer fires `after` a delay; `within` bounds when an event counts. The README once mixed them.
    data = plan_dict()
    data["nodes"][0]["transitions"][1] = {"on": "no_open", "within": "P3D", "to": "bump"}
    problems = dict(refusal(data).problems)
    assert "takes `after`, not `within`" in problems["nodes[0].transitions[1].within"]


def test_sms_fits_the_model_but_is_not_sent_yet():
    data = plan_dict()
    data["nodes"][0]["channel"] = "sms"
    data["nodes"][0]["template"] = {"text": "hi {{first_name}}"}
    assert refusal(data).field == "nodes[0].channel"


def test_type_errors_name_the_field():
    data = plan_dict()
    data["nodes"][0]["transitions"][0]["on"] = "smile"
    assert "transitions" in refusal(data).field
