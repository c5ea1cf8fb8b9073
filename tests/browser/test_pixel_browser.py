"""The pixel in real headless Chromium: what a visit sends, personalization, sessions."""

from __future__ import annotations

import json
import socket

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Capture
from tests.browser.events import READY, TOKEN
from tests.browser.events import of as _of
from tests.browser.events import set_visibility as _set_visibility
from tests.browser.events import types as _types

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"


def test_a_visit_sends_every_event_with_one_identity(page: Page, server: tuple[str, Capture], video_url: str) -> None:
    base, capture = server
    page.goto(f"{base}/fixtures/landing.html?utm_source=mail&i=ab3f9k2q&oie_t={TOKEN}#top")
    page.wait_for_function(READY)
    assert page.evaluate("location.search + location.hash") == "?utm_source=mail#top"

    page.mouse.move(100, 100)
    page.mouse.wheel(0, 5000)
    page.wait_for_function("window.scrollY > 2000")
    page.wait_for_timeout(300)  # the pixel measures scroll depth at most every 100 ms
    page.click("#cta")

    page.evaluate("(src) => { const v = document.getElementById('clip'); v.src = src }", video_url)
    page.wait_for_function("document.getElementById('clip').readyState >= 1")
    page.evaluate("document.getElementById('clip').play()")
    page.wait_for_function("document.getElementById('clip').ended", timeout=10_000)

    _set_visibility(page, "hidden")
    capture.wait_for(lambda events: "visibility" in _types(events))
    _set_visibility(page, "visible")

    page.fill("input[name=full_name]", "Ada Lovelace")
    page.fill("input[name=email]", EMAIL)
    page.click("button[type=submit]")
    page.wait_for_url("**/fixtures/blank.html")
    capture.wait_for(lambda events: "form_submit" in _types(events))

    events = capture.events()
    types = _types(events)
    for kind in ("pageview", "custom", "scroll", "click", "form_start", "form_submit"):
        assert kind in types, kind
    assert [e["props"]["depth"] for e in _of(events, "scroll")] == [25, 50, 75, 90, 100]
    assert [e["props"]["state"] for e in _of(events, "visibility")][:2] == ["hidden", "visible"]
    assert _of(events, "custom")[0]["props"] == {"name": "queued", "from": "snippet"}

    clicks = [(e["props"]["el_id"], e["props"]["text"], e["props"]["cta"]) for e in _of(events, "click")]
    assert clicks == [("cta", "Book a demo", True), ("", "Sign up", True)]

    video = [(e["props"]["action"], e["props"].get("pct")) for e in _of(events, "video")]
    assert video[0] == ("play", None)
    assert [pct for action, pct in video if action == "progress"] == [25, 50, 75]
    assert ("complete", None) in video

    (submit,) = _of(events, "form_submit")
    assert submit["props"] == {
        "form_id": "signup",
        "form_name": "signup",
        "fields": ["full_name", "email"],
        "email": EMAIL,
    }
    pageview = events[0]
    assert pageview["type"] == "pageview"
    assert pageview["url"] == f"{base}/fixtures/landing.html?utm_source=mail"
    assert pageview["props"]["spa"] is False

    assert len({e["id"] for e in events}) == len(events)
    with capture.lock:
        bodies = list(capture.tracks)
        content_types = list(capture.content_types)
    assert {(b["vid"], b["sid"], b["i"], b["tok"]) for b in bodies} == {
        ("tokVid123456", bodies[0]["sid"], "ab3f9k2q", TOKEN)
    }
    assert all(ct.startswith("text/plain") for ct in content_types)
    raw = json.dumps(bodies)
    assert raw.count(EMAIL) == 1  # only in form_submit
    assert "Ada Lovelace" not in raw


def test_personalization_fills_the_name_as_text(page: Page, server: tuple[str, Capture]) -> None:
    base, capture = server
    page.goto(f"{base}/fixtures/personalize.html?oie_t={TOKEN}")
    page.wait_for_function("window.profile !== undefined")

    assert page.text_content("#name") == "Ada"
    assert page.text_content("#company") == "<b>Acme</b>"
    assert page.locator("#company b").count() == 0
    assert page.text_content("#title") == "friend"
    assert page.is_visible("#hot")
    assert page.is_hidden("#pricing")
    assert page.evaluate("document.documentElement.classList.contains('oie-p')") is False
    assert capture.personalize[0] == {"tenant": ["acme"], "vid": ["tokVid123456"], "tok": [TOKEN]}


