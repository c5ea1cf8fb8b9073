"""The Campaigns and Settings pages in real Chromium: a member pauses and resumes the demo campaign (and
nothing is sent twice); an admin changes a limit and a scoring weight after its preview, and revokes a
key, whose open session ends at once. Screenshots of every page at 1280 and 390 px go to
test-artifacts/console/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from werkzeug.test import Client

from oie.devstack.demo_campaign import seed_demo_campaign
from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from tests.fakes import RecordingQueue

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WIDTHS = {"1280": (1280, 900), "390": (390, 844)}
SECTIONS = ("senders", "limits", "alerts", "tenant", "scoring", "keys", "log")


def shots(page: Page, name: str) -> None:
    """A full-page screenshot at each width; no page may be wider than the screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def login(browser: Browser, base: str, key: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/outcomes/t/demo/admin/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


@pytest.fixture
def demo(live):
    base, app, seed = live
    app.tasks = RecordingQueue()  # steps are delivered by the test, each as often as it likes
    report = seed_demo_campaign(app, base)
    assert report.started >= 2
    now = datetime.now(UTC)
    counts = {"sent": 40, "delivered": 38, "opened": 21, "clicked": 9, "replied": 3, "visits": 7, "leads_turned_hot": 2}
    zero = ("bounced", "unsubscribed", "spam_reports", "events_received", "unique_events", "leads_visited")
    row = {"tenant_id": "demo", "campaign_id": seed.campaign_id, "day": now.date(), **counts, **dict.fromkeys(zero, 0)}
    app.warehouse.upsert_rows(
        "message_metrics_campaign_daily",
        [{**row, "duplicate_rate": 0.0, "updated_at": now}],
        key_fields=("tenant_id", "campaign_id", "day"),
    )
    keys = {
        "admin": create_key(app.api_keys, "demo", [], "Rita RevOps", now, role="admin"),
        "member": create_key(app.api_keys, "demo", [], "Sam SDR", now, role="member"),
    }
    return base, app, seed, keys


def submit(page: Page, selector: str) -> None:
    """Click a form's button and wait for the page it answers with."""
    with page.expect_navigation():
        page.click(selector)


def deliver(gateway: Client, task) -> str:
    response = gateway.post("/campaign_step", json=task.payload, headers={"X-CloudTasks-TaskName": task.name or ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["outcome"])


def outbox(app) -> list[Path]:
    return sorted(app.settings.outbox_dir.glob("*.eml")) if app.settings.outbox_dir.exists() else []


def test_a_member_pauses_and_resumes_the_campaign_and_each_contact_gets_one_message(demo, browser: Browser) -> None:
    base, app, seed, keys = demo
    gateway = Client(build_gateway())
    first = list(app.tasks.tasks)
    page = login(browser, base, keys["member"])
    page.click("header >> text=Campaigns")
    assert "Settings" not in page.inner_text("header")  # a member is not offered the settings
    shots(page, "campaigns")
    card = page.locator("section.card", has=page.locator(f"h2:has-text('{seed.campaign_id}')"))
    with page.expect_navigation():
        card.locator("button.pause").click()
    assert f"Campaign {seed.campaign_id} is now paused" in page.inner_text("[role=status]")
    assert {deliver(gateway, t) for t in first} == {"held"}
    assert outbox(app) == []

    page.reload()
    assert "held" in page.inner_text("#contacts-title ~ p")
    with page.expect_navigation():
        card.locator("button.resume").click()
    assert "now running" in page.inner_text("[role=status]")
    rearmed = list(app.tasks.tasks)[len(first) :]
    assert len(rearmed) == len(first)
    assert {deliver(gateway, t) for t in rearmed} == {"sent"}
    assert {deliver(gateway, t) for t in rearmed + first} == {"superseded"}  # delivered again: nothing sent
    assert len(outbox(app)) == len(first)  # one message per contact

    with page.expect_navigation():  # asks first, stops nothing yet
        page.locator("#tenant-title ~ .controls button.stop").click()
    assert "Stop is final" in page.inner_text("[role=alertdialog]")
    shots(page, "campaigns-stop-confirm")
    page.click("text=Cancel")
    assert app.campaign_service.states.control("demo", None).state == "running"

    page.goto(f"{base}/outcomes/t/demo/admin/settings/limits")
    assert "Only an admin key may see or change settings" in page.inner_text("main")
    shots(page, "settings-member-refused")


def test_an_admin_changes_a_limit_and_a_weight_after_its_preview_and_revokes_a_key(demo, browser: Browser) -> None:
    base, app, _seed, keys = demo
    admin = login(browser, base, keys["admin"])
    sdr = login(browser, base, keys["member"])
    admin.click("header >> text=Settings")
    admin.wait_for_url("**/settings/senders")
    for name in SECTIONS:
        admin.goto(f"{base}/outcomes/t/demo/admin/settings/{name}")
        shots(admin, f"settings-{name}")

    admin.goto(f"{base}/outcomes/t/demo/admin/settings/limits")
    admin.fill("input[name=tenant_hourly]", "not a number")
    submit(admin, "button:has-text('Save limits')")
    assert "tenant_hourly" in admin.inner_text("[role=alert]")
    assert admin.input_value("input[name=tenant_hourly]") == "not a number"  # kept to correct it
    shots(admin, "settings-limits-error")
    admin.fill("input[name=tenant_hourly]", "750")
    submit(admin, "button:has-text('Save limits')")
    assert "limits.tenant_hourly" in admin.inner_text("[role=status]")
    assert app.settings_service.limits("demo", _admin(app, keys)).tenant_hourly == 750

    admin.goto(f"{base}/outcomes/t/demo/admin/settings/scoring")
    admin.fill("input[name=per_pricing_view]", "12")
    submit(admin, "button:has-text('Preview the change')")
    assert "would change level" in admin.inner_text("#preview")
    assert "Nothing is saved yet" in admin.inner_text("#preview")
    shots(admin, "settings-scoring-preview")
    assert app.scoring_settings.show("demo", _admin(app, keys))["weights"]["per_pricing_view"] != 12.0
    submit(admin, "button.save")
    assert "Scoring saved." in admin.inner_text("[role=status]")
    assert app.scoring_settings.show("demo", _admin(app, keys))["weights"]["per_pricing_view"] == 12.0

    admin.goto(f"{base}/outcomes/t/demo/admin/settings/alerts")
    submit(admin, "button:has-text('Send a test alert')")  # the demo's channel: the stack's own alert inbox
    assert "Test alert delivered" in admin.inner_text("[role=status]")
    shots(admin, "settings-alerts-tested")

    admin.goto(f"{base}/outcomes/t/demo/admin/settings/keys")
    admin.fill("input[name=label]", "Temp contractor")
    submit(admin, "button:has-text('Create key')")
    assert admin.inner_text("#new-key").startswith("oie_")
    shots(admin, "settings-keys-created")
    sdr.goto(f"{base}/outcomes/t/demo/admin/campaigns")
    assert sdr.url.endswith("/campaigns")
    with admin.expect_navigation():
        admin.locator("tr", has=admin.locator("text=Sam SDR")).locator("button", has_text="Revoke").click()
    assert "Revoked key" in admin.inner_text("[role=status]")
    sdr.reload()
    assert sdr.url.endswith("/admin/login")  # the revoked key's session ended at once

    admin.goto(f"{base}/outcomes/t/demo/admin/settings/log")
    log = admin.inner_text("main")
    assert "limits.tenant_hourly" in log and "scoring.weights" in log and "Rita RevOps" in log
    shots(admin, "settings-log-filled")


def _admin(app, keys):
    from oie.outcomes.auth import authenticate

    return authenticate(app.api_keys, "demo", "Bearer " + keys["admin"], "admin")
