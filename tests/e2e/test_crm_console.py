"""Issue 15's "done when", on the local stack as `make run` starts it (`oie dev run`, its own process):
an admin connects the local HubSpot from the settings page in Chromium, a demo lead that turns hot
(its visits in Chromium, then the scoring cycle through the stack's dev endpoint) gets its score,
level and reason on its CRM contact and exactly one note; a Smartlead reply posted to the stack
with the secret the Sequencers page showed appears in the lead's timeline and stops its campaign."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from oie.devstack.crm_servers import HubSpotServer
from tests.e2e.conftest import READY, Stack, follow, wait_for
from tests.e2e.test_intent_campaigns import CHROME, HUMAN, console, lead_page, link_of
from tests.unit.webhooks.sequencer_payloads import smartlead

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
# Demo contacts of this module's own (the demo stack is shared): Alan and Grace are test_intent_campaigns'.
KATHERINE, ADA = "katherine@orbital.example", "ada@analytical-engines.example"
CAMPAIGN = "demo-outreach"


def hubspot_state(stack: Stack) -> dict[str, Any]:
    """What the local HubSpot holds: its contacts and notes (`GET /_local/state`)."""
    url = stack.url("CRM (local)").split()[0]
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def contact_of(stack: Stack, address: str) -> tuple[str, dict[str, Any]] | None:
    found = [(cid, c) for cid, c in hubspot_state(stack)["contacts"].items() if c.get("email") == address]
    return found[0] if found else None


def run_jobs(stack: Stack) -> None:
    """The stack's dev endpoint: sessionize, score (then crm_sync) and alerts, now."""
    request = urllib.request.Request(f"{stack.base}/_dev/run-jobs", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=120) as answer:
        assert answer.status == 200  # the redirect to the lead scores, followed


def settings(page: Page, stack: Stack, section: str) -> None:
    page.goto(f"{stack.base}/outcomes/t/demo/admin/settings/{section}")


def test_an_admin_connects_hubspot_in_chromium_and_a_lead_turning_hot_gets_its_properties_and_one_note(
    demo_stack, browser: Browser
):
    stack, data = demo_stack
    page = console(browser, stack)
    settings(page, stack, "crm")
    assert "HubSpot" in page.text_content("#crm-provider")  # `make run` connected the demo at start
    with page.expect_navigation():
        page.click("#crm-disconnect")
    assert page.is_visible("#crm-not-connected")

    token = HubSpotServer.token  # the local server's; the banner prints it too
    assert token in stack.url("CRM (local)")
    page.fill("#hubspot-token", token)
    page.check("#hubspot-allow-create")
    with page.expect_navigation():
        page.click("#connect-hubspot button")
    assert "Connected." in page.text_content("main")
    assert page.text_content("#crm-provider") == "HubSpot"
    assert token not in page.content() and token not in page.url  # never echoed back
    assert page.input_value("#hubspot-token") == ""

    # Katherine turns hot: her intro's link, then the pricing, case-study and product pages, in Chromium.
    assert contact_of(stack, KATHERINE) is None
    context = browser.new_context(user_agent=CHROME)
    context.add_init_script(HUMAN)
    visitor = context.new_page()
    visitor.goto(link_of(data, KATHERINE))
    visitor.wait_for_function(READY)
    for path in ("/demo/pricing", "/demo/case-studies", "/demo/product", "/demo/pricing", "/demo/"):
        follow(visitor, path)
    visitor.goto("about:blank")  # pagehide flushes the pixel's queue
    context.close()
    time.sleep(3)  # the stack's jobs read events older than two seconds

    run_jobs(stack)
    found = contact_of(stack, KATHERINE)
    assert found is not None, hubspot_state(stack)
    contact_id, contact = found
    assert contact["oie_intent_level"] in ("hot", "burning"), contact
    assert int(contact["oie_intent_score"]) >= 60 and "pricing" in contact["oie_intent_reason"], contact
    assert "/demo/pricing" in contact["oie_top_pages"]
    notes = [n for n in hubspot_state(stack)["notes"].values() if n["contact_id"] == contact_id]
    assert len(notes) == 1 and "Intent: now" in notes[0]["hs_note_body"], notes

    run_jobs(stack)  # the next cycle writes the same values and no second note
    assert len([n for n in hubspot_state(stack)["notes"].values() if n["contact_id"] == contact_id]) == 1

    lead_page(page, stack, KATHERINE)
    assert page.text_content("#crm-contact-id") == contact_id
    assert page.text_content("#crm-synced") == "synced"
    settings(page, stack, "crm")
    assert page.text_content("#crm-last-error") == "none"
    assert "not yet" not in page.text_content("#crm-last-sync")
    page.context.close()


def test_a_smartlead_reply_for_a_demo_lead_shows_in_its_timeline_and_stops_its_campaign(demo_stack, browser: Browser):
    stack, data = demo_stack
    page = console(browser, stack)
    settings(page, stack, "sequencers")
    with page.expect_navigation():
        page.click("#sequencer-smartlead button")
    secret = page.text_content("#new-secret-value").strip()
    url = page.text_content("#new-secret-url").strip()
    assert url == f"http://smartlead:{secret}@{stack.base.removeprefix('http://')}/webhooks/smartlead/demo"
    settings(page, stack, "sequencers")  # shown once: gone on the next view
    assert page.query_selector("#new-secret-value") is None and secret not in page.content()

    lead_page(page, stack, ADA)
    assert page.text_content(f"#plan-status-{CAMPAIGN}") == "active"
    tracking_id = re.search(r"[?&]i=([0-9A-Za-z]+)", link_of(data, ADA)).group(1)  # type: ignore[union-attr]
    at = datetime.now(UTC).isoformat(timespec="seconds")
    reply = smartlead("EMAIL_REPLY", email=ADA, at=at, custom_fields={"tracking_id": tracking_id})
    auth = base64.b64encode(f"smartlead:{secret}".encode()).decode()  # what a client makes of the URL's password
    request = urllib.request.Request(
        f"{stack.base}/webhooks/smartlead/demo",
        data=json.dumps(reply).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.loads(answer.read())["accepted"] == 1

    def stopped() -> bool:
        page.reload()
        return page.text_content(f"#plan-status-{CAMPAIGN}") not in ("active", "paused")

    wait_for(stopped, "the campaign to stop on the reply")
    assert page.text_content(f"#plan-status-{CAMPAIGN}") == "replied"
    assert "No step scheduled." in page.text_content(f"#plan-{CAMPAIGN}")  # nothing more is sent
    titles = page.locator("#story li.email b").all_inner_texts()
    assert "replied" in titles, titles
    page.context.close()
