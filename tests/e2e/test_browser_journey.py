"""A recipient's whole journey in real Chromium against the real stack (gateway, emulator, DuckDB)."""

from __future__ import annotations

import hashlib
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from oie.devstack.gateway import ALERT_INBOX
from tests.e2e.conftest import READY, follow

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
# Playwright marks the browser as automated; a recipient's browser is not.
HUMAN = "Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false })"
COMPANIES = Path(__file__).resolve().parents[2] / "functions/oie/devstack/assets/ip_companies.csv"


def wait_for(
    rows: Callable[[], list[dict[str, Any]]], ok: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        found = rows()
        if ok(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def hide_and_show(page: Page) -> None:
    """Headless Chromium never changes visibilityState by itself; set it and fire the real event."""
    for state in ("hidden", "visible"):
        page.evaluate(
            """(state) => {
              Object.defineProperty(document, 'visibilityState', { value: state, configurable: true })
              document.dispatchEvent(new Event('visibilitychange'))
            }""",
            state,
        )
        page.wait_for_timeout(300)


def test_every_required_event_reaches_the_warehouse_with_lead_session_and_hashes(live, browser: Browser) -> None:
    base, app, seed = live
    ada = seed.leads[0]
    context = browser.new_context(user_agent=CHROME)
    context.add_init_script(HUMAN)
    page = context.new_page()

    page.goto(ada.tracking_url)
    page.wait_for_function(READY)
    assert page.url == f"{base}/demo/"  # i and the token are gone from the address bar
    page.wait_for_function("document.querySelector('[data-personalize=firstName]').textContent === 'Ada'")
    assert page.text_content("[data-personalize=company]") == ada.lead.company
    for section in ("pricing", "product"):  # paths the default page rules classify
        follow(page, f"/demo/{section}")

    page.mouse.move(200, 200)
    for _ in range(12):
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(120)
    page.click("#book-demo")
    page.fill("input[name=email]", "Ada.Lovelace@Analytical-Engines.example")
    page.fill("input[name=company]", "Analytical Engines")
    page.click("button[type=submit]")
    page.evaluate("document.getElementById('demo-video').play()")
    page.wait_for_function("document.getElementById('demo-video').ended", timeout=15_000)
    hide_and_show(page)  # focus lost and regained; hiding flushes with sendBeacon
    page.goto("about:blank")  # pagehide flushes the rest

    # Come back after more than 30 minutes idle: a new session, a return visit, no `i` in the URL.
    page.goto(f"{base}/demo/")
    page.wait_for_function(READY)
    page.evaluate(
        """() => { const st = JSON.parse(localStorage.getItem('oie_id'))
                   st.seen -= 31 * 60 * 1000; localStorage.setItem('oie_id', JSON.stringify(st)) }"""
    )
    page.goto(f"{base}/demo/")
    page.wait_for_function(READY)
    page.goto("about:blank")
    context.close()

    def events() -> list[dict[str, Any]]:
        return app.warehouse.sql(
            "select event_type, lead_id, visitor_id, session_id, identity_status, email_sha256, email_md5, "
            "email_sha1, is_bot, company_name, props::varchar as props from events_identified order by occurred_at"
        )

    required = {
        "pageview",
        "scroll",
        "active_time",
        "click",
        "form_start",
        "form_submit",
        "video",
        "visibility",
        "return_visit",
    }
    rows = wait_for(events, lambda found: required <= {r["event_type"] for r in found})
    assert required <= {r["event_type"] for r in rows}, sorted({r["event_type"] for r in rows})

    assert {r["lead_id"] for r in rows} == {ada.lead_id}
    assert len({r["visitor_id"] for r in rows}) == 1
    assert {r["identity_status"] for r in rows} == {"verified"}
    assert not any(r["is_bot"] for r in rows)
    assert {r["company_name"] for r in rows} == {"Localhost Labs (demo)"}
    sessions = [r["session_id"] for r in rows]
    returned = next(r for r in rows if r["event_type"] == "return_visit")
    assert len(set(sessions)) == 2 and returned["session_id"] != sessions[0]

    (submit,) = [r for r in rows if r["event_type"] == "form_submit"]
    email = b"ada.lovelace@analytical-engines.example"
    assert submit["email_sha256"] == hashlib.sha256(email).hexdigest()
    assert submit["email_md5"] == hashlib.md5(email).hexdigest()
    assert submit["email_sha1"] == hashlib.sha1(email).hexdigest()
    assert "lovelace" not in " ".join(r["props"] for r in rows).lower()

    depths = {r["props"] for r in rows if r["event_type"] == "scroll"}
    assert any('"depth":100' in d for d in depths)
    videos = " ".join(r["props"] for r in rows if r["event_type"] == "video")
    assert '"action":"play"' in videos and '"action":"complete"' in videos

    (click,) = app.warehouse.sql("select is_verified, is_human from email_click_quality")
    assert click == {"is_verified": True, "is_human": True}

    # One scheduler cycle: a session, a scored profile, the personalization cache, one alert.
    ALERT_INBOX.clear()
    for _ in range(2):  # a second cycle must not repeat the alert
        with urllib.request.urlopen(urllib.request.Request(f"{base}/_dev/run-jobs", method="POST")) as response:
            assert response.status == 200 and response.url.endswith("/_dev/leads")
    (session,) = app.warehouse.sql("select lead_id, pricing_views, product_views, forms_submitted from sessions")
    assert session == {"lead_id": ada.lead_id, "pricing_views": 1, "product_views": 1, "forms_submitted": 1}
    (profile,) = app.warehouse.sql("select level, high_intent_points, conversion_points from lead_profiles")
    assert profile["level"] in ("hot", "burning")
    assert (profile["high_intent_points"], profile["conversion_points"]) == (12, 20)  # pricing 8 + product 4; 15 + 5
    assert app.profiles.get("demo", ada.lead_id)["intentLevel"] == profile["level"]
    (alert,) = list(ALERT_INBOX)
    assert alert["signature"] and alert["lead"]["id"] == ada.lead_id and alert["to_level"] == profile["level"]
