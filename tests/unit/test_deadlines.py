"""Budgets per function, counted from the start of the request that spends them."""

import time

import pytest

from oie import deadlines
from oie.deadlines import BUDGETS, Budget


def test_a_handler_serving_go_gets_gos_budgets():
    @deadlines.serving("go")
    def handler():
        return deadlines.seconds("firestore"), deadlines.seconds("warehouse"), deadlines.current()

    assert handler() == (1.0, 0.5, BUDGETS["go"])


def test_a_call_never_gets_more_than_what_is_left_of_the_request(monkeypatch):
    monkeypatch.setitem(BUDGETS, "go", Budget(0.3, 0.6, 0.6, 0.6, 0.6, 0.6))

    @deadlines.serving("go")
    def handler():
        first = deadlines.seconds("firestore")
        time.sleep(0.25)
        return first, deadlines.seconds("firestore")

    first, later = handler()
    assert first <= 0.3 and later == deadlines.MIN_CALL_SECONDS


def test_outside_a_request_the_deployed_function_decides(monkeypatch):
    monkeypatch.setenv("FUNCTION_TARGET", "track")
    assert deadlines.seconds("warehouse") == BUDGETS["track"].warehouse_seconds
    monkeypatch.setenv("FUNCTION_TARGET", "something_else")
    assert deadlines.current() is BUDGETS["cli"]
    monkeypatch.delenv("FUNCTION_TARGET")
    assert deadlines.current() is BUDGETS["cli"] and BUDGETS["cli"].request_seconds is None


def test_the_budget_ends_with_the_handler_even_when_it_raises():
    @deadlines.serving("go")
    def handler():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler()
    assert deadlines.current() is deadlines.for_function(deadlines.process_function())


def test_every_user_facing_request_fits_its_promise():
    # README: /go redirects within ~2 s, /track answers within ~3 s, whatever fails.
    assert BUDGETS["go"].request_seconds <= 2.0 - deadlines.MIN_CALL_SECONDS
    assert BUDGETS["track"].request_seconds <= 3.0 - deadlines.MIN_CALL_SECONDS
    assert BUDGETS["jobs"].bigquery_seconds == BUDGETS["jobs"].warehouse_seconds
