"""score: sessions -> lead_aggregates (settled totals) -> lead_profiles with components and level changes
(see sql/jobs/score.sql)."""

from __future__ import annotations

from oie.jobs.context import JobResult, Window
from oie.ports import Warehouse


def score(warehouse: Warehouse, window: Window) -> JobResult:
    """Rescore leads whose sessions changed, refresh everyone's recency, record level changes and the day's scores."""
    params = window.params()
    # Settle first: score_leads reads each (lead, visitor)'s totals, then its sessions since.
    settled = warehouse.execute("score_settle_sessions", params)
    rescored = warehouse.execute("score_leads", params)
    decayed = warehouse.execute("score_refresh_recency", params)
    changes = warehouse.execute("score_record_level_changes", params)
    # The day's score snapshot (lead_score_history) of every profile this run touched.
    snapshots = warehouse.execute("score_record_history", params)
    return JobResult(
        rows_written=rescored + decayed + changes + snapshots,
        watermark=window.until,
        details={
            "settled": settled,
            "rescored": rescored,
            "recency_refreshed": decayed,
            "level_changes": changes,
            "snapshots": snapshots,
        },
    )
