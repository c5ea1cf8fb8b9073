"""How long each function may wait for its backends: the one place deadlines are decided.

Every Firestore, warehouse, Cloud Tasks, Secret Manager and outbound HTTP call asks
`seconds(kind)` when it starts: its function's budget for that kind of call, retries
included, and never more than what is left of the request's own budget. A call that
runs out raises the backend's deadline error, which the adapters turn into
BackendUnavailable (503, or `/go`'s fallbacks).

Which function is running: `serving(name)` around its handler says so (the local
gateway serves every function from one process); otherwise the deployed entry point
(`FUNCTION_TARGET`, set by Cloud Run functions); otherwise `cli` (commands, jobs run by
hand, tests), which has per-call budgets but no request budget.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, ParamSpec, TypeVar

Kind = Literal["firestore", "warehouse", "tasks", "http", "secrets"]
P = ParamSpec("P")
R = TypeVar("R")
# A call always gets at least this long, so a request whose budget is spent still makes
# its last writes (a click) instead of failing them unattempted.
MIN_CALL_SECONDS = 0.1


@dataclass(frozen=True)
class Budget:
    """One function's budgets in seconds: the whole answer, and one call of each kind."""

    request_seconds: float | None
    firestore_seconds: float
    warehouse_seconds: float  # BigQuery (call and job wait) or, locally, DuckDB's file lock
    tasks_seconds: float
    http_seconds: float
    secrets_seconds: float

    @property
    def bigquery_seconds(self) -> float:
        return self.warehouse_seconds

    def of(self, kind: Kind) -> float:
        seconds: float = getattr(self, f"{kind}_seconds")
        return seconds


# go must redirect within ~2 s: a link read (most of the budget: without it the recipient
# lands on a generic page), a click write, and a spool write if the warehouse fails; the
# request budget caps the sum. track answers 503 within ~3 s so the pixel retries.
# personalize must not hold the page (the pixel reveals it after 300 ms anyway). The others
# sit well inside infra's timeouts (infra/functions.tf); campaign_plan's http is the model
# (a generation, its retries and one repair). `cli` is commands, tests and the
# local scheduler: per-call budgets, no request budget.
# fmt: off
BUDGETS: dict[str, Budget] = {
    #                       request  firestore  warehouse  tasks  http  secrets
    "go":            Budget(   1.8,      1.0,       0.5,    0.5,  0.5,   0.5),
    "track":         Budget(   2.8,      1.0,       1.5,    0.5,  0.5,   0.5),
    "personalize":   Budget(   2.0,      0.8,       0.8,    0.5,  0.5,   0.5),
    "outcomes":      Budget(   8.0,      2.0,       3.0,    2.0,  2.0,   2.0),
    "webhooks":      Budget(  30.0,      5.0,      10.0,    5.0,  5.0,   5.0),
    "campaign_step": Budget(  90.0,     10.0,      20.0,   10.0, 20.0,  10.0),
    "campaign_plan": Budget( 240.0,     10.0,      20.0,   10.0, 90.0,  10.0),
    "jobs":          Budget(1700.0,     60.0,     900.0,   30.0, 10.0,  10.0),
    "cli":           Budget(  None,     30.0,      30.0,   30.0, 10.0,  10.0),
}
# fmt: on


@dataclass(frozen=True)
class _Serving:
    function: str
    budget: Budget
    ends_at: float | None


_serving: ContextVar[_Serving | None] = ContextVar("oie_serving", default=None)


def for_function(name: str) -> Budget:
    """The budgets of one function (`cli` for anything that is not one)."""
    return BUDGETS.get(name, BUDGETS["cli"])


def process_function() -> str:
    """The function this process was deployed as, or `cli`."""
    target = os.environ.get("FUNCTION_TARGET", "")
    return target if target in BUDGETS else "cli"


def current() -> Budget:
    """The budgets of the function serving the current request (or of the process)."""
    active = _serving.get()
    return active.budget if active else for_function(process_function())


def seconds(kind: Kind) -> float:
    """How long the call starting now may take, retries included."""
    active = _serving.get()
    if active is None:
        return for_function(process_function()).of(kind)
    allowed = active.budget.of(kind)
    if active.ends_at is not None:
        allowed = min(allowed, max(active.ends_at - time.monotonic(), MIN_CALL_SECONDS))
    return allowed


def serving(function: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a handler: the calls it makes get `function`'s budgets, counted from its start."""
    budget = for_function(function)

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(handler)
        def handle(*args: P.args, **kwargs: P.kwargs) -> R:
            ends_at = time.monotonic() + budget.request_seconds if budget.request_seconds else None
            token = _serving.set(_Serving(function, budget, ends_at))
            try:
                return handler(*args, **kwargs)
            finally:
                _serving.reset(token)

        return handle

    return decorate
