"""The admin pages in real Chromium: log in, record, be warned, be blocked, bulk-apply, export.

Screenshots of each page are saved under test-artifacts/admin/.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from oie.jobs.runner import run_job
from oie.outcomes.auth import Actor, create_key
from oie.outcomes.models import OutcomeIn

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "admin"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def admin(live, browser: Browser):
    base, app, seed = live
    key = create_key(app.api_keys, "demo", ["admin"], "Rita RevOps", datetime.now(UTC))
    attributes = {
        "Ada": {"tier": "A", "timeline_bucket": "0-30", "source_key": "linkedin", "geo_key": "london"},
        "Grace": {"tier": "A", "timeline_bucket": "31-90", "source_key": "google", "geo_key": "boston"},
        "Alan": {"tier": "B", "timeline_bucket": "0-30", "source_key": "linkedin", "geo_key": "london"},
        "Katherine": {"tier": "C", "timeline_bucket": "91-180", "source_key": "google", "geo_key": "houston"},
    }
    stale = (datetime.now(UTC) - timedelta(days=12)).isoformat()
    leads = {i.lead.first_name: i.lead_id for i in seed.leads}
    for name, attrs in attributes.items():
        app.outcome_store.set_attributes("demo", leads[name], {**attrs, "last_activity_at": stale})
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    yield base, app, leads, key, page
    context.close()


def login(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/outcomes/t/demo/admin/")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def test_a_revops_person_records_outcomes_and_is_stopped_by_an_impossible_sequence(admin) -> None:
    base, _app, leads, key, page = admin
    page.goto(f"{base}/outcomes/t/demo/admin/login")
    page.fill("input[name=key]", key + "x")
    page.click("button[type=submit]")
    assert "not an admin key" in page.inner_text("[role=alert]")
    login(page, base, key)
    shot(page, "1-dashboard")

    page.goto(f"{base}/outcomes/t/demo/admin/leads/{leads['Ada']}")
    page.select_option("select[name=outcome_type]", "appointment_set")
    page.click("#record button[type=submit]")
    assert "sequence_warning" in page.inner_text("[role=alert]")
    assert page.inner_text("#stage") == "mid_funnel"
    shot(page, "2-lead-warning")

    page.select_option("select[name=outcome_type]", "closed_lost")
    page.click("#record button[type=submit]")
    assert page.input_value("select[name=outcome_type]") == "contacted"  # recorded: the form starts afresh
    page.select_option("select[name=outcome_type]", "closed_won")
    page.fill("input[name=occurred_at]", "")
    page.fill("textarea[name=notes]", "They signed after all: see the CRM.")
    page.click("#record button[type=submit]")
    assert "already closed as lost" in page.inner_text("#error")
    assert page.inner_text("#stage") == "lost"
    # A refusal keeps everything typed: the type, the notes; only the override is new.
    assert page.input_value("select[name=outcome_type]") == "closed_won"
    assert page.input_value("textarea[name=notes]") == "They signed after all: see the CRM."
    shot(page, "3-lead-blocked")
    page.check("input[name=override]")
    page.click("#record button[type=submit]")
    assert "override" in page.inner_text("[role=alert]") and page.inner_text("#stage") == "won"
    assert [c.inner_text() for c in page.query_selector_all("#timeline tr td:nth-child(2)")] == [
        "appointment_set",
        "closed_lost",
        "closed_won",
    ]
    assert "They signed after all" in page.inner_text("#timeline")


def test_a_bad_time_keeps_what_was_typed_and_the_page_explains(admin) -> None:
    base, _app, leads, key, page = admin
    login(page, base, key)
    page.goto(f"{base}/outcomes/t/demo/admin/leads/{leads['Grace']}")
    page.select_option("select[name=outcome_type]", "appointment_set")
    page.fill("input[name=occurred_at]", "last tuesday")
    page.fill("textarea[name=notes]", "Call went well")
    page.click("#record button[type=submit]")
    assert "occurred_at" in page.inner_text("#error")
    assert page.input_value("select[name=outcome_type]") == "appointment_set"
    assert page.input_value("input[name=occurred_at]") == "last tuesday"
    assert page.input_value("textarea[name=notes]") == "Call went well"


def test_a_lead_opens_from_the_search_box_by_email_or_company(admin) -> None:
    base, app, leads, key, page = admin
    login(page, base, key)
    email = app.outcome_store.lead("demo", leads["Grace"])["email"]
    page.fill("#search input[name=q]", email.upper())
    page.click("#search button")
    page.wait_for_url(f"**/leads/{leads['Grace']}")
    assert "Grace" in page.inner_text("h1")
    page.goto(f"{base}/outcomes/t/demo/admin/")
    page.fill("#search input[name=q]", "@")
    page.click("#search button")
    page.wait_for_selector("#found")  # the results page, not the page the click left
    assert len(page.query_selector_all("#found tr")) == 1 + len(leads)
    shot(page, "7-search")


def test_bulk_apply_and_missing_outcomes(admin) -> None:
    base, _app, _leads, key, page = admin
    login(page, base, key)
    page.goto(f"{base}/outcomes/t/demo/admin/bulk?source_key=linkedin")
    names = [c.inner_text() for c in page.query_selector_all("#leads tr td:nth-child(2)")]
    assert sorted(n.split()[0] for n in names) == ["Ada", "Alan"]
    page.check("#all")
    page.select_option("select[name=outcome_type]", "contacted")
    page.click("text=Apply to selected")
    assert page.inner_text("#results").count("201") == 2
    shot(page, "4-bulk")

    page.goto(f"{base}/outcomes/t/demo/admin/missing")
    stale = [c.inner_text() for c in page.query_selector_all("#stale tr td:first-child")]
    assert sorted(stale) == ["Ada", "Alan", "Grace"]  # A/B, 0-90 days, stale, nothing beyond contacted
    page.click("#stale tr:has-text('Grace') >> text=Mark invalid")
    assert sorted(c.inner_text() for c in page.query_selector_all("#stale tr td:first-child")) == ["Ada", "Alan"]
    shot(page, "5-missing")


def test_win_rates_table_chart_and_csv_agree(admin) -> None:
    base, app, leads, key, page = admin
    today = datetime.now(UTC).date()
    last_week = datetime.combine(today - timedelta(days=today.weekday() + 5), datetime.min.time(), UTC)
    actor = Actor(key_id="test", label="seed", scopes=frozenset({"admin"}))
    for name, kinds in (
        ("Ada", ["contacted", "closed_won"]),
        ("Alan", ["contacted", "closed_lost"]),
        ("Grace", ["contacted", "closed_won"]),
        ("Katherine", ["contacted", "closed_lost"]),
    ):
        for n, kind in enumerate(kinds):
            app.outcomes_service.record(
                "demo",
                OutcomeIn(lead_id=leads[name], outcome_type=kind, occurred_at=last_week + timedelta(hours=n)),
                actor,
            )
    run_job("win_rates", app)
    login(page, base, key)
    page.goto(f"{base}/outcomes/t/demo/admin/win-rates?by=source&weeks=4")
    table = [
        [c.inner_text() for c in row.query_selector_all("td")][:6] for row in page.query_selector_all("#rates tr")[1:]
    ]
    assert table == [["google", "2", "0", "1", "1", "50.0%"], ["linkedin", "2", "0", "1", "1", "50.0%"]]
    assert len(page.query_selector_all("#rates .bar")) == 2
    shot(page, "6-win-rates")
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.DictReader(download.value.path().read_text().splitlines()))
    assert [[r["dimension"], r["leads_entered"], r["appointments"], r["won"], r["lost"]] for r in rows] == [
        t[:5] for t in table
    ]
    page.click("text=By geo")
    assert "london" in page.inner_text("#rates") and "houston" in page.inner_text("#rates")
    bad = page.goto(f"{base}/outcomes/t/demo/admin/win-rates?weeks=40")
    assert bad.status == 400 and "weeks" in page.inner_text("[role=alert]")


def test_forms_without_the_session_csrf_token_are_refused(admin) -> None:
    base, app, leads, key, page = admin
    login(page, base, key)
    response = page.request.post(
        f"{base}/outcomes/t/demo/admin/leads/{leads['Ada']}", form={"outcome_type": "contacted", "csrf": "forged"}
    )
    assert response.status == 403
    assert app.outcome_store.history("demo", leads["Ada"]) == []


LONG_NOTE = "x" * 2000
LONG_URL = "https://example.com/" + "/".join(["segment" + "a" * 40] * 40)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_is_wider_than_the_screen_even_with_long_unbroken_text(admin, width) -> None:
    base, app, leads, key, page = admin
    actor = Actor(key_id="test", label="seed", scopes=frozenset({"admin"}))
    now = datetime.now(UTC)
    for n, notes in enumerate((LONG_NOTE, LONG_URL[:2000])):
        app.outcomes_service.record(
            "demo",
            OutcomeIn(
                lead_id=leads["Ada"], outcome_type="contacted", occurred_at=now - timedelta(hours=2 + n), notes=notes
            ),
            actor,
        )
    app.outcomes_service.record("demo", OutcomeIn(lead_id=leads["Ada"], outcome_type="closed_won"), actor)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base, key)
    pages = {
        "dashboard": "/",
        "lead": f"/leads/{leads['Ada']}",
        "bulk": "/bulk",
        "win-rates-source": "/win-rates?by=source",
        "win-rates-geo": "/win-rates?by=geo",
        "win-rates-intent": "/win-rates?by=intent_level",
        "missing": "/missing",
        "search": "/leads?q=example",
        "not-found": "/leads/ld_0000000000000000",
        "bad-query": "/win-rates?page=abc&weeks=" + "9" * 50,
    }
    wide = {}
    for name, path in pages.items():
        response = page.goto(f"{base}/outcomes/t/demo/admin{path}")
        assert response is not None and response.status < 500, (name, response and response.status)
        shot(page, f"w{width}-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        if overflow > 0:
            wide[name] = overflow
    assert wide == {}
    # The current week is in the win rates before any weekly job ran, marked as partial.
    page.goto(f"{base}/outcomes/t/demo/admin/win-rates?by=source")
    assert "partial" in page.inner_text("#rates") and "linkedin" in page.inner_text("#rates")


def test_a_warehouse_outage_is_a_readable_503_page(admin, tmp_path: Path) -> None:
    base, app, _leads, key, page = admin
    login(page, base, key)
    path = app.warehouse.path
    app.warehouse.close()
    app.warehouse.path = tmp_path / "gone"
    (tmp_path / "gone").mkdir()  # a directory: DuckDB cannot open it, as if the disk were gone
    try:
        response = page.goto(f"{base}/outcomes/t/demo/admin/win-rates")
        assert response is not None and response.status == 503
        assert "Temporarily unavailable" in page.inner_text("h1") and "reload the page" in page.inner_text("main")
        shot(page, "8-unavailable")
    finally:
        app.warehouse.close()
        app.warehouse.path = path
