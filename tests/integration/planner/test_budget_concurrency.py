"""The sharded daily token budget and the per-slot leases under many threads, on the Firestore emulator."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pytest

from oie.errors import BackendUnavailable
from oie.planner.budget import SHARDS
from oie.planner.firestore import FirestoreSlots, FirestoreTokenBudget

pytestmark = pytest.mark.firestore
T = TypeVar("T")
DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ESTIMATE = 3_000
THREADS = 16


def _retrying(call: Callable[[], T]) -> T:
    """As Cloud Tasks would: a call that lost to contention (503) is made again."""
    while True:
        try:
            return call()
        except BackendUnavailable:
            continue


def _reserve_until_refused(budget: FirestoreTokenBudget, limit: int, settle_used: int | None = None) -> int:
    granted = 0
    while _retrying(lambda: budget.reserve("acme", DAY, ESTIMATE, limit)):
        granted += 1
        if settle_used is not None:
            _retrying(lambda: budget.settle("acme", DAY, ESTIMATE, settle_used))
    return granted


def _shards_written(app) -> int:
    docs = app.firestore.collection("tenants", "acme", "planner_usage").stream()
    return sum(1 for d in docs if (d.to_dict() or {}).get("tokens_reserved", 0) > 0)


def test_many_threads_reserve_exactly_what_the_days_budget_holds_and_never_more(app):
    budget, limit = FirestoreTokenBudget(app.firestore), 100_000
    with ThreadPoolExecutor(THREADS) as pool:
        granted = sum(pool.map(lambda _: _reserve_until_refused(budget, limit), range(THREADS)))
    # Never past the budget (the bound promised is one estimate over), and refused only when
    # less than one estimate was left.
    assert granted == limit // ESTIMATE
    usage = budget.usage("acme", DAY)
    assert usage["tokens_reserved"] == granted * ESTIMATE <= limit
    assert _shards_written(app) > 1  # the reservations went to several documents


def test_threads_that_settle_as_they_go_keep_used_plus_reserved_within_the_budget(app):
    budget, limit = FirestoreTokenBudget(app.firestore), 60_000
    with ThreadPoolExecutor(THREADS) as pool:
        granted = sum(pool.map(lambda _: _reserve_until_refused(budget, limit, settle_used=2_000), range(THREADS)))
    usage = budget.usage("acme", DAY)
    assert (usage["tokens_used"], usage["tokens_reserved"], usage["calls"]) == (granted * 2_000, 0, granted)
    assert granted * 2_000 <= limit
    # A final reservation is refused only when what is left is less than one estimate.
    assert not budget.reserve("acme", DAY, ESTIMATE, limit)
    assert limit - usage["tokens_used"] < ESTIMATE


def test_a_budget_raised_mid_day_lets_planning_go_on_and_a_lowered_one_stops_it(app):
    budget = FirestoreTokenBudget(app.firestore)
    assert _reserve_until_refused(budget, 10_000) == 3
    assert budget.reserve("acme", DAY, ESTIMATE, 20_000)
    assert not budget.reserve("acme", DAY, 1, 5_000)
    assert budget.usage("acme", DAY)["tokens_reserved"] == 4 * ESTIMATE


def test_a_day_has_its_own_counters_and_a_tenant_its_own(app):
    budget = FirestoreTokenBudget(app.firestore)
    assert _reserve_until_refused(budget, 2 * ESTIMATE) == 2
    assert budget.reserve("acme", DAY + timedelta(days=1), ESTIMATE, 2 * ESTIMATE)
    assert budget.reserve("globex", DAY, ESTIMATE, 2 * ESTIMATE)
    assert budget.usage("acme", DAY)["tokens_reserved"] == 2 * ESTIMATE
    assert budget.usage("globex", DAY + timedelta(days=1)) == {}
    assert len(list(app.firestore.collection("tenants", "acme", "planner_usage").stream())) == 2 * SHARDS


def test_concurrent_workers_take_every_slot_once_and_no_more(app):
    slots, results = FirestoreSlots(app.firestore), []
    lock = threading.Lock()

    def take(n: int) -> None:
        got = _retrying(lambda: slots.acquire("acme", 4, f"worker-{n}", NOW, timedelta(minutes=2)))
        with lock:
            results.append((got, f"worker-{n}"))

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(take, range(12)))
    taken = sorted(slot for slot, _ in results if slot is not None)
    assert taken == ["slot-0", "slot-1", "slot-2", "slot-3"]
    holders = {
        d.id: d.to_dict()["holder"] for d in app.firestore.collection("tenants", "acme", "planner_slots").stream()
    }
    assert holders == {slot: holder for slot, holder in results if slot is not None}


def test_a_released_slot_is_free_again_and_a_stale_release_frees_nothing(app):
    slots, lease = FirestoreSlots(app.firestore), timedelta(minutes=2)
    first = slots.acquire("acme", 2, "a", NOW, lease)
    second = slots.acquire("acme", 2, "b", NOW, lease)
    assert {first, second} == {"slot-0", "slot-1"}
    assert slots.acquire("acme", 2, "c", NOW, lease) is None
    assert first is not None and second is not None
    slots.release("acme", first, "c")  # not c's lease
    assert slots.acquire("acme", 2, "c", NOW, lease) is None
    slots.release("acme", first, "a")
    assert slots.acquire("acme", 2, "c", NOW, lease) == first
    assert slots.acquire("globex", 2, "d", NOW, lease) is not None  # another tenant's slots are its own
