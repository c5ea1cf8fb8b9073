"""Stop rules that need no authoring: each ends the campaign at once, as a transition saying why."""

from datetime import timedelta

import pytest

from oie.campaigns import engine
from oie.campaigns.engine import Happening
from oie.campaigns.signals_engine import Signal
from tests.unit.campaigns.factories import T0, make_intent_plan, make_plan, make_state

PLAN = make_intent_plan()
DAY = timedelta(days=1)


def sent(plan=PLAN, now=T0):
    state = engine.start(plan, make_state(plan, now), now).state
    order = engine.on_due(plan, state, state.pending.key, now).send
    return engine.on_sent(plan, state, order.key, "m-intro", now, now).state


def outcome(name, stage=None, at=T0 + DAY, key=None):
    return Signal(key or f"out-{name}-{at.isoformat()}", "outcome", at, outcome=name, stage=stage)


def assert_ended(decision, status, trigger, reason_part, key):
    state, (record,) = decision.state, decision.transitions[-1:]
    assert (state.status, state.pending, state.ended_at) == (status, None, decision.state.updated_at)
    assert (record.trigger, record.to_node, record.status_after, record.event_key) == (trigger, None, status, key)
    assert reason_part in record.reason and state.end_reason == record.reason


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        ("appointment_set", "mid_funnel"),
        ("closed_won", "won"),
        ("invalid", "invalid"),
        ("demo_booked", "mid_funnel"),  # a tenant's own outcome type: its stage decides
    ],
)
def test_an_outcome_past_the_top_of_the_funnel_closes_the_campaign_at_once(name, stage):
    before = sent()
    decision = engine.on_signal(PLAN, before, outcome(name, stage, key="out-1"), T0 + DAY)
    assert decision.outcome == "closed"
    assert_ended(decision, "closed", "outcome", f"outcome {name} ({stage})", "out-1")
    assert engine.on_due(PLAN, decision.state, before.pending.key, T0 + 10 * DAY).outcome == "superseded"


def test_a_lost_outcome_closes_a_node_that_does_not_route_it():
    at = T0 + DAY
    state = engine.on_signal(PLAN, sent(), Signal("sig-hot", "intent_level", at, level="hot"), at).state
    assert state.current_node == "hot_followup"
    decision = engine.on_signal(PLAN, state, outcome("closed_lost", "lost", at), at)
    assert_ended(decision, "closed", "outcome", "outcome closed_lost (lost)", f"out-closed_lost-{at.isoformat()}")


def test_without_a_stage_the_default_stage_of_the_outcome_type_is_used():
    decision = engine.on_signal(PLAN, sent(), outcome("appointment_set"), T0 + DAY)
    assert decision.state.status == "closed" and "(mid_funnel)" in decision.state.end_reason


@pytest.mark.parametrize(("name", "stage"), [("contacted", "top_of_funnel"), ("something_new", None)])
def test_an_outcome_at_the_top_of_the_funnel_or_of_unknown_stage_keeps_the_campaign_going(name, stage):
    decision = engine.on_signal(PLAN, sent(), outcome(name, stage), T0 + DAY)
    assert decision.outcome == "recorded" and decision.state.status == "active" and decision.transitions == ()


def test_an_outcome_transition_on_the_current_node_wins_over_the_stop():
    decision = engine.on_signal(PLAN, sent(), outcome("closed_lost", "lost"), T0 + DAY)
    assert decision.outcome == "moved" and decision.state.status == "active"
    assert decision.state.current_node == "nurture" and decision.transitions[0].trigger == "outcome"


def test_an_outcome_from_before_the_node_arriving_late_still_closes_whatever_the_timing():
    # The closed_lost transition counts only from the intro's send; the stop has no timing at all.
    decision = engine.on_signal(PLAN, sent(), outcome("closed_lost", "lost", at=T0 - 30 * DAY), T0 + 20 * DAY)
    assert decision.state.status == "closed"
    waiting = engine.on_signal(PLAN, sent(), outcome("closed_lost", "lost", key="o1"), T0 + DAY).state
    old_win = engine.on_signal(PLAN, waiting, outcome("closed_won", "won", at=T0 - DAY), T0 + 60 * DAY)
    assert old_win.state.status == "closed" and "closed_won" in old_win.state.end_reason


def test_a_paused_contact_holding_its_step_is_closed_too():
    state = engine.on_pause(PLAN, sent(), "vacation", T0).state
    decision = engine.on_signal(PLAN, state, outcome("closed_won", "won"), T0 + DAY)
    assert decision.state.status == "closed" and not decision.state.held and decision.state.pending is None


def test_outcomes_delivered_twice_or_after_the_close_change_nothing_more():
    closed = engine.on_signal(PLAN, sent(), outcome("closed_won", "won", key="o-won"), T0 + DAY).state
    assert engine.on_signal(PLAN, closed, outcome("closed_won", "won", key="o-won"), T0 + DAY).outcome == "duplicate"
    later = engine.on_signal(PLAN, closed, outcome("invalid", "invalid", key="o-inv"), T0 + 2 * DAY)
    assert later.outcome == "recorded" and later.transitions == ()
    assert later.state.end_reason == closed.end_reason and later.state.status == "closed"


def event(kind, key):
    return Happening(key, kind, T0 + DAY, "m-intro")


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("unsubscribe", "unsubscribed", "unsubscribe from message m-intro"),
        ("spam_report", "complained", "spam report from message m-intro"),
        ("bounce", "bounced", "message m-intro bounced"),
    ],
)
def test_unsubscribe_spam_report_and_bounce_end_at_once_recorded_with_their_reason(kind, status, reason):
    decision = engine.on_event(PLAN, sent(), event(kind, f"evt-{kind}"), T0 + DAY)
    assert_ended(decision, status, kind, reason, f"evt-{kind}")
    assert decision.state.end_reason == reason


def test_a_reply_ends_at_once_with_its_reason_when_the_node_does_not_route_it():
    decision = engine.on_event(PLAN, sent(), event("reply", "evt-reply"), T0 + DAY)
    assert_ended(decision, "replied", "reply", "reply to message m-intro", "evt-reply")


def test_unsubscribe_ends_even_where_a_reply_transition_exists():
    plan = make_plan()  # intro routes replies to `done`, never unsubscribes
    decision = engine.on_event(plan, sent(plan), event("unsubscribe", "evt-u"), T0 + DAY)
    assert_ended(decision, "unsubscribed", "unsubscribe", "unsubscribe from message m-intro", "evt-u")
