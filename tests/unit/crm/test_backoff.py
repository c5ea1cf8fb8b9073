"""Back-off on rate limits within one total deadline."""

from __future__ import annotations

import pytest

from oie.crm.backoff import Deadline
from oie.crm.ports import CrmRateLimited, CrmUnavailable


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def failing(*errors: Exception):
    queue = list(errors)

    def call() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    return call


def test_rate_limits_are_waited_out_doubling_unless_the_crm_says_how_long():
    clock = Clock()
    deadline = Deadline(60, monotonic=clock.monotonic, sleep=clock.sleep)
    call = failing(CrmRateLimited("429"), CrmRateLimited("429"), CrmRateLimited("429", retry_after=10))
    assert deadline.call(call) == "ok"
    assert (clock.t, deadline.retries) == (1 + 2 + 10, 3)


def test_the_rate_limit_is_raised_once_the_next_wait_would_pass_the_deadline():
    clock = Clock()
    deadline = Deadline(5, monotonic=clock.monotonic, sleep=clock.sleep)
    with pytest.raises(CrmRateLimited):
        deadline.call(failing(*[CrmRateLimited("429")] * 10))
    assert clock.t == 1 + 2  # the next wait (4 s) would end past 5 s


def test_a_crm_that_does_not_answer_gets_two_more_tries():
    clock = Clock()
    deadline = Deadline(600, monotonic=clock.monotonic, sleep=clock.sleep)
    with pytest.raises(CrmUnavailable):
        deadline.call(failing(*[CrmUnavailable("503")] * 3))
    assert deadline.retries == 2
    assert deadline.call(failing(CrmUnavailable("503"))) == "ok"


def test_no_call_starts_once_the_deadline_has_passed():
    clock = Clock()
    deadline = Deadline(5, monotonic=clock.monotonic, sleep=clock.sleep)
    clock.t = 5.0
    calls: list[str] = []
    with pytest.raises(CrmUnavailable, match="deadline passed"):
        deadline.call(lambda: calls.append("sent"))
    assert calls == []


def test_a_create_that_got_no_answer_is_not_sent_again():
    clock = Clock()
    deadline = Deadline(600, monotonic=clock.monotonic, sleep=clock.sleep)
    call = failing(CrmUnavailable("503"), CrmUnavailable("503"))
    with pytest.raises(CrmUnavailable):
        deadline.call(call, retry_unavailable=False)
    assert deadline.retries == 0
    # A rate limit is still waited out: the CRM refused the call, so nothing was created.
    assert deadline.call(failing(CrmRateLimited("429")), retry_unavailable=False) == "ok"
