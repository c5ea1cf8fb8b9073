"""A node that waits only for events with a window settles when the last window shuts."""

from datetime import timedelta

from oie.campaigns import engine
from oie.campaigns.plan import parse_plan
from tests.unit.campaigns.factories import T0, make_state

DAY = timedelta(days=1)


def plan(intro_transitions):
    return parse_plan(
        {
            "startNodeId": "intro",
            "nodes": [
                {
                    "id": "intro",
                    "type": "send",
                    "template": {"subject": "Hi", "text": "Hello {{first_name|there}}"},
                    "transitions": intro_transitions,
                },
                {"id": "pricing_followup", "type": "send", "template": {"subject": "Pricing", "text": "Questions?"}},
            ],
        }
    )


def sent(p):
    state = engine.start(p, make_state(p, T0), T0).state
    order = engine.on_due(p, state, state.pending.key, T0).send
    return engine.on_sent(p, state, order.key, "m-intro", T0, T0).state


def test_a_node_waiting_only_on_windowed_events_wakes_when_the_last_window_shuts():
    p = plan(
        [
            {"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing_followup"},
            {"on": "click", "within": "P3D", "to": "pricing_followup"},
        ]
    )
    state = sent(p)
    assert state.status == "active"
    assert (state.pending.kind, state.pending.due_at) == ("timer", T0 + 7 * DAY + engine.WINDOW_GRACE)

    due = state.pending.due_at
    decision = engine.on_due(p, state, state.pending.key, due)
    assert decision.state.status == "completed" and decision.state.pending is None
    assert decision.transitions[-1].trigger == "idle"


def test_a_node_with_an_unwindowed_event_waits_for_it_with_nothing_scheduled():
    p = plan(
        [
            {"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing_followup"},
            {"on": "reply", "to": "pricing_followup"},
        ]
    )
    state = sent(p)
    assert state.status == "active" and state.pending is None


def test_a_visit_inside_the_window_still_moves_the_contact_before_the_settling_step():
    p = plan([{"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing_followup"}])
    state = sent(p)
    settle_key = state.pending.key
    at = T0 + 6 * DAY
    from oie.campaigns.signals_engine import Signal

    moved = engine.on_signal(p, state, Signal("sig-visit-9", "page_visit", at, page_class="pricing"), at).state
    assert moved.current_node == "pricing_followup"
    # The settling step, delivered afterwards, is stale.
    assert engine.on_due(p, moved, settle_key, T0 + 7 * DAY + engine.WINDOW_GRACE).outcome == "superseded"
