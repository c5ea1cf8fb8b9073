import pytest
from google.api_core import exceptions as gexc

from oie.adapters.firestore_store import _guard
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
