import pytest

from oie.errors import BackendUnavailable, InputError, NotFound
from oie.links import ids
from oie.links.csv_import import parse_leads
from oie.links.service import CampaignImporter
from tests.factories import csv_text, make_link, make_tenant
from tests.fakes import (
    FakeCampaignStore,
    FakeClock,
    FakeLeadStore,
    FakeLinkStore,
    FakeProfileStore,
    FakeSecrets,
    FakeTenantStore,
    FakeWarehouse,
)

SECRET = b"s" * 32


def importer(links=None, warehouse=None):
    return CampaignImporter(
        tenants=FakeTenantStore(make_tenant()),
        campaigns=FakeCampaignStore(),
        links=links or FakeLinkStore(),
        leads=FakeLeadStore(),
        profiles=FakeProfileStore(),
        warehouse=warehouse or FakeWarehouse(),
        secrets=FakeSecrets(SECRET),
        clock=FakeClock(),
    )


def run(imp, *rows, landing="https://www.acme.com/demo"):
    return imp.run("acme", "Q1 Enterprise", landing, parse_leads(csv_text(*rows)), "https://links.acme.com")


def test_every_lead_gets_a_link_and_an_identity_row():
    warehouse = FakeWarehouse()
    imp = importer(warehouse=warehouse)
    result = run(imp, "ada@example.com,Ada,,,", "bob@example.com,Bob,,,")
    assert [i.tracking_url for i in result.imported] == [
        f"https://links.acme.com/go?i={i.tracking_id}" for i in result.imported
    ]
    rows = warehouse.tables["identity_map"]
    assert {r["tracking_id"] for r in rows} == {i.tracking_id for i in result.imported}
    assert all(len(r["email_sha256"]) == 64 for r in rows)


def test_reimporting_the_same_file_gives_the_same_ids_and_no_duplicates():
    links, warehouse = FakeLinkStore(), FakeWarehouse()
    imp = importer(links=links, warehouse=warehouse)
    first = [i.tracking_id for i in run(imp, "ada@example.com,Ada,,,").imported]
    second = [i.tracking_id for i in run(imp, "ada@example.com,Ada,,,").imported]
    assert first == second
    assert len(links.items) == 1 and len(warehouse.tables["identity_map"]) == 1


def test_an_id_held_by_another_person_resolves_to_a_longer_id_never_a_merge():
    wanted = ids.tracking_id_candidates(SECRET, "acme", "q1-enterprise", "ada@example.com")
    squatter = make_link(tracking_id=wanted[0], lead_id="ld_someone_else")
    links = FakeLinkStore(squatter)
    result = run(importer(links=links), "ada@example.com,Ada,,,")
    (lead,) = result.imported
    assert lead.tracking_id == wanted[1] and len(lead.tracking_id) == 9
    assert result.collisions == 1
    assert links.items[wanted[0]].lead_id == "ld_someone_else"


def test_a_landing_page_off_the_tenants_domains_is_refused_naming_the_field():
    with pytest.raises(InputError) as error:
        run(importer(), "ada@example.com,,,,", landing="https://evil.com/")
    assert error.value.field == "landing"


def test_an_unknown_tenant_is_not_found():
    imp = importer()
    with pytest.raises(NotFound):
        imp.run(
            "nobody",
            "Q1",
            "https://www.acme.com/",
            parse_leads(csv_text("a@example.com,,,,")),
            "https://x",
        )


def test_progress_is_reported_per_chunk():
    seen = []
    imp = importer()
    imp.run(
        "acme",
        "Q1",
        "https://www.acme.com/",
        parse_leads(csv_text("a@example.com,,,,", "b@example.com,,,,")),
        "https://x",
        progress=seen.append,
    )
    assert sum(seen) == 2


class RefusingWarehouse(FakeWarehouse):
    def upsert_rows(self, table, rows, *, key_fields):
        raise BackendUnavailable("warehouse: locked")


def test_nothing_is_written_anywhere_when_the_import_is_refused():
    imp = importer()
    with pytest.raises(InputError):
        run(imp, "ada@example.com,Ada,,,", landing="https://evil.com/")
    with pytest.raises(InputError, match="no lead"):
        imp.run("acme", "Q1", "https://www.acme.com/", parse_leads(csv_text("not-an-email,,,,")), "https://x")
    assert imp.links.items == {} and imp.leads.items == {} and imp.campaigns.items == {}


def test_planning_reads_only_and_a_refusing_warehouse_leaves_firestore_untouched():
    imp = importer(warehouse=RefusingWarehouse())
    plan = imp.plan("acme", "Q1", "https://www.acme.com/", parse_leads(csv_text("ada@example.com,Ada,,,")), "https://x")
    assert imp.links.items == {} and imp.leads.items == {}
    with pytest.raises(BackendUnavailable):
        imp.write(plan)
    assert imp.links.items == {} and imp.leads.items == {} and imp.campaigns.items == {}


def test_a_link_taken_between_plan_and_write_is_picked_again():
    links = FakeLinkStore()
    imp = importer(links=links)
    plan = imp.plan("acme", "Q1", "https://www.acme.com/", parse_leads(csv_text("ada@example.com,Ada,,,")), "https://x")
    wanted = next(plan.links()).tracking_id
    links.items[wanted] = make_link(tracking_id=wanted, lead_id="ld_someone_else", campaign_id="q1")
    (lead,) = imp.write(plan).imported
    assert lead.tracking_id != wanted and lead.tracking_id.startswith(wanted)
    assert links.items[wanted].lead_id == "ld_someone_else"


class FlakyLeadStore(FakeLeadStore):
    def __init__(self):
        super().__init__()
        self.fail_next = True

    def upsert_many(self, tenant_id, pairs):
        if self.fail_next:
            self.fail_next = False
            raise BackendUnavailable("firestore: unavailable")
        super().upsert_many(tenant_id, pairs)


def test_an_import_cut_short_by_an_outage_is_completed_by_running_it_again():
    imp = importer()
    imp.leads = FlakyLeadStore()
    with pytest.raises(BackendUnavailable):
        run(imp, "ada@example.com,Ada,,,", "bob@example.com,Bob,,,")
    again = run(imp, "ada@example.com,Ada,,,", "bob@example.com,Bob,,,")
    assert len(imp.leads.items) == 2 and len(imp.links.items) == 2
    assert {i.tracking_id for i in again.imported} == set(imp.links.items)


class CountingLinkStore(FakeLinkStore):
    def __init__(self):
        super().__init__()
        self.creates = 0

    def create_many(self, links):
        self.creates += 1
        return super().create_many(links)


def test_leads_failing_in_one_chunk_stop_the_import_before_the_chunk_after_next(monkeypatch):
    monkeypatch.setattr("oie.links.service.CHUNK", 2)
    imp = importer(links=CountingLinkStore())
    imp.leads = FlakyLeadStore()
    rows = [f"p{n}@example.com,P{n},,," for n in range(10)]
    with pytest.raises(BackendUnavailable):
        run(imp, *rows)
    # Chunk 0's leads are written while chunk 1's links are created; its failure stops the rest.
    assert imp.links.creates == 2 and len(imp.links.items) == 4
    again = run(imp, *rows)
    assert len(imp.leads.items) == len(imp.profiles.items) == 10 and again.count == 10
