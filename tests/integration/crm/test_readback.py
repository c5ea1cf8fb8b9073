"""Outcomes read back from deal stages on the Firestore emulator, with the real hubspot-api-client and
simple-salesforce against the local CRM servers, inside the crm_reconcile job."""

from __future__ import annotations

import pytest

from oie.crm.models import CrmConfig
from oie.jobs.runner import run_job
from tests.integration.crm import test_sync_flow as flow
from tests.integration.crm.test_sync_flow import ADA, turn_hot

pytestmark = pytest.mark.firestore
GRACE = "grace@example.com"
crm_app = flow.crm_app  # the sync tests' fixture: acme, two imported leads, clients on the local servers


def outcomes_of(app, lead_id: str) -> list[tuple[str, str, str]]:
    return [(o.outcome_type, o.outcome_stage, o.recorded_by) for o in app.outcome_store.history("acme", lead_id)]


def test_a_hubspot_deal_moved_to_closed_won_becomes_the_leads_closed_won_once(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    config = CrmConfig(provider="hubspot", read_outcomes=True)
    app.crm_connections.connect("acme", config, hubspot.token)
    lead_id = turn_hot(app, ADA)
    run_job("crm_sync", app)
    deal_id = hubspot.add_deal("501", "closedwon", closedate="2026-01-15T12:00:00Z")
    hubspot.add_deal("501", "appointmentscheduled")  # an open deal: no outcome

    report = run_job("crm_reconcile", app)

    assert report["readback"]["recorded"] == 1, report["readback"]
    assert outcomes_of(app, lead_id) == [("closed_won", "won", "hubspot deal stages")]
    (outcome,) = app.outcome_store.history("acme", lead_id)
    assert outcome.occurred_at.isoformat().startswith("2026-01-15T12:00") and deal_id in outcome.notes
    assert app.outcome_store.lead("acme", lead_id)["state"]["is_won"] is True
    (links,) = hubspot.calls("/crm/v4/associations/contacts/deals/batch/read")
    assert links.body == {"inputs": [{"id": "501"}]}
    (deals,) = hubspot.calls("/crm/v3/objects/deals/batch/read")
    assert deals.body["properties"] == ["dealstage", "closedate", "hs_lastmodifieddate"]
    assert sorted(i["id"] for i in deals.body["inputs"]) == sorted(hubspot.deals)
    # The engine reads deals and never writes one.
    assert not [r for r in hubspot.requests if "/deals" in r.path and r.path.endswith(("create", "update"))]

    again = run_job("crm_reconcile", app)
    assert again["readback"]["recorded"] == 0 and len(app.outcome_store.history("acme", lead_id)) == 1
    rows = app.warehouse.sql("select outcome_type from lead_outcomes where lead_id = $lead_id", {"lead_id": lead_id})
    assert [r["outcome_type"] for r in rows] == ["closed_won"]
    status = app.crm_connections.status("acme")
    assert (status.last_readback_recorded, status.last_readback_error) == (0, "")


def test_a_salesforce_opportunity_closed_lost_becomes_the_leads_closed_lost(crm_app, salesforce):
    app = crm_app
    credentials = f"{salesforce.consumer_key}:{salesforce.consumer_secret}"
    config = CrmConfig(provider="salesforce", salesforce_domain="acme.my", allow_create=True, read_outcomes=True)
    app.crm_connections.connect("acme", config, credentials)
    lead_id = turn_hot(app, GRACE)
    run_job("crm_sync", app)
    ((contact_id, _),) = salesforce.contacts.items()
    salesforce.add_opportunity(contact_id, "Closed Lost", close_date="2026-01-20")

    report = run_job("crm_reconcile", app)

    assert report["readback"]["recorded"] == 1, report["readback"]
    assert outcomes_of(app, lead_id) == [("closed_lost", "lost", "salesforce deal stages")]
    (query,) = [r for r in salesforce.calls("/query/") if "OpportunityContactRole" in r.query["q"][0]]
    assert f"WHERE ContactId IN ('{contact_id}')" in query.query["q"][0]


def test_a_lead_closed_won_by_hand_keeps_it_when_its_deal_is_lost(crm_app, hubspot):
    app = crm_app
    hubspot.contacts["501"] = {"email": ADA}
    app.crm_connections.connect("acme", CrmConfig(provider="hubspot", read_outcomes=True), hubspot.token)
    lead_id = turn_hot(app, ADA)
    run_job("crm_sync", app)
    from oie.outcomes.auth import Actor
    from oie.outcomes.models import OutcomeIn

    rep = Actor(key_id="k", label="Sam (SDR)", scopes=frozenset({"outcomes:write"}), role="member")
    app.outcomes_service.record("acme", OutcomeIn(lead_id=lead_id, outcome_type="closed_won"), rep)
    hubspot.add_deal("501", "closedlost")

    report = run_job("crm_reconcile", app)

    assert (report["readback"]["recorded"], report["readback"]["refused"]) == (0, 1)
    assert outcomes_of(app, lead_id) == [("closed_won", "won", "Sam (SDR)")]
