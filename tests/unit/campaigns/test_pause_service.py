"""Pause, resume and stop through the campaign service on in-memory ports, races included."""

from datetime import timedelta

import pytest

from oie.campaigns.control import ControlRequest
from oie.campaigns.control_service import ControlService
from oie.campaigns.service import StepPayload
from oie.errors import Conflict, NotFound
from tests.unit.campaigns.factories import T0
from tests.unit.campaigns.test_service import start, svc  # noqa: F401  (the service fixture)

CCID = "q1_ld_0000000000000001_email"
LEAD = "ld_0000000000000001"


@pytest.fixture
def control(svc):  # noqa: F811
    return ControlService(svc, known_campaign=lambda tenant, campaign: campaign == "q1")


def act(control, action, scope, **fields):
    return control.apply("acme", ControlRequest(action=action, scope=scope, **fields), "cli:sam")


def payload(task):
    return StepPayload.model_validate(task.payload)


def test_a_campaign_pause_holds_the_due_step_and_resume_sends_it_once(svc, control):  # noqa: F811
    start(svc)
    first = svc.tasks.tasks[-1]
    assert act(control, "pause", "campaign", campaign_id="q1").changed
    assert svc.run_step(payload(first)) == "held" and svc.mailer.sent == []
    assert svc.states.actions[("acme", first.payload["key"])].status == "held"
    assert svc.requeue_overdue(older_than=timedelta(0)) == 0  # a held step is not "lost"
    svc.clock.advance(hours=2)
    resumed = act(control, "resume", "campaign", campaign_id="q1")
    assert resumed.changed and resumed.contacts == 1
    again = svc.tasks.tasks[-1]
    assert again.schedule_at == T0 + timedelta(hours=2) and again.name != first.name
    assert svc.run_step(payload(first)) == "superseded"  # the held task delivered once more
    assert svc.run_step(payload(again)) == "sent"
    assert svc.run_step(payload(again)) == "superseded"
    assert len(svc.mailer.sent) == 1
    triggers = [r["trigger"] for r in svc.warehouse.tables["campaign_transitions"]]
    assert triggers == ["start", "pause", "held", "resume", "resume", "sent"]
    scope_rows = [r for r in svc.warehouse.tables["campaign_transitions"] if r["contact_campaign_id"] == ""]
    assert [r["reason"] for r in scope_rows] == ["campaign pause by cli:sam", "campaign resume by cli:sam"]


def test_pausing_twice_is_a_no_op_answer_and_resume_after_stop_is_refused(svc, control):  # noqa: F811
    start(svc)
    assert act(control, "pause", "tenant").changed
    assert not act(control, "pause", "tenant").changed
    assert act(control, "stop", "tenant", reason="legal hold").changed
    with pytest.raises(Conflict):
        act(control, "resume", "tenant")
    assert svc.run_step(payload(svc.tasks.tasks[-1])) == "stopped" and svc.mailer.sent == []
    assert svc.states.get("acme", CCID).status == "stopped"


def test_a_contact_pause_resume_and_stop(svc, control):  # noqa: F811
    start(svc)
    first = svc.tasks.tasks[-1]
    assert act(control, "pause", "contact", lead_id=LEAD).contacts == 1
    assert svc.run_step(payload(first)) == "held"
    assert act(control, "resume", "contact", lead_id=LEAD, campaign_id="q1").contacts == 1
    assert svc.run_step(payload(svc.tasks.tasks[-1])) == "sent"
    assert act(control, "stop", "contact", lead_id=LEAD).contacts == 1
    with pytest.raises(Conflict):
        act(control, "resume", "contact", lead_id=LEAD)
    assert len(svc.mailer.sent) == 1


def test_a_contact_in_a_paused_campaign_stays_held_after_its_own_resume(svc, control):  # noqa: F811
    start(svc)
    act(control, "pause", "campaign", campaign_id="q1")
    act(control, "pause", "contact", lead_id=LEAD)
    assert svc.run_step(payload(svc.tasks.tasks[-1])) == "held"
    act(control, "resume", "contact", lead_id=LEAD)
    assert svc.states.get("acme", CCID).held and len(svc.tasks.tasks) == 1
    act(control, "resume", "campaign", campaign_id="q1")
    assert svc.run_step(payload(svc.tasks.tasks[-1])) == "sent"


def test_unknown_campaigns_and_leads_are_not_found(svc, control):  # noqa: F811
    start(svc)
    with pytest.raises(NotFound) as campaign:
        act(control, "pause", "campaign", campaign_id="nope")
    with pytest.raises(NotFound) as lead:
        act(control, "pause", "contact", lead_id="ld_nobody000000000")
    assert (campaign.value.field, lead.value.field) == ("campaign_id", "lead_id")
    assert control.lead_for("acme", "ADA@example.com") == LEAD


class PauseWhile:
    """Runs a control change at one moment inside a step: as its send transaction opens, or while sending."""

    def __init__(self, inner, land):
        self.inner, self.land = inner, land

    def open(self, *args):
        self.land()
        return self.inner.open(*args)

    def send(self, email):
        self.land()
        return self.inner.send(email)


@pytest.mark.parametrize("action", ["pause", "stop"])
def test_a_pause_or_stop_landing_before_the_send_transaction_stops_the_send(svc, control, action):  # noqa: F811
    start(svc)
    steps = svc.steps
    svc.steps = PauseWhile(steps, lambda: act(control, action, "campaign", campaign_id="q1"))
    outcome = svc.run_step(payload(svc.tasks.tasks[-1]))
    assert svc.mailer.sent == [] and steps.messages.items == {}
    assert outcome == ("held" if action == "pause" else "stopped")
    state = svc.states.get("acme", CCID)
    assert state.held if action == "pause" else state.status == "stopped"
    assert steps.limiter.used == {}  # the send transaction took from no sending limit


def test_a_pause_landing_after_the_claim_counts_the_send_as_before_it(svc, control):  # noqa: F811
    start(svc)
    svc.mailer = PauseWhile(svc.mailer, lambda: act(control, "pause", "tenant"))
    svc.mailer.sent = svc.mailer.inner.sent
    assert svc.run_step(payload(svc.tasks.tasks[-1])) == "sent" and len(svc.mailer.sent) == 1
    # The next step (the no_open timer) is held by the pause.
    timer = svc.tasks.tasks[-1]
    svc.clock.advance(days=3)
    assert svc.run_step(payload(timer)) == "held"


def test_a_stopped_campaign_cannot_be_started_again(svc, control):  # noqa: F811
    act(control, "stop", "campaign", campaign_id="q1")
    with pytest.raises(Conflict):
        start(svc)
    assert svc.tasks.tasks == []
