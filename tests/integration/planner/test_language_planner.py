"""The language-model planner end to end: the real google-genai SDK (Vertex mode) against the local
Gemini server, Firestore on the emulator, evidence from DuckDB running planner.sql."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie import deadlines, wiring
from oie.devstack.demo_campaign import demo_plan
from oie.errors import BackendUnavailable
from oie.links.models import LeadRecord
from oie.planner.config import PlannerConfig
from oie.planner.firestore import FirestoreGenerationRecords, FirestoreSlots
from oie.planner.gemini import GeminiModel, local_client
from oie.planner.model import GenerationRequest, ModelRefused
from oie.planner.prompt import PROMPT_VERSION
from tests.conftest import make_settings, migrated_copy
from tests.factories import create_acme, event_row, identity_row
from tests.fakes import FakeClock
from tests.unit.planner.lm_factories import TEMPLATE, make_contact

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OFFER = "Acme shows which accounts are ready to buy, from the pages they read."


@pytest.fixture
def planner_app(firestore_emulator, tmp_path, gemini, duckdb_template):
    settings = make_settings(tmp_path, planner_base_url=gemini.base_url)
    migrated_copy(duckdb_template, settings.duckdb_path)
    app = wiring.Container(settings, clock=FakeClock(NOW))
    create_acme(app.tenants)
    app.planner_configs.put("acme", PlannerConfig(offer=OFFER, banned_phrases=("guarantee",)))
    yield app
    app.close()


def control(server, **body: Any) -> None:
    request = urllib.request.Request(f"{server.base_url}/_control", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def requests_seen(server) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.base_url}/_requests", timeout=5) as answer:
        return json.loads(answer.read())["requests"]


def seed_lead(
    app, lead_id: str, first_name: str, company: str, pricing_views: int = 0, level: str = "warm", **more: Any
) -> None:
    """A lead record in Firestore, and its profile, pages and email events in the warehouse."""
    record = LeadRecord(
        email=f"{first_name.lower()}@x.example",
        first_name=first_name,
        company=company,
        attributes={"tier": "A"},
        **more,
    )
    app.leads.upsert_many("acme", [(lead_id, record)])
    visitor = f"v-{lead_id}"
    app.warehouse.insert_rows("lead_profiles", [{
        "tenant_id": "acme", "lead_id": lead_id, "sessions": 2, "pageviews": 4 + pricing_views,
        "active_minutes": 6.0, "scroll_milestones": 3, "pricing_views": pricing_views, "case_study_views": 0,
        "product_views": 2, "forms_submitted": 0, "videos_completed": 0, "first_seen_at": NOW - timedelta(days=5),
        "last_activity_at": NOW - timedelta(days=1), "recency_points": 20.0, "frequency_points": 10.0,
        "engagement_points": 8.0, "high_intent_points": 10.0 * pricing_views, "conversion_points": 0.0,
        "score": 38.0 + 10 * pricing_views, "level": level, "previous_level": None,
        "level_changed_at": NOW - timedelta(days=1), "scored_at": NOW,
    }], id_field="lead_id")  # fmt: skip
    app.warehouse.insert_rows("visitor_leads", [{
        "tenant_id": "acme", "visitor_id": visitor, "lead_id": lead_id, "source": "tracking_id",
        "first_seen_at": NOW - timedelta(days=5),
    }], id_field="visitor_id")  # fmt: skip
    pages = ["/pricing"] * pricing_views + ["/product", "/product", "/"]
    app.warehouse.insert_rows(
        "events",
        [event_row("acme", visitor, NOW - timedelta(days=1, minutes=n), "pageview", p) for n, p in enumerate(pages)],
        id_field="event_id",
    )
    app.warehouse.insert_rows("identity_map", [identity_row("acme", f"t-{lead_id}", lead_id, campaign_id="q1")],
                              id_field="tracking_id")  # fmt: skip
    ccid = f"q1_{lead_id}_email"
    app.warehouse.insert_rows("message_events", [{
        "row_id": f"{lead_id}-{kind}", "dedup_key": f"{lead_id}-{kind}", "tenant_id": "acme", "source": "sendgrid",
        "received_at": NOW - timedelta(days=2), "occurred_at": NOW - timedelta(days=2), "event_type": kind,
        "is_known_type": True, "contact_campaign_id": ccid, "campaign_id": "q1", "is_machine_open": False,
        "is_scanner_click": False, "is_duplicate": False,
    } for kind in ("processed", "delivered", "open")], id_field="row_id")  # fmt: skip


def plan(app, lead_id: str = "ld_pricing", **contact: Any):
    return app.language_planner.plan_contact("acme", "q1", make_contact(lead_id, **contact), TEMPLATE)


@pytest.fixture
def seeded(planner_app):
    seed_lead(planner_app, "ld_pricing", "Ada", "Analytical Engines", pricing_views=2, level="hot")
    seed_lead(planner_app, "ld_quiet", "Grace", "Compiler Works")
    return planner_app


def test_a_valid_plan_comes_through_the_vertex_path_and_is_recorded_everywhere(seeded, gemini):
    planned = plan(seeded)
    assert planned.record.outcome == "generated"
    [request] = requests_seen(gemini)
    assert request["model"] == "gemini-2.5-flash"
    assert request["generation_config"]["responseMimeType"] == "application/json"
    assert "responseJsonSchema" in request["generation_config"]
    assert "@" not in request["prompt"] and "ada@x.example" not in request["prompt"]
    assert '"pricing_views": 2' in request["prompt"]
    # Pages with their class by the default page rules, and email engagement, from planner.sql.
    assert '"page_class": "pricing",\n    "path": "/pricing",\n    "views": 2' in request["prompt"]
    assert '"opened": 1' in request["prompt"] and '"sent": 1' in request["prompt"]
    stored = FirestoreGenerationRecords(seeded.firestore).get("acme", planned.record.input_hash)
    assert stored is not None and stored.plan() == planned.plan
    assert stored.prompt_version == PROMPT_VERSION and stored.prompt_tokens > 0 and stored.cost_usd > 0
    [row] = seeded.warehouse.sql("select * from plan_generations")
    assert (row["outcome"], row["plan_version"]) == ("generated", planned.plan.content_hash())
    lead = seeded.firestore.collection("tenants", "acme", "leads").document("ld_pricing").get().to_dict()
    assert lead["intent_summary"] == planned.analysis and "pricing" in planned.analysis
    assert seeded.leads.get("acme", "ld_pricing") is not None  # the lead still reads as a lead


def test_two_contacts_with_different_evidence_get_different_plans(seeded):
    pricing, quiet = plan(seeded, "ld_pricing"), plan(seeded, "ld_quiet", first_name="Grace")
    assert pricing.plan.content_hash() != quiet.plan.content_hash()
    assert "pricing" in pricing.plan.nodes[0].template.subject
    assert "pricing" not in quiet.plan.nodes[0].template.subject


def test_a_schema_violation_is_repaired_once_with_the_problems(seeded, gemini):
    control(gemini, mode="schema_violation", times=1)
    planned = plan(seeded)
    assert (planned.record.outcome, planned.record.model_calls) == ("repaired", 2)
    first, repair = requests_seen(gemini)
    assert first["mode"] == "schema_violation"
    assert "previous answer was refused" in repair["prompt"] and "plan.nodes" in repair["prompt"]


def test_invalid_json_twice_falls_back_to_the_template_with_the_reason(seeded, gemini):
    control(gemini, mode="invalid_json", times=2)
    planned = plan(seeded)
    assert planned.plan == TEMPLATE
    assert planned.record.outcome == "fallback_invalid" and "not valid JSON" in planned.record.fallback_reason
    assert len(requests_seen(gemini)) == 2


def test_invented_facts_are_refused_by_the_guardrails_and_repaired(seeded, gemini):
    control(gemini, mode="invented_facts", times=1)
    planned = plan(seeded)
    assert planned.record.outcome == "repaired"
    assert "Globex" not in planned.plan.model_dump_json()
    assert "facts not in the input: $120000, 37%" in requests_seen(gemini)[1]["prompt"]


def test_a_429_is_retried_after_its_retry_after_and_then_succeeds(seeded, gemini):
    control(gemini, mode="rate_limit", times=1, retry_after="1")
    started = time.monotonic()
    planned = plan(seeded)
    assert planned.record.outcome == "generated" and time.monotonic() - started >= 1.0
    assert [r["mode"] for r in requests_seen(gemini)] == ["rate_limit", "ok"]


def test_a_timeout_falls_back_to_the_template_within_the_deadline(seeded, gemini, monkeypatch):
    monkeypatch.setitem(deadlines.BUDGETS, "cli", deadlines.Budget(None, 30.0, 30.0, 30.0, 1.5, 10.0))
    # The model holds each request 12 s; the 1.5 s budget must end the wait long before that
    # (the margin is for a loaded machine: the point is not waiting for the model).
    control(gemini, mode="timeout", times=5, timeout_seconds=12)
    started = time.monotonic()
    planned = plan(seeded)
    assert time.monotonic() - started < 8
    assert (planned.plan, planned.record.outcome) == (TEMPLATE, "fallback_error")
    assert "did not answer" in planned.record.fallback_reason or "deadline" in planned.record.fallback_reason


def test_an_exhausted_budget_sends_nothing_to_the_model(seeded, gemini):
    seeded.planner_configs.put("acme", PlannerConfig(offer=OFFER, daily_token_budget=50))
    planned = plan(seeded)
    assert (planned.plan, planned.record.outcome) == (TEMPLATE, "budget_exhausted")
    assert requests_seen(gemini) == []
    assert planned.analysis.startswith("Hot (score 58)")


def test_the_concurrency_cap_refuses_until_a_crashed_workers_lease_expires(seeded, gemini):
    seeded.planner_configs.put("acme", PlannerConfig(offer=OFFER, max_concurrent=1))
    assert FirestoreSlots(seeded.firestore).acquire("acme", 1, "crashed", NOW, timedelta(seconds=120)) == "slot-0"
    with pytest.raises(BackendUnavailable, match="planning slots"):
        plan(seeded)
    assert requests_seen(gemini) == []
    seeded.clock.advance(seconds=121)
    assert plan(seeded).record.outcome == "generated"


def test_the_same_input_hash_reuses_the_plan_with_one_model_call(seeded, gemini):
    first, second = plan(seeded), plan(seeded)
    assert second.record.outcome == "reused" and second.plan == first.plan
    assert len(requests_seen(gemini)) == 1
    costs = seeded.warehouse.query("planner_costs", {"tenant_id": "acme", "from_day": NOW.date(), "to_day": NOW.date()})
    assert [(r["outcome"], r["generations"], r["model_calls"]) for r in costs] == [
        ("generated", 1, 1),
        ("reused", 1, 0),
    ]
    assert costs[0]["tokens"] == first.record.prompt_tokens + first.record.output_tokens and costs[1]["cost_usd"] == 0


def test_a_demo_lead_gets_its_recorded_response(planner_app, gemini):
    seed_lead(planner_app, "ld_ada", "Ada", "Analytical Engines", title="CTO")
    planner_app.tenants.put(planner_app.tenants.get("acme").model_copy(update={"name": "Acme Analytics (demo)"}))
    template = demo_plan("http://127.0.0.1:8080")
    from oie.campaigns.plan import parse_plan

    planned = planner_app.language_planner.plan_contact(
        "acme", "q1", make_contact("ld_ada", company="Analytical Engines"), parse_plan(template)
    )
    assert planned.record.outcome == "generated"
    assert "how the platform works" in planned.plan.nodes[0].template.subject
    assert planned.analysis.startswith("Ada: CTO at Analytical Engines")
    assert [r["mode"] for r in requests_seen(gemini)] == ["ok"]


def test_the_server_refuses_a_schema_with_defs_as_gemini_does(gemini):
    from oie.campaigns.plan import Plan

    model = GeminiModel(local_client(gemini.base_url, "p", "europe-west1"), "gemini-2.5-flash")
    with pytest.raises(ModelRefused, match="400"):
        model.generate(GenerationRequest(prompt="x", response_schema=Plan.model_json_schema()))


def test_the_server_also_serves_the_developer_api_path(gemini):
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="local-dummy", http_options=types.HttpOptions(base_url=gemini.base_url))
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="no planning input here")
    assert json.loads(answer.text)["leadAnalysis"] == "No planning input found."
    assert answer.usage_metadata.prompt_token_count > 0 and answer.response_id


def test_the_server_runs_as_a_command(tmp_path):
    import subprocess
    import sys

    from oie.devstack.emulator import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "oie.devstack.gemini_server", "--port", str(port)],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert f"127.0.0.1:{port}" in process.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_requests", timeout=5) as answer:
            assert json.loads(answer.read()) == {"requests": []}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
