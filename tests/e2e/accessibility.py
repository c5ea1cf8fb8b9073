"""axe-core in a Playwright page: the project's pinned copy (pixel/node_modules), never a CDN."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "pixel" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run `make pixel` (npm ci installs axe-core)")
    return AXE.read_text()


def violations(page: Page, impacts: tuple[str, ...] = SEVERE) -> list[dict[str, Any]]:
    """The page's axe-core violations of these impacts (WCAG 2.x A/AA and best practices)."""
    # Injected as a script element's text: the console's CSP allows inline scripts, not eval.
    page.add_script_tag(content=_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v.get("impact") in impacts]


def describe(found: list[dict[str, Any]]) -> str:
    """Violations as readable lines: rule, impact, help and the first few offending elements."""
    lines = []
    for v in found:
        targets = ", ".join(" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:4])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return "\n".join(lines)
