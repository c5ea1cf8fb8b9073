"""hubspot-api-client against the local HubSpot server: the exact requests, batching and 429s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oie.crm.backoff import Deadline
from oie.crm.hubspot import HubSpotCrm
from oie.crm.mapping import FIELDS
from oie.crm.models import ContactWrite, NoteWrite
from oie.crm.ports import CrmAuthFailed, CrmError, CrmRateLimited

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def write(email: str, **values: float | str | None) -> ContactWrite:
    return ContactWrite(lead_id=email.split("@")[0], email=email, values=values or {"intent_score": 72.0})


def test_the_property_group_and_fields_are_created_once_through_the_batch_endpoints(hubspot):
    client = HubSpotCrm(hubspot.token, host=hubspot.base_url)
    client.ensure_schema(FIELDS)
    client.ensure_schema(FIELDS)
    group, again = hubspot.calls("/properties/contacts/groups")
    assert again.body == group.body  # asked again; HubSpot's 409 "exists" is taken as done
    assert group.body == {"name": "oie_intent", "label": "Outbound Intent Engine", "displayOrder": -1}
    (created,) = hubspot.calls("/properties/contacts/batch/create")
    assert {i["name"]: (i["type"], i["fieldType"], i["groupName"]) for i in created.body["inputs"]} == {
        "oie_intent_score": ("number", "number", "oie_intent"),
        "oie_intent_level": ("string", "text", "oie_intent"),
        "oie_last_visit": ("datetime", "date", "oie_intent"),
        "oie_top_pages": ("string", "textarea", "oie_intent"),
        "oie_intent_reason": ("string", "textarea", "oie_intent"),
        "oie_tracking_id": ("string", "text", "oie_intent"),
    }
    assert len(hubspot.calls("/properties/contacts/batch/read")) == 2
    assert all(r.headers["Authorization"] == f"Bearer {hubspot.token}" for r in hubspot.requests)


def test_contacts_are_found_by_email_and_updated_in_one_batch(hubspot):
    hubspot.contacts.update({"7": {"email": "ada@example.com"}, "8": {"email": "grace@example.com"}})
    client = HubSpotCrm(hubspot.token, host=hubspot.base_url)
    found = client.find_contacts(["ada@example.com", "grace@example.com", "nobody@example.com"])
    assert found == {"ada@example.com": "7", "grace@example.com": "8"}
    (read,) = hubspot.calls("/objects/contacts/batch/read")
    assert read.body["idProperty"] == "email" and read.body["properties"] == ["email"]
    assert read.query == {}
    fields = [f for f in FIELDS if f.name in ("intent_score", "intent_level", "last_visit")]
    client.update_contacts(
        [("7", write("ada@example.com", intent_score=72.0, intent_level="hot", last_visit=AT.isoformat()))], fields
    )
    (update,) = hubspot.calls("/objects/contacts/batch/update")
    assert update.body == {
        "inputs": [
            {
                "id": "7",
                "properties": {
                    "oie_intent_score": "72",
                    "oie_intent_level": "hot",
                    "oie_last_visit": "2026-03-02T09:30:00+00:00",
                },
            }
        ]
    }


def test_a_note_is_associated_to_its_contact_and_found_again_by_its_key(hubspot):
    client = HubSpotCrm(hubspot.token, host=hubspot.base_url)
    note = NoteWrite(
        key="oie-abc123", lead_id="ada", contact_id="7", title="Intent: now HOT", body="Ref: oie-abc123", at=AT
    )
    ids = client.create_notes([note])
    (created,) = hubspot.calls("/objects/notes/batch/create")
    (item,) = created.body["inputs"]
    assert item["properties"] == {"hs_timestamp": AT.isoformat(), "hs_note_body": "Intent: now HOT\nRef: oie-abc123"}
    assert item["associations"] == [
        {"to": {"id": "7"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}
    ]
    assert client.find_note("oie-abc123", "7") == ids["oie-abc123"]
    assert client.find_note("oie-abc123", "8") is None


def test_a_429_is_waited_out_and_the_call_repeated(hubspot):
    hubspot.contacts["7"] = {"email": "ada@example.com"}
    client = HubSpotCrm(hubspot.token, host=hubspot.base_url)
    waits: list[float] = []
    hubspot.limit_next(2)
    assert Deadline(30, sleep=waits.append).call(lambda: client.find_contacts(["ada@example.com"])) == {
        "ada@example.com": "7"
    }
    assert waits == [1.0, 2.0] and len(hubspot.calls("/objects/contacts/batch/read")) == 3
    hubspot.limit_next(1)
    with pytest.raises(CrmRateLimited):
        client.find_contacts(["ada@example.com"])


def test_a_wrong_token_is_refused_as_an_auth_failure(hubspot):
    with pytest.raises(CrmAuthFailed, match="401"):
        HubSpotCrm("pat-wrong", host=hubspot.base_url).find_contacts(["ada@example.com"])


def test_a_batch_over_a_hundred_is_refused_by_hubspot_so_the_client_says_it_takes_a_hundred(hubspot):
    client = HubSpotCrm(hubspot.token, host=hubspot.base_url)
    assert client.batch_size == 100
    with pytest.raises(CrmError, match="400"):
        client.find_contacts([f"p{n}@example.com" for n in range(101)])
