"""The hot-leads page's charts and choices: three small aggregate reads, none of the events table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from oie.console.models import LEVELS
from oie.ports import Warehouse

CHART_DAYS = 7
CAMPAIGN_CHOICES = 50


class Overview(BaseModel):
    """Leads per level now, leads that rose to hot or burning per day, the campaign filter's choices."""

    levels: list[tuple[str, int]]
    hot_per_day: list[tuple[date, int]]
    campaigns: list[str]


def overview(warehouse: Warehouse, tenant_id: str, today: date, days: int = CHART_DAYS) -> Overview:
    counts = {
        str(r["level"]): int(r["leads"]) for r in warehouse.query("console_level_counts", {"tenant_id": tenant_id})
    }
    first = today - timedelta(days=days - 1)
    rises = {
        _day(r["day"]): int(r["leads"])
        for r in warehouse.query("console_hot_per_day", {"tenant_id": tenant_id, "from_day": first, "to_day": today})
    }
    campaigns = warehouse.query("console_campaign_ids", {"tenant_id": tenant_id, "limit_rows": CAMPAIGN_CHOICES})
    return Overview(
        levels=[(level, counts.get(level, 0)) for level in LEVELS],
        hot_per_day=[(day, rises.get(day, 0)) for day in (first + timedelta(days=n) for n in range(days))],
        campaigns=[str(r["campaign_id"]) for r in campaigns],
    )


def _day(value: Any) -> date:
    """A DATE column as a date, whichever form the warehouse client gives it in."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))
