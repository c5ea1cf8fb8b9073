"""Planning tasks on in-memory ports: one named task per contact, and each outcome of running one."""

import pytest
from flask import Flask

from oie import deadlines, queues, wiring
from oie.campaigns.models import ScopeControl, contact_campaign_id
from oie.errors import BackendUnavailable, Conflict, InputError, NotFound, RateLimited
from oie.planner import http
from oie.planner.tasks import PlanningPayload, PlanningTasks, task_name
from tests.conftest import make_settings
from tests.fakes import FakeClock, RecordingQueue
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.planner.review_fakes import FakePlanner, MemoryConfigs, MemoryReviews, campaign_service

CONTACTS = [make_contact(lead_id=f"ld_{n:016d}", email=f"p{n}@example.com", first_name=f"P{n}") for n in range(30)]


@pytest.fixture
def tasks():
    clock = FakeClock(T0)
    return PlanningTasks(
        campaigns=campaign_service(clock, *CONTACTS),
        planner=FakePlanner(),
        configs=MemoryConfigs(),
        reviews=MemoryReviews(),
        tasks=RecordingQueue(),
        clock=clock,
        workers=4,
    )


def payload_for(tasks, n=0):
    return PlanningPayload.model_validate(tasks.tasks.tasks[n].payload)


def test_starting_queues_one_named_task_per_contact_and_a_rerun_adds_none(tasks):
    seen = []
    report = tasks.start("acme", "q1", make_plan(), progress=seen.append)
    assert (report.enqueued, report.already_enqueued) == (30, 0) and sum(seen) == 30
    assert {t.queue for t in tasks.tasks.tasks} == {queues.CAMPAIGN_PLANNING}
    assert {t.function for t in tasks.tasks.tasks} == {"campaign_plan"}
    assert {t.name for t in tasks.tasks.tasks} == {task_name("acme", "q1", c.lead_id) for c in CONTACTS}
    again = tasks.start("acme", "q1", make_plan())
    assert (again.enqueued, again.already_enqueued) == (0, 30) and len(tasks.tasks.tasks) == 30
    assert tasks.planner.calls == []  # nothing is planned while starting


def test_task_names_are_exact_per_tenant_campaign_and_lead_and_valid_for_cloud_tasks():
    names = {task_name(t, c, lead) for t in ("acme", "ac") for c in ("q1", "q1me") for lead in ("ld_1", "me_ld_1")}
    assert len(names) == 8
    assert task_name("acme", "q1", "ld_1") == task_name("acme", "q1", "ld_1")
    odd = task_name("acme", "q1", "lead with spaces/and:colons")
    assert odd.startswith("plan-") and all(ch.isalnum() or ch in "-_" for ch in odd)


def test_starting_is_refused_for_an_unknown_tenant_a_stopped_campaign_or_no_sender(tasks):
    with pytest.raises(NotFound):
        tasks.start("nobody", "q1", make_plan())
    with pytest.raises(InputError) as refused:
        tasks.start("acme", "q1", make_plan(), sender_ids=("no-such-sender",))
    assert refused.value.field == "sender"
    tasks.campaigns.states.controls[("acme", "q1")] = ScopeControl(state="stopped")
    with pytest.raises(Conflict):
        tasks.start("acme", "q1", make_plan())
    assert tasks.tasks.tasks == []


def test_a_planned_contact_is_started_on_its_own_plan(tasks):
    tasks.start("acme", "q1", make_plan())
    assert tasks.run(payload_for(tasks)) == "started"
    state = tasks.campaigns.states.get("acme", contact_campaign_id("q1", CONTACTS[0].lead_id))
    plan = tasks.campaigns.plans.get("acme", state.plan_version)
    assert plan.nodes[0].template.subject == f"P0, about {CONTACTS[0].company}"


def test_a_second_delivery_starts_nothing_and_calls_no_model(tasks):
    tasks.start("acme", "q1", make_plan())
    payload = payload_for(tasks)
    assert [tasks.run(payload), tasks.run(payload)] == ["started", "already_started"]
    assert tasks.planner.calls == [CONTACTS[0].lead_id] and len(tasks.campaigns.states.states) == 1


