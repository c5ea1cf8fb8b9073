"""Pause, resume and stop in the engine alone, on frozen time: held steps, re-arming, finality."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from oie.campaigns import engine
from oie.campaigns.control import RUN, ControlRequest, Verdict, next_control, verdict
from oie.campaigns.models import Controls, ScopeControl
from oie.errors import Conflict, InputError
from tests.unit.campaigns.factories import T0, make_plan, make_state

PLAN = make_plan()
DAY = timedelta(days=1)
PAUSED = Verdict("paused", "campaign q1 paused")
STOPPED = Verdict("stopped", "tenant stopped")


def started(now=T0):
    return engine.start(PLAN, make_state(PLAN, now), now).state


def sent(now=T0):
    state = started(now)
    return engine.on_sent(PLAN, state, state.pending.key, "m-intro", now, now).state


def test_a_step_due_while_paused_is_held_not_sent_and_keeps_its_key():
    state = started()
    held = engine.on_due(PLAN, state, state.pending.key, T0, PAUSED)
    assert held.send is None and held.outcome == "held" and held.state.held
    assert held.state.pending == state.pending  # neither sent nor lost
    assert held.transitions[0].trigger == "held" and "campaign q1 paused" in held.transitions[0].reason


def test_the_same_step_delivered_again_while_held_changes_nothing():
    state = started()
    held = engine.on_due(PLAN, state, state.pending.key, T0, PAUSED).state
    again = engine.on_due(PLAN, held, held.pending.key, T0 + timedelta(minutes=5), PAUSED)
    assert not again.changed and again.outcome == "held"


def test_resume_re_arms_a_past_due_step_now_under_a_new_key():
    state = started()
    held = engine.on_due(PLAN, state, state.pending.key, T0, PAUSED).state
    resumed = engine.on_rearm(PLAN, held, RUN, "campaign resume by cli", T0 + timedelta(hours=2))
    pending = resumed.state.pending
    assert (pending.kind, pending.node_id, pending.due_at) == ("send", "intro", T0 + timedelta(hours=2))
    assert pending.key != state.pending.key and not resumed.state.held
    assert resumed.transitions[0].trigger == "resume"


def test_resume_keeps_a_future_due_time_and_respects_quiet_hours():
    timer = sent()  # no_open timer due at T0 + 3 days
    held = engine.on_due(PLAN, timer, timer.pending.key, timer.pending.due_at, PAUSED).state
    early = engine.on_rearm(PLAN, held, RUN, "r", T0 + DAY)
    assert early.state.pending.due_at == T0 + 3 * DAY  # its original due time, still ahead
    send = started()
    held_send = engine.on_due(PLAN, send, send.pending.key, T0, PAUSED).state
    night = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles: quiet hours
    assert engine.on_rearm(PLAN, held_send, RUN, "r", night).state.pending.due_at == datetime(
        2026, 3, 3, 15, 30, tzinfo=UTC
    )


def test_a_step_delivered_twice_around_a_resume_orders_one_send():
    state = started()
    old_key = state.pending.key
    held = engine.on_due(PLAN, state, old_key, T0, PAUSED).state
    resumed = engine.on_rearm(PLAN, held, RUN, "r", T0 + DAY).state
    assert engine.on_due(PLAN, resumed, old_key, T0 + DAY).outcome == "superseded"  # the held task again
    order = engine.on_due(PLAN, resumed, resumed.pending.key, T0 + DAY).send
    after = engine.on_sent(PLAN, resumed, order.key, "m-intro", T0 + DAY, T0 + DAY).state
    assert engine.on_due(PLAN, after, order.key, T0 + DAY).send is None  # the new task again


def test_stop_is_final_for_a_due_step_and_a_contact():
    state = started()
    stopped = engine.on_due(PLAN, state, state.pending.key, T0, STOPPED)
    assert stopped.state.status == "stopped" and stopped.state.pending is None and stopped.send is None
    assert engine.on_resume(PLAN, stopped.state, RUN, "r", T0).outcome == "stopped"
    assert engine.on_pause(PLAN, stopped.state, "p", T0).outcome == "stopped"
    contact = engine.on_stop(PLAN, started(), "contact stop by cli", T0)
    assert contact.state.status == "stopped" and contact.transitions[0].trigger == "stop"
    assert not engine.on_stop(PLAN, contact.state, "again", T0).changed


def test_a_contact_paused_by_its_campaign_stays_held_when_only_its_own_pause_is_lifted():
    state = engine.on_pause(PLAN, started(), "contact pause by sam", T0).state
    held = engine.on_due(PLAN, state, state.pending.key, T0, verdict(Controls(), state)).state
    assert held.held
    campaign_paused = Controls(campaign=ScopeControl(state="paused"))
    still = engine.on_resume(PLAN, held, verdict(campaign_paused, held.model_copy(update={"paused": False})), "r", T0)
    assert not still.state.paused and still.state.held and still.state.pending == held.pending
    later = engine.on_rearm(PLAN, still.state, verdict(Controls(), still.state), "campaign resume", T0 + DAY)
    assert not later.state.held and later.state.pending.due_at == T0 + DAY


def test_the_verdict_is_the_widest_scope_and_stop_beats_pause():
    state = started()
    assert verdict(Controls(), state) == RUN
    campaign = Controls(campaign=ScopeControl(state="paused"))
    assert verdict(campaign, state) == Verdict("paused", "campaign q1 paused")
    both = Controls(tenant=ScopeControl(state="paused"), campaign=ScopeControl(state="stopped"))
    assert verdict(both, state).state == "stopped"
    assert verdict(Controls(), state.model_copy(update={"paused": True})) == Verdict("paused", "contact paused")


def test_control_changes_are_idempotent_and_resume_after_stop_is_a_conflict():
    running = ScopeControl()
    paused = next_control(running, "pause", "cli:sam", "holiday", T0)
    assert paused.state == "paused" and paused.changed_by == "cli:sam" and paused.reason == "holiday"
    assert next_control(paused, "pause", "cli:sam", "", T0) is None
    stopped = next_control(paused, "stop", "cli:sam", "", T0)
    assert next_control(stopped, "stop", "cli:sam", "", T0) is None
    with pytest.raises(Conflict):
        next_control(stopped, "resume", "cli:sam", "", T0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "pause", "scope": "campaign"}, "campaign_id"),
        ({"action": "pause", "scope": "contact"}, "lead_id"),
        ({"action": "pause", "scope": "tenant", "campaign_id": "q1"}, "campaign_id"),
        ({"action": "pause", "scope": "campaign", "campaign_id": "q1", "lead_id": "ld_0000000000000001"}, "lead_id"),
    ],
)
def test_a_request_must_name_exactly_its_scopes_target(body, field):
    with pytest.raises(InputError) as error:
        ControlRequest.model_validate(body)
    assert error.value.field == field


@pytest.mark.parametrize("reason", ["\x00", "\ud800", "x" * 501])
def test_a_reason_is_bounded_clean_text(reason):
    with pytest.raises(ValidationError) as error:
        ControlRequest.model_validate({"action": "pause", "scope": "tenant", "reason": reason})
    assert error.value.errors()[0]["loc"] == ("reason",)
