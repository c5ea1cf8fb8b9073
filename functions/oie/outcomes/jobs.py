"""The outcomes jobs: weekly win-rate aggregates and the daily missing-outcome nudge."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from oie.jobs.context import JobResult, Window
from oie.outcomes.ports import OutcomeStore
from oie.outcomes.service import OutcomesService
from oie.outcomes.win_rates import last_complete_week
from oie.ports import TenantStore, Warehouse


def aggregate_week(warehouse: Warehouse, week_start: date, now: datetime) -> int:
    """Recompute one ISO week's win-rate aggregates for every tenant (idempotent)."""
    params = {"week_start": datetime.combine(week_start, time(), UTC), "now": now}
    return warehouse.execute("win_rates_by_source_merge", params) + warehouse.execute("win_rates_by_geo_merge", params)


def win_rates_job(warehouse: Warehouse, window: Window) -> JobResult:
    """The prior ISO week (the job runs on Sunday 02:00 UTC for the week that just ended)."""
    week = last_complete_week(window.now)
    rows = aggregate_week(warehouse, week, window.now)
    return JobResult(rows_written=rows, watermark=window.until, details={"week_start": week.isoformat()})


def backfill(warehouse: Warehouse, first: date, last: date, now: datetime) -> list[tuple[date, int]]:
    """Recompute every ISO week from the one holding `first` to the one holding `last`."""
    week = first - timedelta(days=first.weekday())
    done = []
    while week <= last:
        done.append((week, aggregate_week(warehouse, week, now)))
        week += timedelta(weeks=1)
    return done


def nudges_job(tenants: TenantStore, service: OutcomesService, store: OutcomeStore, window: Window) -> JobResult:
    """One OUTCOME_MISSING nudge per tenant per day, with the evidence; re-runs add nothing."""
    created = 0
    details: dict[str, Any] = {}
    for tenant in tenants.all():
        stale = service.missing(tenant.tenant_id)
        if not stale:
            continue
        day = window.now.date().isoformat()
        nudge = {
            "kind": "OUTCOME_MISSING",
            "day": day,
            "created_at": window.now,
            "count": len(stale),
            "lead_ids": [s["lead_id"] for s in stale][:200],
            "oldest_activity_at": min(s["last_activity_at"] for s in stale),
            "dismissed_by": None,
            "dismissed_at": None,
        }
        if store.save_nudge(tenant.tenant_id, f"outcome_missing-{day}", nudge):
            created += 1
            details[tenant.tenant_id] = len(stale)
    return JobResult(rows_written=created, watermark=window.until, details=details)