def test_a_visit_after_30_idle_minutes_is_a_new_session(page: Page, server: tuple[str, Capture]) -> None:
    base, capture = server
    page.goto(f"{base}/fixtures/landing.html?i=ab3f9k2q")
    page.wait_for_function(READY)
    page.goto(f"{base}/fixtures/blank.html")  # pagehide sends the first visit's events
    capture.wait_for(lambda events: "pageview" in _types(events))
    with capture.lock:
        first = capture.tracks[0]

    page.evaluate(
        """() => {
          const st = JSON.parse(localStorage.getItem('oie_id'))
          st.seen -= 31 * 60 * 1000
          localStorage.setItem('oie_id', JSON.stringify(st))
        }"""
    )
    capture.clear()
    page.goto(f"{base}/fixtures/landing.html")
    page.wait_for_function(READY)
    page.goto(f"{base}/fixtures/blank.html")
    capture.wait_for(lambda events: "return_visit" in _types(events))

    with capture.lock:
        # A late batch from the first visit can land after clear(); take the one that reports the return.
        second = next(t for t in capture.tracks if "return_visit" in _types(t["events"]))
    assert second["sid"] != first["sid"]
    assert (second["vid"], second["i"]) == (first["vid"], "ab3f9k2q")
    assert second["ctx"]["visit"] == 2
    (visit,) = _of(second["events"], "return_visit")
    assert visit["props"]["visit"] == 2
    assert visit["props"]["last_seen_ms"] < visit["ts"] - 30 * 60 * 1000


def test_a_page_left_before_load_still_sends_the_pageview_and_identity_by_beacon(
    page: Page, server: tuple[str, Capture]
) -> None:
    base, capture = server
    # An image from a server that accepts and never answers holds `load` back, so idle time (and
    # with it the storage) never comes; no request interception, which would hold the beacon too.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        never = f"http://127.0.0.1:{silent.getsockname()[1]}/never.png"
        page.add_init_script(
            "document.addEventListener('DOMContentLoaded', () => "
            f"document.body.appendChild(Object.assign(document.createElement('img'), {{ src: '{never}' }})))"
        )
        page.goto(f"{base}/fixtures/landing.html?i=ab3f9k2q&oie_t={TOKEN}", wait_until="domcontentloaded")
        page.wait_for_function(READY)
        state = page.evaluate("[document.readyState, localStorage.getItem('oie_id'), document.cookie]")
        assert state == ["interactive", None, ""], "before load: nothing stored yet"
        page.goto(f"{base}/fixtures/blank.html", wait_until="commit")  # leaves: pagehide, one beacon
    capture.wait_for(lambda events: "pageview" in _types(events))

    with capture.lock:
        (body,) = [b for b in capture.tracks if "pageview" in _types(b["events"])]
        content_type = capture.content_types[capture.tracks.index(body)]
    assert (body["vid"], body["i"], body["tok"]) == ("tokVid123456", "ab3f9k2q", TOKEN)
    assert body["sid"] and body["ctx"]["visit"] == 1
    assert _types(body["events"])[:2] == ["pageview", "custom"]
    assert body["events"][0]["url"] == f"{base}/fixtures/landing.html"
    assert content_type.startswith("text/plain")


def test_an_idle_page_sends_its_pageview_at_idle_time_and_writes_no_cookie(
    page: Page, server: tuple[str, Capture]
) -> None:
    base, capture = server
    page.goto(f"{base}/fixtures/landing.html?i=ab3f9k2q&oie_t={TOKEN}")
    page.wait_for_function(READY)
    # No input and the page stays open: the pageview goes in the idle-time task after `load`
    # (requestIdleCallback, at most 2 s), not after the 10 s batch timer.
    capture.wait_for(lambda events: "pageview" in _types(events), timeout=5)
    stored = page.evaluate("[JSON.parse(localStorage.getItem('oie_id')).vid, document.cookie]")
    assert stored == ["tokVid123456", ""], "localStorage works: the identity is stored there only"
    with capture.lock:
        (body,) = capture.tracks
    assert (body["vid"], body["i"], body["tok"]) == ("tokVid123456", "ab3f9k2q", TOKEN)
    assert _types(body["events"])[0] == "pageview"
