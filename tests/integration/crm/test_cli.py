"""`oie crm …` against the emulator and the local HubSpot server: connect (the token typed at the
prompt, never echoed), status, sync and a lead's state."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from oie.cli.main import cli
from oie.crm.clients import CrmClientFactory
from oie.links.csv_import import parse_leads
from tests.factories import create_acme, csv_text

pytestmark = pytest.mark.firestore


def test_a_tenant_is_connected_synced_and_its_lead_state_shown_from_the_cli(app, hubspot):
    app.crm_clients = CrmClientFactory(hubspot.base_url)
    create_acme(app.tenants)
    (lead,) = app.importer.run(
        "acme", "Q1", "https://www.acme.com/demo", parse_leads(csv_text("ada@example.com,Ada,,,")), "https://l.acme.com"
    ).imported
    hubspot.contacts["501"] = {"email": "ada@example.com"}
    runner = CliRunner()

    refused = runner.invoke(cli, ["crm", "connect", "acme", "--provider", "hubspot"], input="pat-wrong-token\n")
    assert refused.exit_code == 1 and "token" in refused.output and "pat-wrong-token" not in refused.output

    done = runner.invoke(cli, ["crm", "connect", "acme", "--provider", "hubspot", "--json"], input=f"{hubspot.token}\n")
    assert done.exit_code == 0, done.output
    assert hubspot.token not in done.output.split("\n", 1)[1]  # the prompt line aside, never shown
    status = json.loads(runner.invoke(cli, ["crm", "status", "acme", "--json"]).output)
    assert status["connected"] and status["provider"] == "hubspot" and status["schema_ready"]

    app.warehouse.upsert_rows(
        "lead_profiles",
        [
            {
                "tenant_id": "acme",
                "lead_id": lead.lead_id,
                **dict.fromkeys(("sessions", "pageviews", "scroll_milestones", "pricing_views"), 1),
                **dict.fromkeys(("case_study_views", "product_views", "forms_submitted", "videos_completed"), 0),
                **dict.fromkeys(("active_minutes", "recency_points", "frequency_points", "engagement_points"), 1.0),
                "high_intent_points": 20.0,
                "conversion_points": 0.0,
                "first_seen_at": app.clock.now(),
                "last_activity_at": app.clock.now(),
                "score": 41.0,
                "level": "warm",
                "level_changed_at": app.clock.now(),
                "scored_at": app.clock.now(),
            }
        ],
        key_fields=("tenant_id", "lead_id"),
    )
    synced = runner.invoke(cli, ["crm", "sync", "acme", "--json"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.output)["synced"] == 1
    assert hubspot.contacts["501"]["oie_intent_level"] == "warm"
    state = json.loads(runner.invoke(cli, ["crm", "lead", "acme", lead.lead_id, "--json"]).output)
    assert state["crm_contact_id"] == "501" and state["synced_to_crm"] is True
