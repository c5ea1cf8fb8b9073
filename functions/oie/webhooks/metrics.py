"""message_metrics: hourly and daily message rollups (see sql/jobs/message_metrics.sql)."""

from __future__ import annotations

from oie.jobs.context import JobResult, Window
from oie.ports import Warehouse


def message_metrics(warehouse: Warehouse, window: Window) -> JobResult:
    """Recompute every hour and day touched since the last run; MERGE, so re-runs change nothing."""
    params = window.params()
    hourly = warehouse.execute("message_metrics_hourly", params)
    campaigns = warehouse.execute("message_metrics_campaign_daily", params)
    tenants = warehouse.execute("message_metrics_tenant_daily", params)
    return JobResult(
        rows_written=hourly + campaigns + tenants,
        watermark=window.until,
        details={"hourly": hourly, "campaign_daily": campaigns, "tenant_daily": tenants},
    )
