"""The engine alone: every transition and timing rule, at frozen times, with no backend."""

from datetime import UTC, datetime, timedelta

from oie.campaigns import engine
from oie.campaigns.engine import Happening
from oie.campaigns.plan import parse_plan
from tests.unit.campaigns.factories import T0, make_plan, make_state, plan_dict

PLAN = make_plan()
DAY = timedelta(days=1)


def started(now=T0, plan=PLAN, **state):
    return engine.start(plan, make_state(plan, now, **state), now).state


def sent(now=T0, plan=PLAN, message="m-intro"):
    state = started(now, plan)
    order = engine.on_due(plan, state, state.pending.key, now).send
    return engine.on_sent(plan, state, order.key, message, now, now).state


def event(kind, at, message="m-intro", key=None):
    return Happening(key or f"evt-{kind}-{at.isoformat()}", kind, at, message)


def test_start_schedules_the_first_send_now_outside_quiet_hours():
    decision = engine.start(PLAN, make_state(PLAN), T0)
    pending = decision.state.pending
    assert (pending.kind, pending.node_id, pending.due_at) == ("send", "intro", T0)
    assert decision.state.version == 1 and decision.transitions[0].trigger == "start"


def test_a_start_in_quiet_hours_waits_for_their_end_in_the_plan_time_zone():
    late = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    assert started(late).pending.due_at == datetime(2026, 3, 3, 15, 30, tzinfo=UTC)  # 07:30 PST


def test_the_contacts_own_time_zone_wins_over_the_plans():
    at = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 23:00 in Paris, 14:00 in Los Angeles
    state = started(at, contact=make_state(PLAN).contact.model_copy(update={"timezone": "Europe/Paris"}))
    assert state.pending.due_at == datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # 07:30 CET


def test_a_due_send_step_orders_one_send_and_changes_nothing_yet():
    state = started()
    decision = engine.on_due(PLAN, state, state.pending.key, T0)
    assert decision.send.node_id == "intro" and not decision.changed


def test_after_a_send_the_earliest_timer_is_scheduled_from_the_send_time():
    state = sent()
    assert (state.pending.kind, state.pending.due_at) == ("timer", T0 + 3 * DAY)
    assert state.node_message_id == "m-intro" and state.sends == 1


def test_no_open_fires_after_its_delay_into_the_wait_then_the_next_send():
    state = sent()
    due = engine.on_due(PLAN, state, state.pending.key, T0 + 3 * DAY)
    assert due.state.current_node == "bump" and due.transitions[0].trigger == "no_open"
    assert due.state.pending.due_at == T0 + 5 * DAY
    waited = engine.on_due(PLAN, due.state, due.state.pending.key, T0 + 5 * DAY)
    assert (waited.state.current_node, waited.state.pending.kind) == ("bump_send", "send")


def test_an_open_before_the_timer_keeps_no_open_from_firing():
    state = sent()
    state = engine.on_event(PLAN, state, event("open", T0 + DAY), T0 + DAY).state
    due = engine.on_due(PLAN, state, state.pending.key, T0 + 3 * DAY)
    assert due.state.current_node == "intro" and due.state.pending is None
    assert due.state.status == "active"  # still waiting for a click or a reply


def test_an_open_after_the_timer_was_due_does_not_cancel_it():
    state = sent()
    state = engine.on_event(PLAN, state, event("open", T0 + 4 * DAY), T0 + 4 * DAY).state
    due = engine.on_due(PLAN, state, state.pending.key, T0 + 4 * DAY)
    assert due.state.current_node == "bump"


def test_a_click_on_the_current_message_moves_and_supersedes_the_timer():
    state = sent()
    old_key = state.pending.key
    moved = engine.on_event(PLAN, state, event("click", T0 + DAY), T0 + DAY)
    assert moved.outcome == "moved" and moved.state.current_node == "followup_hot"
    assert moved.state.pending.kind == "send" and moved.state.pending.key != old_key
    assert moved.transitions[0].reason.startswith("click")
    assert engine.on_due(PLAN, moved.state, old_key, T0 + 3 * DAY).outcome == "superseded"


def test_a_click_on_an_older_message_is_recorded_but_moves_nothing():
    state = sent()
    recorded = engine.on_event(PLAN, state, event("click", T0 + DAY, message="m-other"), T0 + DAY)
    assert recorded.outcome == "recorded" and recorded.state.clicks == 1
    assert recorded.state.current_node == "intro"


def test_a_reply_follows_the_nodes_reply_transition():
    decision = engine.on_event(PLAN, sent(), event("reply", T0 + DAY), T0 + DAY)
    assert decision.state.status == "completed" and decision.state.current_node == "done"


def test_a_reply_without_a_transition_ends_the_campaign_as_replied():
    state = sent()
    state = engine.on_due(PLAN, state, state.pending.key, T0 + 3 * DAY).state  # now waiting in bump
    decision = engine.on_event(PLAN, state, event("reply", T0 + 4 * DAY), T0 + 4 * DAY)
    assert decision.state.status == "replied" and decision.state.pending is None


