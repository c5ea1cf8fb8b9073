"""Consent in real headless Chromium: what reaches the collector through refuse → accept → refuse."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Capture
from tests.browser.events import READY, TOKEN
from tests.browser.events import of as _of
from tests.browser.events import set_visibility as _set_visibility
from tests.browser.events import types as _types

pytestmark = pytest.mark.browser

LANDING = f"/fixtures/consent.html?utm_source=mail&i=ab3f9k2q&oie_t={TOKEN}"
CLEAN = "/fixtures/consent.html?utm_source=mail"
STORED = "[localStorage.getItem('oie_id'), document.cookie]"


def _consent(page: Page, given: bool) -> int:
    """Signals consent through the pixel's API; returns the page's clock just before it (the
    pageview acceptance sends is stamped within the same millisecond or after)."""
    return int(page.evaluate("(given) => { const at = Date.now(); oie('consent', given); return at }", given))


def _scroll_to_top(page: Page) -> None:
    page.mouse.wheel(0, -10_000)
    page.wait_for_function("window.scrollY === 0")
    page.wait_for_timeout(300)  # the pixel measures scroll depth at most every 100 ms


def _visit(page: Page, name: str, active_ms: int = 1000) -> None:
    """Everything the pixel measures: the form (start and submit), the whole video, scrolling
    from the top to the end, and `active_ms` of mouse activity."""
    page.fill("input[name=full_name]", name)
    page.click("button[type=submit]")  # the page prevents the submission
    page.evaluate("() => { const v = document.getElementById('clip'); v.currentTime = 0; return v.play() }")
    page.wait_for_function("document.getElementById('clip').ended", timeout=10_000)
    _scroll_to_top(page)
    page.mouse.wheel(0, 10_000)
    page.wait_for_function("window.scrollY + innerHeight >= document.documentElement.scrollHeight - 1")
    page.wait_for_timeout(300)
    for step in range(active_ms // 100):
        page.mouse.move(100 + step % 20 * 10, 100)
        page.wait_for_timeout(100)


@pytest.mark.parametrize("cmp", ["", "&cmp=no", "&cmp=yes"], ids=["pending", "refused", "given"])
def test_the_address_bar_is_clean_from_load_whatever_the_consent_state(
    page: Page, server: tuple[str, Capture], cmp: str
) -> None:
    base, capture = server
    page.goto(f"{base}{LANDING}{cmp}")
    clean = f"{base}{CLEAN}{cmp}"
    assert page.evaluate("window.hrefAtLoad") == clean
    page.wait_for_function(READY)
    page.mouse.move(100, 100)
    page.mouse.wheel(0, 2000)
    page.wait_for_timeout(1000)  # idle time after the load has come and gone
    assert page.evaluate("location.href") == clean
    stored = page.evaluate(STORED)
    page.goto(f"{base}/fixtures/blank.html")  # pagehide: whatever is allowed goes now

    if cmp != "&cmp=yes":
        page.wait_for_timeout(1000)
        assert capture.events() == []
        assert stored == [None, ""], "the identity waits in memory, never in storage"
        return
    capture.wait_for(lambda events: "pageview" in _types(events))
    events = capture.events()
    assert events[0]["type"] == "pageview"
    assert _of(events, "pageview")[0]["url"] == clean
    assert _of(events, "custom") == [], "tracked before consent, so never sent"
    with capture.lock:
        bodies = list(capture.tracks)
    assert {(b["vid"], b["i"], b["tok"]) for b in bodies} == {("tokVid123456", "ab3f9k2q", TOKEN)}
    assert stored[0] is not None, "consent given: the identity is stored"
    assert "oie_id=" not in stored[1], "localStorage works, so no cookie is written"


def test_refuse_accept_refuse_on_one_pageview_sends_only_what_was_consented(
    page: Page, server: tuple[str, Capture], video_url: str
) -> None:
    base, capture = server
    page.goto(f"{base}{LANDING}")
    assert page.evaluate("window.hrefAtLoad") == f"{base}{CLEAN}"
    page.wait_for_function(READY)
    page.evaluate("(src) => { document.getElementById('clip').src = src }", video_url)
    page.wait_for_function("document.getElementById('clip').readyState >= 1")

    _visit(page, "pending")  # consent not yet asked
    _consent(page, False)
    _visit(page, "refused", active_ms=3000)
    _scroll_to_top(page)
    page.wait_for_timeout(500)
    assert capture.events() == [], "nothing is sent before consent"
    assert page.evaluate(STORED) == [None, ""]

    accepted = _consent(page, True)
    capture.wait_for(lambda events: "pageview" in _types(events))
    assert page.evaluate("location.href") == f"{base}{CLEAN}"
    _visit(page, "accepted")
    _set_visibility(page, "hidden")  # sends active time now
    capture.wait_for(lambda events: "active_time" in _types(events) and "video" in _types(events))
    _set_visibility(page, "visible")
    refused = _consent(page, False)
    with capture.lock:
        sent = list(capture.tracks)
    assert page.evaluate(STORED) == [None, ""], "a refusal forgets the stored identity"

    _visit(page, "refused again", active_ms=2000)
    _set_visibility(page, "hidden")
    page.goto(f"{base}/fixtures/blank.html")
    page.wait_for_timeout(1000)
    with capture.lock:
        assert capture.tracks == sent, "nothing is sent after the second refusal"

    events = [event for body in sent for event in body["events"]]
    assert events[0]["type"] == "pageview", "acceptance sends the pageview, so later events have one"
    assert len(_of(events, "pageview")) == 1
    assert events[0]["url"] == f"{base}{CLEAN}"
    assert events[0]["props"]["spa"] is False
    for event in events:
        assert accepted <= event["ts"] <= refused, event
    assert _of(events, "custom") == []
    assert [e["props"]["depth"] for e in _of(events, "scroll")] == [25, 50, 75, 90, 100]
    assert len(_of(events, "form_start")) == 1
    assert len(_of(events, "form_submit")) == 1
    video = [(e["props"]["action"], e["props"].get("pct")) for e in _of(events, "video")]
    assert [pct for action, pct in video if action == "progress"] == [25, 50, 75]
    assert video[0] == ("play", None)
    assert ("complete", None) in video
    active = [e["props"]["ms"] for e in _of(events, "active_time")]
    assert active and 0 < sum(active) <= refused - accepted, (active, refused - accepted)
    assert {(b["vid"], b["i"], b["tok"]) for b in sent} == {("tokVid123456", "ab3f9k2q", TOKEN)}