def test_a_tenant_that_reviews_ai_plans_gets_a_pending_review_and_no_start(tasks):
    tasks.configs.review.add("acme")
    tasks.start("acme", "q1", make_plan())
    payload = payload_for(tasks)
    assert [tasks.run(payload), tasks.run(payload)] == ["queued_for_review", "already_in_review"]
    review = tasks.reviews.get("acme", contact_campaign_id("q1", CONTACTS[0].lead_id))
    assert review.status == "pending" and review.record["model"] == "gemini-test"
    assert review.messages[0].subject == f"P0, about {CONTACTS[0].company}"
    assert review.analysis == "P0 read pricing twice"
    assert not tasks.campaigns.states.states and tasks.planner.calls == [CONTACTS[0].lead_id]


def test_a_stopped_campaign_acknowledges_its_tasks_without_planning(tasks):
    tasks.start("acme", "q1", make_plan())
    tasks.campaigns.states.controls[("acme", "q1")] = ScopeControl(state="stopped")
    assert tasks.run(payload_for(tasks)) == "campaign_stopped" and tasks.planner.calls == []


def test_a_missing_template_cannot_succeed(tasks):
    tasks.start("acme", "q1", make_plan())
    payload = payload_for(tasks).model_copy(update={"template_version": "0" * 64})
    with pytest.raises(NotFound) as refused:
        tasks.run(payload)
    assert refused.value.field == "template_version" and tasks.planner.calls == []


def answer(tmp_path, service, body):
    wiring.use(wiring.Container(make_settings(tmp_path), planning_tasks=service))
    try:
        with Flask(__name__).test_request_context("/", method="POST", data=body, content_type="application/json"):
            from flask import request

            response = http.handle(request)
            return response.status_code, response.get_json(), response.headers
    finally:
        wiring.use(None)


def test_the_handler_acknowledges_a_malformed_task_without_planning(tasks, tmp_path):
    for body in (b"{not json", b'{"kind": "plan", "tenant_id": "acme"}', b"[]"):
        status, answered, _ = answer(tmp_path, tasks, body)
        assert (status, answered) == (200, {"outcome": "ignored", "reason": "malformed"})
    assert tasks.planner.calls == []


def test_the_handler_answers_each_outcome_and_acknowledges_what_cannot_succeed(tasks, tmp_path):
    tasks.start("acme", "q1", make_plan())
    body = payload_for(tasks).model_dump_json()
    assert answer(tmp_path, tasks, body)[:2] == (200, {"outcome": "started"})
    assert answer(tmp_path, tasks, body)[:2] == (200, {"outcome": "already_started"})
    gone = payload_for(tasks, 1).model_copy(update={"tenant_id": "nobody"}).model_dump_json()
    assert answer(tmp_path, tasks, gone)[:2] == (200, {"outcome": "ignored", "reason": "not_found"})


@pytest.mark.parametrize(
    "error",
    [BackendUnavailable("firestore is down"), RateLimited("acme is at its planner concurrency cap")],
)
def test_the_handler_asks_cloud_tasks_to_retry_transient_faults_and_the_concurrency_cap(tasks, tmp_path, error):
    tasks.start("acme", "q1", make_plan())
    error.retry_after = 7.2
    tasks.planner.fail_with = error
    seen = []
    original = tasks.planner.plan_contact

    def plan_contact(*args):
        seen.append(deadlines.current().request_seconds)
        return original(*args)

    tasks.planner.plan_contact = plan_contact
    status, answered, headers = answer(tmp_path, tasks, payload_for(tasks).model_dump_json())
    assert status == 503 and answered["error"]["code"] == "backend_unavailable"
    assert headers["Retry-After"] == "8"
    assert seen == [deadlines.for_function("campaign_plan").request_seconds]
    assert not tasks.campaigns.states.states and not tasks.reviews.items
