"""The notes step on fakes: a note another run holds is left to it, a failed create is left to the next run."""

from __future__ import annotations

from datetime import timedelta

from oie.crm import claims, mapping
from oie.crm.ports import CrmRateLimited, CrmUnavailable
from tests.unit.crm.fakes import NOW
from tests.unit.crm.test_sync import WINDOW, setup

KEY = ("acme", mapping.note_key("acme", "acme:ada:hot:1"))


def test_a_note_another_run_holds_is_left_to_it_and_the_window_comes_round_again():
    sync, crm, store, _, _ = setup()
    store.notes[KEY] = claims.claimed("ada", "run-b", NOW, NOW + timedelta(minutes=5), attempts=1)
    result = sync.run(WINDOW)
    assert crm.notes == {} and "create_notes" not in dict(crm.calls)
    assert result.details["notes_held"] == 1 and result.details["notes"] == 0
    assert result.watermark == WINDOW.since  # if run-b fails, this window's next run adds it
    assert store.lead_state("acme", "ada").synced_to_crm  # the fields were written all the same

    store.notes[KEY]["state"] = "released"  # run-b's call failed
    result = sync.run(WINDOW)
    assert result.details["notes"] == 1 and len(crm.notes) == 1
    assert result.watermark == WINDOW.until


def test_a_create_that_failed_is_released_and_made_once_by_the_next_run():
    sync, crm, store, _, _ = setup()
    crm.fail_on["create_notes"] = [CrmUnavailable("HubSpot create notes: 503")]
    result = sync.run(WINDOW)
    assert crm.notes == {} and result.watermark == WINDOW.since
    assert [name for name, _ in crm.calls].count("create_notes") == 1  # not sent again blindly
    assert store.notes[KEY]["state"] == "released"

    result = sync.run(WINDOW)
    assert result.details["notes"] == 1 and len(crm.notes) == 1
    assert ("find_note", 1) in crm.calls  # searched first: the failed call might have gone through
    assert store.notes[KEY]["note_id"] == next(iter(crm.notes))


def test_a_create_whose_answer_was_lost_is_found_by_the_next_run_not_made_twice():
    sync, crm, store, _, _ = setup()
    crm.lost_answers["create_notes"] = 1
    sync.run(WINDOW)
    assert len(crm.notes) == 1 and store.notes[KEY]["state"] == "released"

    result = sync.run(WINDOW)
    assert len(crm.notes) == 1 and result.details["notes"] == 0
    assert (store.notes[KEY]["state"], store.notes[KEY]["note_id"]) == ("created", next(iter(crm.notes)))
    assert result.watermark == WINDOW.until


def test_a_rate_limited_create_is_waited_out_and_makes_one_note():
    sync, crm, store, _, waits = setup()
    crm.fail_on["create_notes"] = [CrmRateLimited("429")]
    result = sync.run(WINDOW)
    assert waits == [1.0] and len(crm.notes) == 1 and result.details["notes"] == 1
    assert store.notes[KEY]["state"] == "created"
