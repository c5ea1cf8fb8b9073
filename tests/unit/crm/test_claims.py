"""Note claims: which run creates a note, decided from its claim document alone."""

from __future__ import annotations

from datetime import timedelta

from oie.crm import claims
from tests.unit.crm.fakes import NOW


def pending(lease: timedelta) -> dict[str, object]:
    return claims.claimed("ada", "run-a", NOW - timedelta(minutes=1), NOW + lease, attempts=1)


def test_a_key_nobody_claimed_is_new():
    assert claims.decide(None, NOW) == "new"


def test_a_created_note_is_done_whoever_made_it():
    assert claims.decide({"state": "created", "note_id": "901"}, NOW) == "done"


def test_a_claim_within_its_lease_is_held_by_its_run():
    assert claims.decide(pending(timedelta(seconds=1)), NOW) == "held"


def test_a_claim_past_its_lease_is_taken_over():
    # Its run stopped (a crash, a timeout): the next one searches the CRM, then creates.
    assert claims.decide(pending(timedelta(0)), NOW) == "retry"


def test_a_released_claim_is_taken_over():
    assert claims.decide({**pending(timedelta(minutes=5)), "state": "released"}, NOW) == "retry"


def test_a_pending_claim_without_a_lease_is_taken_over():
    # Claims written before leases existed: nobody can be still holding them.
    assert claims.decide({"lead_id": "ada", "state": "pending"}, NOW) == "retry"


def test_the_lease_outlasts_every_call_the_runs_deadline_lets_it_start():
    until = claims.lease_until(NOW, deadline_left=240.0, call_seconds=20.0)
    assert until == NOW + timedelta(seconds=240 + 20 + claims.LEASE_MARGIN_SECONDS)
    assert claims.lease_until(NOW, deadline_left=-3.0, call_seconds=20.0) == NOW + timedelta(seconds=50)
