"""Connecting a CRM and erasing a lead from it, on fakes."""

from __future__ import annotations

import pytest

from oie.crm.erasure import CrmErasure
from oie.crm.models import CrmConfig, LeadSyncState, NoteWrite
from oie.crm.ports import CrmAuthFailed, CrmUnavailable
from oie.crm.secret_store import LocalTokens
from oie.crm.service import CrmConnections
from oie.errors import BackendUnavailable, InputError, NotFound
from tests.factories import make_tenant
from tests.fakes import FakeSecrets, FakeTenantStore
from tests.unit.crm.fakes import NOW, FakeCrm, FakeCrmStore

HUBSPOT = CrmConfig(provider="hubspot", allow_create=True)


def connections(crm: FakeCrm, store: FakeCrmStore) -> tuple[CrmConnections, list[bytes]]:
    tokens: list[bytes] = []

    def clients(config: CrmConfig, token: bytes) -> FakeCrm:
        tokens.append(token)
        return crm

    return CrmConnections(FakeTenantStore(make_tenant()), store, LocalTokens(), clients), tokens


def test_connecting_checks_the_token_creates_the_fields_and_keeps_only_a_reference():
    crm, store = FakeCrm(), FakeCrmStore()
    service, tokens = connections(crm, store)
    status = service.connect("acme", HUBSPOT, " pat-na1-secret-token ")
    assert tokens == [b"pat-na1-secret-token"]
    assert crm.schema == list(HUBSPOT.written_fields())
    stored = store.get_config("acme")
    assert stored is not None and stored.secret_ref.startswith("local:") and "pat-na1" not in stored.secret_ref
    assert status.connected and status.schema_ready and status.provider == "hubspot" and status.allow_create


def test_a_refused_token_is_a_400_naming_the_token_and_nothing_is_stored():
    crm, store = FakeCrm(), FakeCrmStore()
    crm.fail = [CrmAuthFailed("HubSpot create property group: the private app token was refused (401)")]
    service, _ = connections(crm, store)
    with pytest.raises(InputError) as caught:
        service.connect("acme", HUBSPOT, "pat-na1-wrong-token")
    assert caught.value.field == "token" and store.get_config("acme") is None


def test_a_crm_that_does_not_answer_is_a_503_and_salesforce_needs_key_and_secret():
    crm, store = FakeCrm(), FakeCrmStore()
    crm.fail = [CrmUnavailable("HubSpot: 503")]
    service, _ = connections(crm, store)
    with pytest.raises(BackendUnavailable):
        service.connect("acme", HUBSPOT, "pat-na1-secret-token")
    with pytest.raises(InputError, match="consumer_key:consumer_secret"):
        service.connect("acme", CrmConfig(provider="salesforce", salesforce_domain="acme.my"), "only-a-key")
    with pytest.raises(NotFound):
        service.connect("nobody", HUBSPOT, "pat-na1-secret-token")


def erasure_setup(state: LeadSyncState) -> tuple[CrmErasure, FakeCrm, FakeCrmStore]:
    crm = FakeCrm(known={"ada@example.com": "c1"})
    crm.notes["note-0"] = None  # type: ignore[assignment]
    store = FakeCrmStore({"acme": CrmConfig(provider="hubspot", secret_ref="local:dG9rZW4=")})
    store.states[("acme", "ada")] = state
    store.notes[("acme", "oie-k")] = {"lead_id": "ada", "note_id": "note-0"}
    return CrmErasure(store, FakeSecrets(), lambda c, t: crm), crm, store


def test_erasure_deletes_the_notes_and_empties_the_engines_fields_of_a_contact_it_did_not_create():
    erasure, crm, store = erasure_setup(LeadSyncState(crm_contact_id="c1", synced_to_crm=True))
    result = erasure.erase("acme", "ada")
    assert result == {"outcome": "removed", "notes_deleted": 1, "contact": "fields_cleared"}
    assert crm.notes == {} and crm.contacts["c1"]["intent_score"] is None and store.notes == {}


def test_erasure_deletes_a_contact_the_engine_created_and_records_why_when_it_cannot():
    erasure, crm, _ = erasure_setup(LeadSyncState(crm_contact_id="c1", created_by_engine=True))
    assert erasure.erase("acme", "ada")["contact"] == "deleted" and "c1" not in crm.contacts

    erasure, crm, _ = erasure_setup(LeadSyncState(crm_contact_id="c1"))
    crm.fail = [CrmAuthFailed("HubSpot delete notes: the private app token was refused (401)")]
    result = erasure.erase("acme", "ada")
    assert result["outcome"] == "failed" and "refused" in result["reason"]


def test_erasure_finds_and_deletes_a_note_whose_create_lost_its_answer():
    erasure, crm, store = erasure_setup(LeadSyncState(crm_contact_id="c1", synced_to_crm=True))
    crm.notes.clear()
    crm.notes["note-7"] = NoteWrite(
        key="oie-lost", lead_id="ada", contact_id="c1", title="Intent: now HOT", body="Ref: oie-lost", at=NOW
    )
    store.notes = {("acme", "oie-lost"): {"lead_id": "ada", "state": "released"}}  # the CRM's answer never came
    result = erasure.erase("acme", "ada")
    assert result["notes_deleted"] == 1 and crm.notes == {} and store.notes == {}
    assert ("find_note", 1) in crm.calls
