"""score: sessions -> lead_profiles with components and level changes (see sql/jobs/score.sql)."""

from __future__ import annotations

from oie.jobs.context import JobResult, Window
from oie.ports import Warehouse


def score(warehouse: Warehouse, window: Window) -> JobResult:
    """Rescore leads whose sessions changed, refresh everyone's recency, record level changes."""
    params = window.params()
    rescored = warehouse.execute("score_leads", params)
    decayed = warehouse.execute("score_refresh_recency", params)
    changes = warehouse.execute("score_record_level_changes", params)
    return JobResult(
        rows_written=rescored + decayed + changes,
        watermark=window.until,
        details={"rescored": rescored, "recency_refreshed": decayed, "level_changes": changes},
    )
