"""CrmSync on hand-written fakes: what is written, when a contact is created, notes once, errors kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oie.crm.models import CrmConfig
from oie.crm.ports import CrmAuthFailed, CrmRateLimited, CrmUnavailable
from oie.crm.sync import CrmSync
from oie.errors import NotFound
from oie.jobs.context import Window
from tests.fakes import FakeClock, FakeSecrets
from tests.unit.crm.fakes import NOW, CrmWarehouse, FakeCrm, FakeCrmStore, change, profile

WINDOW = Window(since=NOW - timedelta(minutes=15), until=NOW, now=NOW)


def setup(allow_create: bool = False, known: dict[str, str] | None = None, leads: int = 1, batch_size: int = 100):
    crm = FakeCrm(batch_size=batch_size, known=known if known is not None else {"ada@example.com": "c1"})
    store = FakeCrmStore(
        {"acme": CrmConfig(provider="hubspot", secret_ref="local:dG9rZW4=", allow_create=allow_create)}
    )
    warehouse = CrmWarehouse()
    for n in range(leads):
        lead = "ada" if n == 0 else f"lead{n}"
        email = "ada@example.com" if n == 0 else f"lead{n}@example.com"
        store.people.setdefault("acme", {})[lead] = {"email": email, "first_name": "", "last_name": "", "company": ""}
        warehouse.profiles[("acme", lead)] = profile(lead)
        warehouse.changes.append(change("acme", lead))
    warehouse.pages["ada"] = ["/pricing", "/case-studies"]
    warehouse.tracking["ada"] = "Abc12345"
    waits: list[float] = []
    sync = CrmSync(warehouse, store, FakeSecrets(), lambda config, token: crm, FakeClock(), 60.0, sleep=waits.append)
    return sync, crm, store, warehouse, waits


def test_a_known_contact_gets_the_engines_fields_and_its_lead_the_sync_state():
    sync, crm, store, _, _ = setup()
    result = sync.run(WINDOW)
    assert crm.contacts["c1"]["intent_score"] == 72.0
    assert crm.contacts["c1"]["intent_level"] == "hot"
    assert crm.contacts["c1"]["top_pages"] == "/pricing\n/case-studies"
    assert crm.contacts["c1"]["tracking_id"] == "Abc12345"
    assert "pricing page 3" in crm.contacts["c1"]["intent_reason"]
    state = store.lead_state("acme", "ada")
    assert (state.crm_contact_id, state.synced_to_crm, state.last_synced_at, state.last_error) == ("c1", True, NOW, "")
    assert result.details["synced"] == 1 and result.watermark == WINDOW.until


def test_the_property_group_is_created_on_first_use_only():
    sync, crm, _, _, _ = setup()
    sync.run(WINDOW)
    sync.sync_tenant("acme", ["ada"], [])
    assert [name for name, _ in crm.calls].count("ensure_schema") == 1


def test_an_unknown_contact_is_not_created_unless_the_tenant_allows_it():
    sync, crm, store, _, _ = setup(known={})
    sync.run(WINDOW)
    assert crm.contacts == {}
    assert "creating contacts is off" in store.lead_state("acme", "ada").last_error
    assert not store.lead_state("acme", "ada").synced_to_crm

    sync, crm, store, _, _ = setup(allow_create=True, known={})
    sync.run(WINDOW)
    (cid,) = crm.contacts
    assert crm.contacts[cid]["email"] == "ada@example.com"
    assert store.lead_state("acme", "ada").created_by_engine


def test_a_retried_sync_writes_the_same_values_and_creates_no_second_note():
    sync, crm, _, _, _ = setup()
    sync.run(WINDOW)
    first = dict(crm.contacts["c1"])
    sync.run(WINDOW)
    assert crm.contacts["c1"] == first
    assert len(crm.notes) == 1
    (note,) = crm.notes.values()
    assert note.title == "Intent: now HOT (score 72/100)" and "Evidence: corroborated" in note.body


def test_a_note_claimed_by_a_run_that_crashed_is_found_in_the_crm_instead_of_made_again():
    sync, crm, store, _, _ = setup()
    sync.run(WINDOW)
    ((key, entry),) = store.notes.items()
    # As if the run stopped between creating the note and recording it, and its lease ran out.
    entry.pop("note_id")
    entry.update(state="pending", lease_until=NOW - timedelta(seconds=1))
    sync.run(WINDOW)
    assert len(crm.notes) == 1
    assert ("find_note", 1) in crm.calls
    assert store.notes[key]["note_id"] == next(iter(crm.notes))


def test_a_fall_or_an_id_only_rise_gets_no_note():
    sync, crm, _, warehouse, _ = setup()
    warehouse.changes = [
        change("acme", "ada", to_level="warm", from_level="hot"),
        {**change("acme", "ada", n=2), "current_evidence_level": "id_only"},
    ]
    sync.run(WINDOW)
    assert crm.notes == {}
    assert crm.contacts["c1"]["intent_level"] == "hot"  # the fields follow the profile either way


def test_leads_go_through_the_batch_endpoints_in_batches_of_the_crms_size():
    sync, crm, _, _, _ = setup(allow_create=True, known={}, leads=5, batch_size=2)
    sync.run(WINDOW)
    assert [size for name, size in crm.calls if name == "find_contacts"] == [2, 2, 1]
    assert [size for name, size in crm.calls if name == "create_contacts"] == [2, 2, 1]


def test_a_rate_limit_is_waited_out_within_the_deadline():
    sync, crm, store, _, waits = setup()
    crm.fail = [CrmRateLimited("429", retry_after=2.0), CrmRateLimited("429")]
    sync.run(WINDOW)
    assert waits == [2.0, 2.0]  # Retry-After first, then the doubling back-off (1 s, 2 s …)
    assert store.lead_state("acme", "ada").synced_to_crm


def test_a_crm_that_stays_down_holds_the_watermark_and_records_the_error_per_lead():
    sync, crm, store, _, _ = setup()
    crm.fail = [CrmUnavailable("HubSpot read contacts: 503")] * 5
    result = sync.run(WINDOW)
    assert result.watermark == WINDOW.since  # the next run repeats the window
    state = store.lead_state("acme", "ada")
    assert not state.synced_to_crm and state.last_error == "HubSpot read contacts: 503"
    assert store.run_status("acme")[1] == "HubSpot read contacts: 503"


def test_a_refused_token_does_not_hold_the_watermark_of_every_tenant():
    sync, crm, _, _, _ = setup()
    crm.fail = [CrmAuthFailed("HubSpot create property group: the private app token was refused (401)")]
    result = sync.run(WINDOW)
    assert result.watermark == WINDOW.until
    assert "refused" in result.details["errors"]["acme"]


def test_a_tenant_without_a_crm_is_left_alone():
    sync, crm, store, _, _ = setup()
    store.configs.clear()
    assert sync.run(WINDOW).details["tenants"] == 1
    assert crm.calls == []
    with pytest.raises(NotFound, match="no CRM connected"):
        sync.sync_now("acme")
