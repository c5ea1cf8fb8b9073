import time

import pytest
from google.api_core import exceptions as gexc
from google.api_core.gapic_v1.method import DEFAULT
from google.api_core.retry import Retry

from oie import deadlines
from oie.adapters.firestore_store import FirestoreLinks, _guard, make_client
from oie.adapters.gapic_deadlines import Bounded, UntilDeadline, bound_transport
from oie.devstack.emulator import free_port
from oie.errors import BackendUnavailable


@pytest.mark.parametrize(
    "fault", [gexc.Aborted("Transaction lock timeout."), gexc.ServiceUnavailable("down"), gexc.DeadlineExceeded("slow")]
)
def test_contention_and_outages_become_a_retryable_503(fault):
    def fail():
        raise fault

    with pytest.raises(BackendUnavailable):
        _guard(fail)


def test_other_faults_are_not_retried_as_if_transient():
    def fail():
        raise gexc.PermissionDenied("no")

    with pytest.raises(gexc.PermissionDenied):
        _guard(fail)


def test_a_transaction_that_lost_every_attempt_is_retryable_too():
    def fail():
        raise ValueError("Failed to commit transaction in 5 attempts.")

    with pytest.raises(BackendUnavailable):
        _guard(fail)

    def broken():
        raise ValueError("something else")

    with pytest.raises(ValueError, match="something else"):
        _guard(broken)


def test_every_rpc_of_the_client_is_bounded(monkeypatch):
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = make_client("p", "(default)")
    methods = client._firestore_api._transport._wrapped_methods
    assert methods and all(isinstance(m, Bounded) for m in methods.values())


def test_an_error_in_the_middle_of_a_query_is_judged_by_the_retry_not_lost_to_an_attribute_error(monkeypatch):
    # Query.stream asks the run_query stub's retry whether to resume: a raw gRPC stub has none.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = make_client("p", "(default)")
    query = client.collection("links").limit(5)
    assert query._retry_query_after_exception(gexc.ServiceUnavailable("down"), DEFAULT, None) is True
    assert query._retry_query_after_exception(gexc.PermissionDenied("no"), DEFAULT, None) is False
    transport = client._firestore_api._transport
    bound_transport(transport, "firestore")  # idempotent: still one Bounded per RPC, callable
    assert all(isinstance(m, Bounded) for m in transport._wrapped_methods.values())
    assert query._retry_query_after_exception(gexc.ServiceUnavailable("down"), DEFAULT, None) is True


def test_an_unreachable_firestore_fails_within_the_functions_budget(monkeypatch):
    # Nothing listens there: the client's default retry would keep trying for 60 s.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    links = FirestoreLinks(make_client("p", "(default)"))

    @deadlines.serving("go")
    def read():
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="try again"):
            links.get("abcdefgh")
        return time.monotonic() - started

    assert read() < deadlines.for_function("go").firestore_seconds + 0.3


class Recorder:
    """A GAPIC callable that records what it was called with."""

    _retry = Retry(predicate=lambda exc: True, timeout=300)

    def __call__(self, *args, timeout, retry, **kwargs):
        self.timeout, self.retry = timeout, retry
        return "ok"


def test_the_budget_decides_whatever_timeout_a_call_site_passes():
    recorder = Recorder()
    bounded = Bounded(recorder, "firestore")

    @deadlines.serving("go")
    def call(**kwargs):
        return bounded("request", **kwargs)

    budget = deadlines.for_function("go").firestore_seconds
    assert call(timeout=60) == "ok" and recorder.retry.timeout == budget
    assert isinstance(recorder.timeout, UntilDeadline)
    assert call(timeout=0.2) == "ok" and recorder.retry.timeout == budget
    assert call(retry=None) == "ok" and recorder.retry is None
