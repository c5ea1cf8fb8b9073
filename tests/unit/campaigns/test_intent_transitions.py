"""engine.on_signal: which intent signal moves a plan, when, and that late or repeated ones never do."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from oie.campaigns import engine
from oie.campaigns.contracts import IntentSignal
from oie.campaigns.signals_engine import Signal, glob
from tests.unit.campaigns.factories import T0, make_intent_plan, make_state

PLAN = make_intent_plan()
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def sent(now=T0):
    """The contact after the intro email went out at `now`."""
    state = engine.start(PLAN, make_state(PLAN, now), now).state
    order = engine.on_due(PLAN, state, state.pending.key, now).send
    return engine.on_sent(PLAN, state, order.key, "m-intro", now, now).state


def signal(kind, at, key=None, **fields):
    return Signal(key or f"sig-{kind}-{at.isoformat()}", kind, at, **fields)


def visit(at, page_class=None, url="https://www.acme.com/", key=None):
    return signal("page_visit", at, key, url=url, page_class=page_class)


def test_a_pricing_visit_within_seven_days_moves_to_the_pricing_followup_sent_at_once():
    at = T0 + 2 * DAY
    decision = engine.on_signal(PLAN, sent(), visit(at, "pricing", key="sig-visit-1"), at)
    state = decision.state
    assert decision.outcome == "moved" and state.current_node == "pricing_followup"
    assert (state.pending.kind, state.pending.node_id, state.pending.due_at) == ("send", "pricing_followup", at)
    (record,) = decision.transitions
    assert (record.from_node, record.to_node, record.trigger) == ("intro", "pricing_followup", "page_visit")
    assert record.reason == "page_visit pricing /" and record.event_key == "sig-visit-1"


def test_a_pricing_visit_in_quiet_hours_is_answered_when_they_end():
    at = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles, the day after the intro
    state = engine.on_signal(PLAN, sent(), visit(at, "pricing"), at).state
    assert state.current_node == "pricing_followup"
    assert state.pending.due_at == datetime(2026, 3, 3, 15, 30, tzinfo=UTC)  # 07:30 PST


def test_a_pricing_visit_after_the_window_moves_nothing():
    at = T0 + 7 * DAY + HOUR
    decision = engine.on_signal(PLAN, sent(), visit(at, "pricing"), at)
    assert decision.outcome == "recorded" and decision.state.current_node == "intro"
    assert decision.transitions == ()


def test_a_visit_from_before_the_send_delivered_late_moves_nothing():
    decision = engine.on_signal(PLAN, sent(), visit(T0 - HOUR, "pricing"), T0 + DAY)
    assert decision.outcome == "recorded" and decision.state.current_node == "intro"


def test_a_visit_while_the_send_is_still_pending_does_not_count():
    state = engine.start(PLAN, make_state(PLAN), T0).state
    decision = engine.on_signal(PLAN, state, visit(T0, "pricing"), T0)
    assert decision.outcome == "recorded" and decision.state.pending == state.pending


def test_an_older_visit_arriving_after_a_newer_one_does_not_move_the_contact_again():
    newer, older = T0 + 2 * HOUR, T0 + HOUR
    state = engine.on_signal(PLAN, sent(), visit(newer, url="https://www.acme.com/blog/2026/fintech"), newer).state
    assert state.current_node == "case_followup"
    late = engine.on_signal(PLAN, state, visit(older, "pricing"), newer + HOUR)
    assert late.outcome == "recorded" and late.state.current_node == "case_followup"
    assert late.state.pending.key == state.pending.key  # the follow-up's send is not replaced


def test_a_duplicate_signal_changes_nothing_even_after_it_moved_the_plan():
    at = T0 + DAY
    moved = engine.on_signal(PLAN, sent(), visit(at, "pricing", key="sig-1"), at).state
    again = engine.on_signal(PLAN, moved, visit(at, "pricing", key="sig-1"), at + HOUR)
    assert not again.changed and again.outcome == "duplicate" and again.state == moved


def test_the_url_pattern_is_a_glob_on_the_path():
    at = T0 + DAY
    for url, node in (
        ("https://www.acme.com/blog/2026/fintech?utm_source=x", "case_followup"),
        ("https://www.acme.com/Blog/Q1/FinTech/", "case_followup"),
        ("https://www.acme.com/blog/fintech", "intro"),
        ("https://www.acme.com/blog/2026/fintech-trends", "intro"),
    ):
        assert engine.on_signal(PLAN, sent(), visit(at, url=url), at).state.current_node == node, url


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("/pricing*", "/pricing", True),
        ("/pricing*", "/pricing/enterprise", True),
        ("/pricing*", "/about/pricing", False),
        ("/blog/*/fintech", "/blog/a/b/fintech", True),
        ("/*case*", "/customers/case-studies", True),
        ("/a*a*a*a*a*a*a*a*b", "/" + "a" * 2000, False),
        ("/docs", "/docs/", True),
        ("/", "", True),
    ],
)
def test_glob_matching(pattern, path, matched):
    assert glob(pattern, path) is matched


def test_a_pathological_pattern_is_matched_in_bounded_time():
    # A backtracking regex made from these would take polynomially long in the path; this is pattern x path.
    started = time.perf_counter()
    for pattern in ("/" + "*a" * 99 + "b", "/*" + "a" * 197 + "b"):
        assert not glob(pattern, "/" + "a" * 2040)
    assert time.perf_counter() - started < 1.0


def test_the_first_matching_transition_wins_when_two_match():
    at = T0 + DAY
    both = visit(at, "pricing", url="https://www.acme.com/blog/x/fintech")
    assert engine.on_signal(PLAN, sent(), both, at).state.current_node == "pricing_followup"


def test_a_page_of_another_class_moves_nothing():
    at = T0 + DAY
    decision = engine.on_signal(PLAN, sent(), visit(at, "case_study"), at)
    assert decision.outcome == "recorded" and decision.state.current_node == "intro"


@pytest.mark.parametrize(("level", "node"), [("warm", "intro"), ("hot", "hot_followup"), ("burning", "hot_followup")])
def test_intent_level_matches_when_the_lead_reaches_at_least_the_level(level, node):
    at = T0 + DAY
    assert engine.on_signal(PLAN, sent(), signal("intent_level", at, level=level), at).state.current_node == node


def test_return_visits_and_forms_count_on_a_wait_node_from_its_entry():
    entered = T0 + DAY
    lost = signal("outcome", entered, outcome="closed_lost", stage="lost")
    waiting = engine.on_signal(PLAN, sent(), lost, entered).state
    assert waiting.current_node == "nurture" and waiting.pending.kind == "wait"
    before = engine.on_signal(PLAN, waiting, signal("return_visit", entered - HOUR), entered + HOUR)
    assert before.outcome == "recorded" and before.state.current_node == "nurture"
    form = engine.on_signal(PLAN, waiting, signal("form_submit", entered + 40 * DAY), entered + 40 * DAY)
    assert form.state.current_node == "hot_followup"  # form_submit has no `within`
    late = engine.on_signal(PLAN, waiting, signal("return_visit", entered + 31 * DAY), entered + 31 * DAY)
    assert late.state.current_node == "nurture"


def test_a_signal_for_an_ended_campaign_is_recorded_and_moves_nothing():
    state = engine.on_stop(PLAN, sent(), "sales asked", T0).state
    decision = engine.on_signal(PLAN, state, visit(T0 + DAY, "pricing", key="sig-after-stop"), T0 + DAY)
    assert decision.outcome == "recorded" and decision.state.status == "stopped"
    assert decision.transitions == () and "sig-after-stop" in decision.state.recent_events
    assert engine.on_signal(PLAN, decision.state, visit(T0 + DAY, "pricing", key="sig-after-stop"), T0).outcome == (
        "duplicate"
    )


def test_the_contract_signal_is_accepted_as_it_arrives():
    at = T0 + DAY
    arrived = IntentSignal(
        signal_key="evt-0000000001",
        tenant_id="acme",
        type="page_visit",
        occurred_at=at,
        lead_id="ld_0000000000000001",
        url="https://www.acme.com/pricing",
        page_class="pricing",
    )
    assert Signal.of(arrived) == Signal("evt-0000000001", "page_visit", at, arrived.url, "pricing")
    assert engine.on_signal(PLAN, sent(), arrived, at).state.current_node == "pricing_followup"
