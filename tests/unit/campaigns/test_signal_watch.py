"""The intent watch: written when a contact starts on a plan with a pixel trigger, only then."""

import pytest

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.signal_tasks import level_signal, outcome_signal, signal_key, signal_task, task_name
from oie.campaigns.watch import waits_on_pixel
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.campaigns.signal_factories import intent_plan, watching_service


@pytest.fixture
def svc():
    return watching_service(make_contact(), make_contact(lead_id="ld_0000000000000002", tracking_id="cd4g0l3r"))


def test_a_plan_waits_on_the_pixel_only_with_a_page_form_or_return_visit_transition():
    assert waits_on_pixel(intent_plan())
    assert not waits_on_pixel(make_plan())


def test_starting_contacts_on_a_plan_with_a_page_trigger_watches_their_tracking_ids(svc):
    svc.start_campaign("acme", "q1", TemplatePlanner(intent_plan()))
    svc.start_campaign("acme", "q2", TemplatePlanner(intent_plan()))
    entry = svc.watch.get("acme", "ab3f9k2q")
    assert entry.lead_id == "ld_0000000000000001"
    assert entry.contact_campaign_ids == ("q1_ld_0000000000000001_email", "q2_ld_0000000000000001_email")
    assert svc.watch.get("acme", "cd4g0l3r") is not None


def test_a_plan_without_pixel_triggers_watches_no_one(svc):
    svc.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    assert svc.watch.items == {}


def test_a_start_run_again_repairs_a_missing_watch_entry_without_a_second_contact_campaign(svc):
    svc.start_campaign("acme", "q1", TemplatePlanner(intent_plan()))
    svc.watch.items.clear()  # as if the first start failed after its create
    report = svc.start_campaign("acme", "q1", TemplatePlanner(intent_plan()))
    assert report.already_running == 2 and report.started == 0
    assert svc.watch.get("acme", "ab3f9k2q").contact_campaign_ids == ("q1_ld_0000000000000001_email",)


def test_a_signal_task_is_named_by_tenant_and_key_so_a_repeat_is_refused():
    first = level_signal("acme", "ld_0000000000000001", "acme:ld:hot:1", "hot", T0)
    again = level_signal("acme", "ld_0000000000000001", "acme:ld:hot:1", "hot", T0)
    other_tenant = level_signal("globex", "ld_0000000000000001", "acme:ld:hot:1", "hot", T0)
    queue = RecordingQueue()
    assert [queue.enqueue(signal_task(s)) for s in (first, again, other_tenant)] == [True, False, True]
    assert task_name(first) != task_name(other_tenant)
    task = queue.tasks[0]
    assert (task.queue, task.function) == ("intent-signals", "campaign_step")
    assert IntentSignal.model_validate(task.payload["signal"]) == first


def test_a_long_happening_id_still_makes_a_valid_bounded_key():
    key = signal_key("level", "x" * 400)
    assert len(key) <= 200 and key.startswith("level:h")
    signal = outcome_signal("acme", "ld_0000000000000001", "oc_12345678", "appointment_set", "mid_funnel", T0)
    assert (signal.signal_key, signal.outcome, signal.stage) == ("outcome:oc_12345678", "appointment_set", "mid_funnel")
