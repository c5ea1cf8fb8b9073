"""The demo as `make run` seeds it, with HubSpot connected first: the leads its history turns hot
get their contact's properties and one note each within the scoring cycle (score -> crm_sync)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oie import wiring
from oie.crm.clients import CrmClientFactory
from oie.crm.models import CrmConfig
from oie.devstack.demo import seed_demo
from oie.devstack.demo_campaign import seed_demo_campaign
from oie.devstack.demo_history import seed_history
from oie.jobs.runner import run_job
from oie.webhooks.signer import LocalSigner, trust_for_tenant
from tests.conftest import make_settings
from tests.fakes import RecordingQueue

pytestmark = pytest.mark.firestore
BASE = "http://127.0.0.1:8080"


def test_a_demo_lead_that_turns_hot_shows_its_score_reason_and_one_note_in_hubspot(
    firestore_emulator, tmp_path: Path, hubspot
):
    app = wiring.Container(make_settings(tmp_path, default_landing_url=f"{BASE}/demo/"))
    app.warehouse.migrate()
    wiring.use(app)
    app.tasks = RecordingQueue()
    app.crm_clients = CrmClientFactory(hubspot.base_url)
    try:
        seed_demo(app, BASE)
        app.crm_connections.connect("demo", CrmConfig(provider="hubspot", allow_create=True), hubspot.token)
        signer = LocalSigner.load_or_create(tmp_path)
        trust_for_tenant(app.tenants, "demo", signer)
        seed_demo_campaign(app, BASE)
        assert seed_history(app, BASE, signer)
        report = run_job("score", app)  # the next scoring cycle: score, then its follow-up crm_sync
        assert report["crm_sync"]["notes"] >= 1, report["crm_sync"]

        hot = app.warehouse.sql(
            "select c.lead_id, c.change_id from lead_level_changes as c "
            "where c.to_level in ('hot', 'burning') and c.evidence_level in ('verified', 'corroborated')"
        )
        assert hot, "the demo history turns no lead hot"
        for row in hot:
            state = app.crm_connections.lead_sync_state("demo", row["lead_id"])
            assert state.synced_to_crm and state.crm_contact_id, state
            contact = hubspot.contacts[state.crm_contact_id]
            assert contact["oie_intent_level"] in ("hot", "burning")
            assert int(contact["oie_intent_score"]) > 0 and contact["oie_intent_reason"]
            assert contact["oie_top_pages"].startswith("/"), contact  # from the demo visits' events
            notes = [n for n in hubspot.notes.values() if n["contact_id"] == state.crm_contact_id]
            assert len(notes) == 1, notes

        notes_before = len(hubspot.notes)
        run_job("crm_reconcile", app)
        assert len(hubspot.notes) == notes_before
    finally:
        app.close()
        wiring.use(None)
