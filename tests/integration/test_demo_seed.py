"""The demo seed on the emulator and DuckDB: every console page has real data, and a second
seed adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oie import wiring
from oie.campaigns.models import contact_campaign_id
from oie.console.models import HotLeadsQuery
from oie.devstack.demo import seed_demo
from oie.devstack.demo_campaign import seed_demo_campaign
from oie.devstack.demo_history import CAMPAIGN, seed_history
from oie.devstack.emulator import FirestoreEmulator
from oie.links.ids import campaign_id as to_campaign_id
from oie.outcomes.win_rates import WinRateQuery, win_rates
from oie.webhooks.signer import LocalSigner, trust_for_tenant
from tests.conftest import make_settings
from tests.fakes import RecordingQueue

pytestmark = pytest.mark.firestore
BASE = "http://127.0.0.1:8080"
FUNNEL = ("sent", "delivered", "opened", "clicked", "replied", "site_visits", "became_hot", "appointments", "won")


@pytest.fixture
def seeded(firestore_emulator: FirestoreEmulator, tmp_path: Path) -> Iterator[tuple[wiring.Container, Any]]:
    """The demo as `make run` seeds it, on the real clock (the history is relative to now)."""
    app = wiring.Container(make_settings(tmp_path, default_landing_url=f"{BASE}/demo/"))
    app.warehouse.migrate()
    wiring.use(app)
    app.tasks = RecordingQueue()  # the seed delivers the first sends itself; later steps wait here
    try:
        seed = seed_demo(app, BASE)
        signer = LocalSigner.load_or_create(tmp_path)
        trust_for_tenant(app.tenants, "demo", signer)
        seed_demo_campaign(app, BASE)
        assert seed_history(app, BASE, signer)
        yield app, (seed, signer)
    finally:
        app.close()
        wiring.use(None)


def counts(app: wiring.Container) -> dict[str, int]:
    tables = ("identity_map", "events", "email_clicks", "sessions", "message_events", "lead_outcomes")
    return {t: app.warehouse.sql(f"select count(*) as n from {t}")[0]["n"] for t in tables}  # type: ignore[attr-defined]


def test_every_console_page_has_data_and_a_second_seed_adds_nothing(seeded) -> None:
    app, (_seed, signer) = seeded
    now = app.clock.now()

    hot = app.console_service.hot_leads("demo", HotLeadsQuery())
    assert sum(lead.level in ("hot", "burning") for lead in hot.leads) >= 3, [(x.name, x.level) for x in hot.leads]
    assert any(lead.level == "warm" for lead in hot.leads), [(x.name, x.level, x.score) for x in hot.leads]
    assert all(lead.evidence_level == "verified" for lead in hot.leads if lead.level in ("hot", "burning"))
    top = hot.leads[0]
    assert "pricing" in top.reason

    timeline = app.console_service.timeline("demo", top.lead_id)
    kinds = {item.kind for item in timeline.items}
    assert len(kinds) >= 3, kinds

    rates = win_rates(app.warehouse, "demo", WinRateQuery(by="source"), now)
    assert rates and any(r["won"] for r in rates), rates
    assert [n for n in app.outcome_store.nudges("demo", 20) if not n.get("dismissed_at")]
    assert app.outcomes_service.missing("demo")

    history = to_campaign_id(CAMPAIGN)
    ids = [
        r["lead_id"]
        for r in app.warehouse.sql("select lead_id from identity_map where campaign_id = $c", {"c": history})
    ]  # type: ignore[attr-defined]
    states = app.console_service.campaigns.states("demo", [contact_campaign_id(history, i) for i in ids])
    assert len(states) == 30 and sum(s.paused for s in states) == 1

    funnels = app.warehouse.query(
        "console_campaign_funnels", {"tenant_id": "demo", "since": now.date() - timedelta(days=30), "limit_rows": 10}
    )
    (funnel,) = [f for f in funnels if f["campaign_id"] == to_campaign_id(CAMPAIGN)]
    assert {step: funnel[step] for step in FUNNEL if not funnel[step]} == {}

    before = counts(app)
    assert not seed_history(app, BASE, signer)
    assert counts(app) == before


@pytest.fixture
def gemini() -> Iterator[Any]:
    from oie.devstack import gemini_server

    server = gemini_server.start()
    yield server
    server.stop()


def test_the_demo_campaign_is_planned_per_contact_from_each_leads_seeded_visits(
    firestore_emulator: FirestoreEmulator, tmp_path: Path, gemini: Any
) -> None:
    """As `make run` seeds it: the demo leads' visits, the history's scoring, then one planning task per lead."""
    from werkzeug.test import Client

    from oie.devstack.demo import seed_demo_visits
    from oie.devstack.demo_campaign import plan_demo_campaign, seed_demo_sender
    from oie.devstack.gateway import build_gateway

    app = wiring.Container(
        make_settings(tmp_path, default_landing_url=f"{BASE}/demo/", planner_base_url=gemini.base_url)
    )
    app.warehouse.migrate()
    wiring.use(app)
    app.tasks = RecordingQueue()
    try:
        seed = seed_demo(app, BASE)
        signer = LocalSigner.load_or_create(tmp_path)
        trust_for_tenant(app.tenants, "demo", signer)
        seed_demo_sender(app, BASE)
        assert seed_demo_visits(seed, BASE, app.clock.now()) == 4  # two sessions each for Ada and Grace
        assert seed_history(app, BASE, signer)
        report = plan_demo_campaign(app, BASE)
        assert report.enqueued == len(seed.leads) and plan_demo_campaign(app, BASE).enqueued == 0
        gateway = Client(build_gateway())
        for task in [t for t in app.tasks.tasks if t.queue == "campaign-planning"]:
            answer = gateway.post("/campaign_plan", json=task.payload, headers={"X-CloudTasks-TaskName": task.name})
            assert answer.get_json()["outcome"] == "started"

        rows = app.warehouse.sql(  # type: ignore[attr-defined]
            "select lead_id, outcome, model, prompt_tokens, output_tokens, lead_analysis from plan_generations"
        )
        assert len(rows) == 4 and {r["outcome"] for r in rows} == {"generated"}
        assert all(r["model"] == "gemini-2.5-flash" and r["prompt_tokens"] > 0 and r["output_tokens"] > 0 for r in rows)
        by_email = {i.lead.email: i.lead_id for i in seed.leads}
        states = {s.contact.email: s for s in app.campaign_service.states.in_campaign("demo", seed.campaign_id, 10)}
        plans = {email: app.campaign_service.plans.get("demo", s.plan_version) for email, s in states.items()}
        ada, grace = plans["ada@analytical-engines.example"], plans["grace@cobol.example"]
        assert {n.id for n in ada.nodes} ^ {n.id for n in grace.nodes} == {"case_followup", "call_ask"}
        assert ada.nodes[0].template.subject != grace.nodes[0].template.subject
        prompts = [r["prompt"] for r in gemini.state.requests]
        assert any("Compiler Works" in p and '"pricing_views": 2' in p for p in prompts)  # Grace's seeded visits
        analyses = {r["lead_id"]: r["lead_analysis"] for r in rows}
        assert "pricing twice" in analyses[by_email["grace@cobol.example"]]
    finally:
        app.close()
        wiring.use(None)