def test_a_reply_is_only_recorded_when_the_plan_keeps_going_after_replies():
    plan = make_plan(stopOnReply=False)
    state = sent(plan=plan)
    state = engine.on_due(plan, state, state.pending.key, T0 + 3 * DAY).state
    decision = engine.on_event(plan, state, event("reply", T0 + 4 * DAY), T0 + 4 * DAY)
    assert decision.outcome == "recorded" and decision.state.status == "active"


def test_unsubscribe_spam_report_and_bounce_end_the_campaign():
    for kind, status in (("unsubscribe", "unsubscribed"), ("spam_report", "complained"), ("bounce", "bounced")):
        decision = engine.on_event(PLAN, sent(), event(kind, T0 + DAY), T0 + DAY)
        assert (decision.state.status, decision.state.pending) == (status, None)
        assert decision.transitions[-1].to_node is None


def test_a_duplicate_event_changes_nothing():
    state = engine.on_event(PLAN, sent(), event("open", T0 + DAY, key="evt-1"), T0 + DAY).state
    again = engine.on_event(PLAN, state, event("open", T0 + DAY, key="evt-1"), T0 + DAY)
    assert not again.changed and again.outcome == "duplicate" and again.state.opens == 1


def test_a_stale_step_key_is_superseded():
    state = started()
    assert engine.on_due(PLAN, state, "some-old-key", T0).outcome == "superseded"


def test_a_deferred_send_is_the_same_step_later_and_respects_quiet_hours():
    state = started()
    until = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 local
    decision = engine.on_defer(PLAN, state, state.pending.key, until, "limit gmail", T0)
    pending = decision.state.pending
    assert (pending.kind, pending.node_id, pending.attempt) == ("send", "intro", 1)
    assert pending.due_at == datetime(2026, 3, 3, 15, 30, tzinfo=UTC)
    assert decision.transitions[0].trigger == "deferred" and decision.transitions[0].reason == "limit gmail"


def test_a_blocked_send_ends_the_campaign_with_the_reason():
    state = started()
    decision = engine.on_blocked(PLAN, state, state.pending.key, "suppressed", "address suppressed", T0)
    assert decision.state.status == "suppressed" and decision.state.end_reason == "address suppressed"


def test_timeout_ends_at_a_stop_node_and_a_last_step_completes_when_sent():
    state = sent()
    state = engine.on_due(PLAN, state, state.pending.key, T0 + 3 * DAY).state
    state = engine.on_due(PLAN, state, state.pending.key, T0 + 5 * DAY).state
    order = engine.on_due(PLAN, state, state.pending.key, T0 + 5 * DAY).send
    state = engine.on_sent(PLAN, state, order.key, "m-bump", T0 + 5 * DAY, T0 + 5 * DAY).state
    # P4D on the wall clock: 09:00 PST on 7 March is 09:00 PDT on 11 March, an hour earlier in UTC.
    assert state.pending.due_at == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
    done = engine.on_due(PLAN, state, state.pending.key, T0 + 9 * DAY).state
    assert (done.status, done.current_node) == ("completed", "done")

    hot = engine.on_event(PLAN, sent(), event("click", T0 + DAY), T0 + DAY).state
    order = engine.on_due(PLAN, hot, hot.pending.key, T0 + DAY).send
    final = engine.on_sent(PLAN, hot, order.key, "m-hot", T0 + DAY, T0 + DAY).state
    assert final.status == "completed" and final.end_reason == "last step 'followup_hot' sent"


def test_within_limits_how_late_an_event_still_counts():
    data = plan_dict()
    data["nodes"][0]["transitions"][0]["within"] = "P1D"
    plan = parse_plan(data)
    late = engine.on_event(plan, sent(plan=plan), event("click", T0 + 2 * DAY), T0 + 2 * DAY)
    assert late.state.current_node == "intro"
    early = engine.on_event(plan, sent(plan=plan), event("click", T0 + DAY / 2), T0 + DAY / 2)
    assert early.state.current_node == "followup_hot"


def test_a_loop_through_a_send_node_ends_after_the_visit_limit():
    data = plan_dict()
    data["nodes"][0]["transitions"] = [{"on": "no_open", "after": "P1D", "to": "intro"}]
    data["nodes"] = [data["nodes"][0]]
    plan = parse_plan(data)
    state = started(plan=plan)
    now = T0
    for n in range(5):
        order = engine.on_due(plan, state, state.pending.key, now).send
        assert order is not None, n
        state = engine.on_sent(plan, state, order.key, f"m{n}", now, now).state
        now += DAY
        state = engine.on_due(plan, state, state.pending.key, now).state
    assert state.status == "completed" and state.end_reason.startswith("node 'intro' reached 5")
