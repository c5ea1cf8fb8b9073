"""A Looker Studio link that opens a report on the warehouse's analyst views (BigQuery).

Built with the Looker Studio Linking API: one URL configures the report and one
BigQuery data source per view, so nobody has to add them by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode

LINKING_API_URL = "https://lookerstudio.google.com/reporting/create"

# The views of sql/views/1*.sql, in the order a report usually shows them.
DEFAULT_VIEWS: tuple[str, ...] = (
    "high_intent_leads",
    "campaign_performance",
    "recent_sessions",
    "intent_distribution",
    "lead_timeline",
)

# Google Cloud project ids: 6-30 lowercase letters, digits and hyphens, starting with a
# letter, not ending with a hyphen (a legacy "domain.com:" prefix is allowed).
_PROJECT_ID = re.compile(r"(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
# BigQuery dataset and table (view) ids: letters, digits and underscores, up to 1024.
_BIGQUERY_ID = re.compile(r"[A-Za-z0-9_]{1,1024}")
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _check(value: str, pattern: re.Pattern[str], argument: str, what: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{argument}: {value!r} is not a valid {what}")


def report_link(
    project: str,
    dataset: str,
    views: Sequence[str] = DEFAULT_VIEWS,
    template_report_id: str | None = None,
    report_name: str = "Outbound Intent Engine",
) -> str:
    """The Linking API URL of a report with one BigQuery data source per view.

    Each view's alias is its own name, so a template report must alias its data sources
    the same way to have them replaced; without a template, Looker Studio starts blank.
    """
    _check(project, _PROJECT_ID, "project", "Google Cloud project id")
    _check(dataset, _BIGQUERY_ID, "dataset", "BigQuery dataset id")
    if isinstance(views, str) or not views:
        raise ValueError("views: give at least one view name (a sequence of names, not a string)")
    for view in views:
        _check(view, _BIGQUERY_ID, "views", "BigQuery view id")
    if len(set(views)) != len(views):
        raise ValueError("views: each view may appear only once")
    if template_report_id is not None:
        _check(template_report_id, _TEMPLATE_ID, "template_report_id", "Looker Studio report id")

    params: list[tuple[str, str]] = []
    if template_report_id is not None:
        params.append(("c.reportId", template_report_id))
    params += [("c.mode", "edit"), ("r.reportName", report_name)]
    for view in views:
        prefix = f"ds.{view}"
        params += [
            (f"{prefix}.connector", "bigQuery"),
            (f"{prefix}.type", "TABLE"),
            (f"{prefix}.projectId", project),
            (f"{prefix}.datasetId", dataset),
            (f"{prefix}.tableId", view),
            (f"{prefix}.datasourceName", view),
        ]
    return f"{LINKING_API_URL}?{urlencode(params)}"
