"""Readback on hand-written fakes: deal stages -> outcomes, once per deal, errors kept, the person's word kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from oie.crm.models import CrmConfig, Deal, LeadSyncState
from oie.crm.ports import CrmRateLimited, CrmUnavailable
from oie.crm.readback import CrmReadback, occurred_at, outcome_id, outcomes_for
from oie.crm.service import CrmConnections
from oie.errors import Conflict, InputError
from oie.jobs.context import Window
from oie.outcomes.auth import Actor
from oie.outcomes.models import Outcome, OutcomeIn
from tests.fakes import FakeClock, FakeSecrets, FakeTenantStore
from tests.unit.crm.fakes import NOW, FakeCrm, FakeCrmStore

WINDOW = Window(since=NOW - timedelta(days=1), until=NOW, now=NOW)
HUBSPOT = CrmConfig(provider="hubspot", secret_ref="local:dG9rZW4=", read_outcomes=True)
SALESFORCE = CrmConfig(
    provider="salesforce", secret_ref="local:dG9rZW4=", salesforce_domain="acme.my", read_outcomes=True
)


class FakeOutcomes:
    """The outcomes service's record and the store's history; `closed` leads refuse the other way."""

    def __init__(self) -> None:
        self.recorded: dict[str, tuple[str, OutcomeIn, Actor]] = {}
        self.closed: dict[str, str] = {}

    def record(self, tenant_id: str, item: OutcomeIn, actor: Actor) -> object:
        if item.lead_id in self.closed and self.closed[item.lead_id] != item.outcome_type:
            raise Conflict("this lead was already closed", field="outcome_type")
        self.recorded[str(item.outcome_id)] = (tenant_id, item, actor)
        return item

    def history(self, tenant_id: str, lead_id: str) -> list[Outcome]:
        return [
            Outcome(
                outcome_id=oid,
                tenant_id=t,
                lead_id=item.lead_id,
                created_at=NOW,
                occurred_at=item.occurred_at or NOW,
                outcome_type=item.outcome_type,
                outcome_stage="won",
                recorded_by=actor.label,
            )
            for oid, (t, item, actor) in self.recorded.items()
            if t == tenant_id and item.lead_id == lead_id
        ]


def deal(deal_id: str, contact_id: str = "c1", stage: str = "closedwon", **times: object) -> Deal:
    return Deal.model_validate({"deal_id": deal_id, "contact_id": contact_id, "stage": stage, **times})


def setup(config: CrmConfig = HUBSPOT, deals: list[Deal] | None = None):
    crm = FakeCrm(batch_size=2)
    crm.deals = list(deals if deals is not None else [deal("d1", closed_at=NOW - timedelta(days=2))])
    store = FakeCrmStore({"acme": config})
    store.states[("acme", "ld_ada0000001")] = LeadSyncState(crm_contact_id="c1", synced_to_crm=True)
    outcomes, waits = FakeOutcomes(), []
    readback = CrmReadback(
        store, FakeSecrets(), lambda c, t: crm, outcomes, outcomes, FakeClock(), 60.0, sleep=waits.append
    )
    return readback, crm, store, outcomes, waits


def test_a_closed_won_hubspot_deal_becomes_a_closed_won_outcome_of_its_lead():
    readback, _, store, outcomes, _ = setup()
    result = readback.run(WINDOW)
    ((tenant, item, actor),) = outcomes.recorded.values()
    assert (tenant, item.lead_id, item.outcome_type) == ("acme", "ld_ada0000001", "closed_won")
    assert item.occurred_at == NOW - timedelta(days=2)  # the deal's close date, not the read's time
    assert actor.label == "hubspot deal stages" and not actor.is_admin  # never overrides a closed lead
    assert result.details["recorded"] == 1 and result.rows_written == 1
    assert store.readback_status("acme")[1:] == (1, "")


def test_a_salesforce_opportunity_maps_by_its_stage_name():
    found = outcomes_for(
        "acme",
        SALESFORCE,
        [deal("o1", stage="Closed Won"), deal("o2", stage="Closed Lost"), deal("o3", stage="Prospecting")],
        {"c1": "ld_ada0000001"},
        NOW,
    )
    assert [i.outcome_type for i in found] == ["closed_won", "closed_lost"]


def test_a_second_read_of_the_same_deal_records_nothing():
    readback, _, _, outcomes, _ = setup()
    readback.run(WINDOW)
    again = readback.run(WINDOW)
    assert len(outcomes.recorded) == 1 and again.details["recorded"] == 0


def test_the_outcome_id_is_the_same_read_after_read_and_differs_per_deal_and_type():
    first = outcome_id("acme", "hubspot", "d1", "ld_ada0000001", "closed_won")
    assert first == outcome_id("acme", "hubspot", "d1", "ld_ada0000001", "closed_won")
    assert first != outcome_id("acme", "hubspot", "d2", "ld_ada0000001", "closed_won")
    assert first != outcome_id("acme", "hubspot", "d1", "ld_ada0000001", "closed_lost")
    assert first != outcome_id("other", "hubspot", "d1", "ld_ada0000001", "closed_won")
    OutcomeIn(lead_id="ld_ada0000001", outcome_type="closed_won", outcome_id=first)  # a valid outcome id


def test_unmapped_stages_and_contacts_of_no_lead_record_nothing():
    readback, _, _, outcomes, _ = setup(deals=[deal("d1", stage="appointmentscheduled"), deal("d2", "c9")])
    readback.run(WINDOW)
    assert outcomes.recorded == {}


def test_a_tenants_own_stage_mapping_replaces_the_defaults():
    config = HUBSPOT.model_copy(update={"deal_stages": {"contractsent": "appointment_set"}})
    found = outcomes_for("acme", config, [deal("d1"), deal("d2", stage="contractsent")], {"c1": "ld_ada0000001"}, NOW)
    assert [(i.outcome_type, i.notes) for i in found] == [("appointment_set", "hubspot deal d2 at stage contractsent")]


def test_a_stage_mapped_to_a_malformed_outcome_type_is_refused_naming_the_stage():
    with pytest.raises(ValidationError, match="contractsent"):
        CrmConfig(provider="hubspot", deal_stages={"contractsent": "Closed Won!"})


def test_the_outcome_happened_at_the_close_date_else_the_last_change_never_in_the_future():
    later, earlier = NOW + timedelta(days=3), NOW - timedelta(hours=5)
    assert occurred_at(deal("d", closed_at=earlier), NOW) == earlier
    assert occurred_at(deal("d", closed_at=later, modified_at=earlier), NOW) == earlier
    assert occurred_at(deal("d", closed_at=later), NOW) == NOW


def test_a_lead_closed_the_other_way_by_hand_keeps_its_outcome_and_the_run_goes_on():
    readback, _, _, outcomes, _ = setup(deals=[deal("d1"), deal("d2", "c2")])
    readback.store.states[("acme", "ld_grace00001")] = LeadSyncState(crm_contact_id="c2", synced_to_crm=True)
    outcomes.closed["ld_ada0000001"] = "closed_lost"
    result = readback.run(WINDOW)
    assert [i.lead_id for _, i, _ in outcomes.recorded.values()] == ["ld_grace00001"]
    assert (result.details["recorded"], result.details["refused"]) == (1, 1)


def test_a_tenant_that_does_not_read_outcomes_is_not_asked_for_its_deals():
    readback, crm, _, outcomes, _ = setup(config=HUBSPOT.model_copy(update={"read_outcomes": False}))
    result = readback.run(WINDOW)
    assert crm.calls == [] and outcomes.recorded == {} and result.details["tenants"] == 0


def test_contacts_are_read_in_batches_of_the_crms_size():
    readback, crm, store, _, _ = setup(deals=[])
    for n in range(2, 6):
        store.states[("acme", f"ld_lead{n:07d}")] = LeadSyncState(crm_contact_id=f"c{n}", synced_to_crm=True)
    readback.run(WINDOW)
    assert crm.calls == [("read_deals", 2), ("read_deals", 2), ("read_deals", 1)]


def test_a_rate_limit_is_waited_out_within_the_deadline():
    readback, crm, _, outcomes, waits = setup()
    crm.fail = [CrmRateLimited("429", retry_after=2.0)]
    readback.run(WINDOW)
    assert waits == [2.0] and len(outcomes.recorded) == 1


def test_a_crm_that_does_not_answer_leaves_its_error_for_the_settings_page():
    readback, crm, store, outcomes, _ = setup()
    crm.fail = [CrmUnavailable("HubSpot read deal associations: 503")] * 3
    result = readback.run(WINDOW)
    assert outcomes.recorded == {}
    assert "503" in store.readback_status("acme")[2] and "503" in result.details["errors"]["acme"]


def test_configuring_readback_keeps_the_connection_and_names_a_bad_stage():
    store = FakeCrmStore({"acme": HUBSPOT.model_copy(update={"read_outcomes": False})})
    tenants = FakeTenantStore()
    connections = CrmConnections(tenants, store, tokens=None, clients=None)  # type: ignore[arg-type]
    status = connections.configure("acme", allow_create=True, read_outcomes=True, deal_stages={"won": "closed_won"})
    assert (status.read_outcomes, status.allow_create, status.deal_stages) == (True, True, {"won": "closed_won"})
    assert store.configs["acme"].secret_ref == HUBSPOT.secret_ref
    with pytest.raises(InputError) as refused:
        connections.configure("acme", allow_create=True, read_outcomes=True, deal_stages={"won": "Won!"})
    assert refused.value.field == "deal_stages"
