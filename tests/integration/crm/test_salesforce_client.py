"""simple-salesforce against the local Salesforce server: client credentials, Tooling fields, SOQL,
sObject Collections in batches, and REQUEST_LIMIT_EXCEEDED."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from oie.crm.backoff import Deadline
from oie.crm.mapping import FIELDS
from oie.crm.models import ContactWrite, NoteWrite, SalesforceCredentials
from oie.crm.ports import CrmAuthFailed, CrmRateLimited
from oie.crm.salesforce import SalesforceCrm

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
API = "/services/data/v59.0/"


def client_for(server, secret: str | None = None) -> SalesforceCrm:
    credentials = SalesforceCredentials(
        consumer_key=server.consumer_key, consumer_secret=secret or server.consumer_secret
    )
    return SalesforceCrm(credentials, "acme.my", base_url=server.base_url)


def test_the_connected_app_logs_in_with_the_client_credentials_flow(salesforce):
    client_for(salesforce).find_contacts(["ada@example.com"])
    token, query = salesforce.requests
    assert token.path == "/services/oauth2/token" and token.body == {"grant_type": "client_credentials"}
    basic = base64.b64encode(f"{salesforce.consumer_key}:{salesforce.consumer_secret}".encode()).decode()
    assert token.headers["Authorization"] == f"Basic {basic}"
    assert query.headers["Authorization"] == f"Bearer {salesforce.token}"
    with pytest.raises(CrmAuthFailed, match="invalid_client"):
        client_for(salesforce, secret="wrong").find_contacts(["ada@example.com"])


def test_missing_custom_fields_are_created_through_the_tooling_api_once(salesforce):
    client = client_for(salesforce)
    client.ensure_schema(FIELDS)
    client.ensure_schema(FIELDS)
    created = salesforce.calls("tooling/sobjects/CustomField")
    assert [c.body["FullName"] for c in created] == [f"Contact.{f.salesforce}" for f in FIELDS]
    score = created[0].body["Metadata"]
    assert (score["type"], score["precision"], score["scale"]) == ("Number", 5, 0)
    assert created[3].body["Metadata"]["type"] == "LongTextArea"
    assert len(salesforce.calls("sobjects/Contact/describe")) == 2


def test_contacts_are_matched_by_email_with_quoted_soql_and_updated_as_a_collection(salesforce):
    salesforce.contacts["003A"] = {"Email": "O'Hara@example.com", "LastName": "O'Hara"}
    client = client_for(salesforce)
    assert client.find_contacts(["o'hara@example.com"]) == {"o'hara@example.com": "003A"}
    (query,) = salesforce.calls(API + "query/")
    assert query.query["q"] == [
        "SELECT Id, Email FROM Contact WHERE Email IN ('o\\'hara@example.com') ORDER BY CreatedDate ASC"
    ]
    salesforce.fields.add("OIE_Intent_Score__c")
    score = [f for f in FIELDS if f.name == "intent_score"]
    write = ContactWrite(lead_id="l", email="o'hara@example.com", values={"intent_score": 72.0})
    assert client.update_contacts([("003A", write)], score) == {}
    (patch,) = salesforce.calls("composite/sobjects")
    assert patch.method == "PATCH"
    assert patch.body == {
        "allOrNone": False,
        "records": [{"attributes": {"type": "Contact"}, "id": "003A", "OIE_Intent_Score__c": 72.0}],
    }
    assert salesforce.contacts["003A"]["OIE_Intent_Score__c"] == 72.0


def test_a_record_the_org_refuses_is_reported_by_contact_id(salesforce):
    salesforce.contacts["003A"] = {"Email": "ada@example.com"}
    score = [f for f in FIELDS if f.name == "intent_score"]  # the field was never created
    errors = client_for(salesforce).update_contacts(
        [("003A", ContactWrite(lead_id="l", email="ada@example.com", values={"intent_score": 1.0}))], score
    )
    assert errors == {"003A": "INVALID_FIELD: OIE_Intent_Score__c"}


def test_a_rise_becomes_a_completed_task_on_the_contact_found_again_by_its_key(salesforce):
    client = client_for(salesforce)
    note = NoteWrite(key="oie-abc123", lead_id="l", contact_id="003A", title="Intent: now HOT", body="why", at=AT)
    ids = client.create_notes([note])
    (post,) = salesforce.calls("composite/sobjects")
    (record,) = post.body["records"]
    assert record == {
        "attributes": {"type": "Task"},
        "WhoId": "003A",
        "Subject": "Intent: now HOT [oie-abc123]",
        "Description": "why",
        "ActivityDate": "2026-03-02",
        "Status": "Completed",
        "Priority": "High",
    }
    assert client.find_note("oie-abc123", "003A") == ids["oie-abc123"]


def test_request_limit_exceeded_is_waited_out(salesforce):
    client = client_for(salesforce)
    client.find_contacts(["ada@example.com"])  # logged in
    salesforce.limit_next(2)
    waits: list[float] = []
    assert Deadline(30, sleep=waits.append).call(lambda: client.find_contacts(["ada@example.com"])) == {}
    assert waits == [1.0, 2.0]
    salesforce.limit_next(1)
    with pytest.raises(CrmRateLimited, match="REQUEST_LIMIT_EXCEEDED"):
        client.find_contacts(["ada@example.com"])


def test_erasure_deletes_tasks_and_empties_fields(salesforce):
    salesforce.contacts["003A"] = {"Email": "ada@example.com", "OIE_Intent_Score__c": 72.0}
    salesforce.notes["00T1"] = {"WhoId": "003A", "Subject": "x"}
    salesforce.fields.add("OIE_Intent_Score__c")
    client = client_for(salesforce)
    client.delete_notes(["00T1", "00T-gone"])
    client.clear_contacts(["003A"], [f for f in FIELDS if f.name == "intent_score"])
    (delete,) = [r for r in salesforce.requests if r.method == "DELETE"]
    assert delete.query == {"ids": ["00T1,00T-gone"], "allOrNone": ["false"]}
    assert salesforce.notes == {} and salesforce.contacts["003A"]["OIE_Intent_Score__c"] is None
