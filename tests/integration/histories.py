"""Event histories the warehouse golden tests share: the same visits, scored by hand once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.factories import event_row as ev


def pricing_visit(tenant: str, visitor: str, now: datetime, link: str) -> list[dict[str, Any]]:
    """One session two hours before `now`: the demo page, then pricing twice with two minutes active and a click."""

    def at(**delta: float) -> datetime:
        return now - timedelta(hours=2) - timedelta(**delta)

    return [
        ev(tenant, visitor, at(), "pageview", "/demo", i=link),
        ev(tenant, visitor, at(minutes=-1), "scroll", "/demo", i=link, depth=50),
        ev(tenant, visitor, at(minutes=-2), "pageview", "/pricing", i=link),
        ev(tenant, visitor, at(minutes=-3), "active_time", "/pricing", i=link, ms=120000),
        ev(tenant, visitor, at(minutes=-5), "pageview", "/pricing", i=link),
        ev(tenant, visitor, at(minutes=-6), "click", "/pricing", i=link, tag="a"),
    ]


def returning_reader(
    tenant: str, visitor: str, now: datetime, link: str, last_link: str | None = None
) -> list[dict[str, Any]]:
    """Three sessions: the blog 6 days, a product tour 3 days, a case study 1 hour before `now`.

    Recency 30 + frequency 12 + engagement 20 + high intent 9 = 71, hot by the score alone; the
    last session may come through another link (`last_link`) of the same lead.
    """

    def at(**delta: float) -> datetime:
        return now - timedelta(**delta)

    last = last_link or link
    return [
        ev(tenant, visitor, at(days=6), "pageview", "/blog/a", i=link),
        ev(tenant, visitor, at(days=6, minutes=-4), "pageview", "/blog/b", i=link),
        ev(tenant, visitor, at(days=6, minutes=-9), "active_time", "/blog/b", i=link, ms=300000),
        ev(tenant, visitor, at(days=3), "pageview", "/product/tour", i=link),
        ev(tenant, visitor, at(days=3, minutes=-1), "scroll", "/product/tour", i=link, depth=25),
        ev(tenant, visitor, at(days=3, minutes=-2), "scroll", "/product/tour", i=link, depth=50),
        ev(tenant, visitor, at(hours=1), "pageview", "/case-studies/acme", i=last),
        ev(tenant, visitor, at(hours=1, minutes=-1), "scroll", "/case-studies/acme", i=last, depth=25),
        ev(tenant, visitor, at(hours=1, minutes=-2), "scroll", "/case-studies/acme", i=last, depth=50),
        ev(tenant, visitor, at(hours=1, minutes=-3), "scroll", "/case-studies/acme", i=last, depth=75),
        ev(tenant, visitor, at(hours=1, minutes=-5), "active_time", "/case-studies/acme", i=last, ms=240000),
    ]
