"""The console in real Chromium, as an SDR with a member key: find a lead on the hot-leads page
by email, open its timeline, pause its campaign. Screenshots of both pages at 1280 and 390 px
are saved under test-artifacts/console/; no page is wider than the screen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from oie.campaigns.models import Contact, ContactCampaign, PendingStep, contact_campaign_id
from oie.campaigns.plan import Plan
from oie.jobs.runner import run_job
from oie.outcomes.auth import create_key
from tests.factories import event_row as ev

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WIDTHS = {"desktop": 1280, "phone": 390}
PLAN = {
    "start_node_id": "intro",
    "nodes": [
        {"id": "intro", "type": "send", "template": {"subject": "Hi", "text": "Hello"}},
        {"id": "follow_up", "type": "send", "template": {"subject": "Again", "text": "Hello again"}},
        {"id": "done", "type": "stop"},
    ],
}


def enrol(app, campaign: str, contact, now: datetime) -> str:
    """The lead's contact campaign, one step in, the next send due tomorrow."""
    ccid = contact_campaign_id(campaign, contact.lead_id)
    plan = Plan.model_validate(PLAN)
    tenant = app.firestore.collection("tenants").document("demo")
    tenant.collection("campaign_plan_versions").document("v1").set(
        {"version": "v1", "plan": plan.model_dump(mode="json", by_alias=True)}
    )
    state = ContactCampaign(
        tenant_id="demo",
        contact_campaign_id=ccid,
        campaign_id=campaign,
        contact=Contact(lead_id=contact.lead_id, email=contact.lead.email, tracking_id=contact.tracking_id),
        sender_id="s1",
        plan_version="v1",
        current_node="intro",
        node_entered_at=now - timedelta(days=1),
        pending=PendingStep(key="k", kind="send", node_id="follow_up", due_at=now + timedelta(days=1)),
        created_at=now - timedelta(days=1),
        updated_at=now - timedelta(days=1),
    )
    tenant.collection("contact_campaigns").document(ccid).set(state.model_dump())
    return ccid


@pytest.fixture
def sdr(live, browser: Browser):
    """Three demo leads with visits (one on the pricing page minutes ago), scored; a member key."""
    base, app, seed = live
    now = datetime.now(UTC)
    people = seed.leads[:3]
    rows = []
    for n, person in enumerate(people):
        at = now - timedelta(hours=5 * n, minutes=9)
        vid = f"vis_{n}"
        rows += [
            ev("demo", vid, at, "pageview", "/pricing", i=person.tracking_id),
            ev("demo", vid, at + timedelta(seconds=30), "scroll", "/pricing", i=person.tracking_id, depth=75),
            ev("demo", vid, at + timedelta(minutes=1), "pageview", "/case-studies/northwind", i=person.tracking_id),
        ]
        if n == 0:
            rows += [
                ev("demo", vid, at + timedelta(minutes=2), "click", "/pricing", i=person.tracking_id, cta=True),
                ev("demo", vid, at + timedelta(minutes=3), "form_submit", "/pricing", i=person.tracking_id),
            ]
    app.warehouse.insert_rows("events", rows, id_field="event_id")
    run_job("sessionize", app)
    run_job("score", app)
    ccid = enrol(app, seed.campaign_id, people[0], now)
    # Long unbroken text must wrap, not widen the page.
    leads = app.firestore.collection("tenants").document("demo").collection("leads")
    leads.document(people[0].lead_id).update({"company": "Analytical" + "Engines" * 25})
    app.outcome_store.set_attributes("demo", people[1].lead_id, {"assigned_partner": "owner-" + "x" * 70})
    key = create_key(app.api_keys, "demo", [], "Sam SDR", now, role="member")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield base, app, people[0], ccid, key, page
    context.close()


def shoot(page: Page, name: str) -> None:
    """Each width: a full-page screenshot, and nothing wider than the viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} is {wide} px wide at {width} px"
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_member_finds_a_lead_reads_its_timeline_and_pauses_its_campaign(sdr) -> None:
    base, app, person, ccid, key, page = sdr
    page.goto(f"{base}/outcomes/t/demo/admin/")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.inner_text("h1") == "Hot leads"
    assert page.locator("#hot-leads tbody tr").count() >= 1
    assert "on site now" in page.inner_text(f"#lead-{person.lead_id}")
    assert page.locator("#chart-levels svg[role=img]").count() == 1
    assert "Settings" not in [a.inner_text() for a in page.query_selector_all("header a")]
    shoot(page, "hot-leads")

    page.fill("#filters input[name=q]", person.lead.email.upper())
    page.click("#filters button")
    assert page.locator("#hot-leads tbody tr").count() == 1
    assert "pricing page" in page.inner_text(f"#lead-{person.lead_id} td.why")
    page.click(f"#lead-{person.lead_id} >> text=Open")
    page.wait_for_url(f"**/leads/{person.lead_id}")
    story = page.inner_text("#story")
    assert "visit: 2 pages" in story and "/pricing" in story and "form submitted" in story
    assert page.locator("#score svg[role=img]").count() == 1
    shoot(page, "lead-timeline")

    page.click("text=Pause this lead's campaign")
    page.wait_for_url(f"**/leads/{person.lead_id}?done=pause*")
    assert "Paused the campaign" in page.inner_text("#done")
    assert "paused" in page.inner_text("#campaigns")
    assert app.campaign_service.states.get("demo", ccid).paused
    page.click("text=Resume this lead's campaign")
    page.wait_for_url(f"**/leads/{person.lead_id}?done=resume*")
    assert not app.campaign_service.states.get("demo", ccid).paused
