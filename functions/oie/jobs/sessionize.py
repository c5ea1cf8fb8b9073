"""sessionize: new events -> visitor-lead links and sessions (see sql/jobs/sessionize.sql)."""

from __future__ import annotations

from oie.jobs.context import JobResult, Window
from oie.ports import Warehouse


def sessionize(warehouse: Warehouse, window: Window) -> JobResult:
    """Fold the events received in the window into sessions; a no-op when nothing arrived."""
    (scope,) = warehouse.query("sessionize_scope", window.params())
    if not scope["visitors"]:
        return JobResult(watermark=window.until, details={"visitors": 0})
    params = {**window.params(), "scan_from": scope["scan_from"], "recent_from": scope["recent_from"]}
    (scanned,) = warehouse.query("sessionize_rows_scanned", params)
    links = warehouse.execute("sessionize_visitor_leads", params)
    sessions = warehouse.execute("sessionize_sessions", params)
    # Earlier anonymous sessions change lead only when this run linked a visitor to one.
    backfilled = warehouse.execute("sessionize_backfill_leads", params) if links else 0
    return JobResult(
        rows_written=sessions + links + backfilled,
        rows_scanned=int(scanned["rows_scanned"]),
        watermark=window.until,
        details={
            "visitors": scope["visitors"],
            "new_events": scope["new_events"],
            "late_visitors": scope["late_visitors"],
            "sessions": sessions,
            "visitor_links": links,
            "sessions_identified_later": backfilled,
        },
    )
