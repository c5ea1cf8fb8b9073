"""What the browser tests read from the collector, and the one page state they have to fake."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

TOKEN = "tokVid123456.ab3f9k2q.1767225600.AbC-_9sig"
READY = "typeof window.oie === 'function' && !window.oie.q"


def types(events: list[dict[str, Any]]) -> list[str]:
    """The event types, in the order the collector received them."""
    return [event["type"] for event in events]


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The events of one type."""
    return [event for event in events if event["type"] == kind]


def set_visibility(page: Page, state: str) -> None:
    """Hide or show the page: headless Chromium never hides a page by itself (no window manager),
    so this one step overrides the state and fires the real event; everything else is real input."""
    page.evaluate(
        """(state) => {
          Object.defineProperty(document, 'visibilityState', { value: state, configurable: true })
          document.dispatchEvent(new Event('visibilitychange'))
        }""",
        state,
    )
