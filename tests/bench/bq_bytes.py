"""BigQuery bytes a sessionize + score run would scan, estimated from the data on DuckDB.

Why not a dry run: the BigQuery emulator (tests/bigquery_emulator) keeps its tables in
DuckDB without partitions, so its dry run cannot price partition pruning. The method here:
for every statement of the run, each table it reads and the partitions its constant
predicates keep (`READS`, written from the SQL in sql/jobs/sessionize.sql and score.sql);
BigQuery bills the columns read over the partitions kept, so the estimate sums BigQuery's
logical size of *every* column (an upper bound: statements read fewer) over the rows of
those partitions. Unpartitioned tables (identity_map, visitor_leads, lead_aggregates,
lead_profiles, the MERGE targets) are read whole; clustering is not credited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from oie.adapters.duckdb_warehouse import DuckDBWarehouse

Params = dict[str, datetime]
Bound = Callable[[Params], datetime] | None

DAY = timedelta(days=1)
TEN_MIN = timedelta(minutes=10)


def _since(p: Params) -> datetime:
    return p["since"]


# (statement, table, partition column, lower bound, upper bound): None = the whole table.
READS: list[tuple[str, str, str | None, Bound, Bound]] = [
    ("sessionize_scope", "events", "received_at", _since, None),
    ("sessionize_scope", "sessions", "session_start", lambda p: p["since"] - 32 * DAY, None),
    ("sessionize_rows_scanned", "events", "received_at", lambda p: p["scan_from"] - TEN_MIN, None),
    ("sessionize_visitor_leads", "events", "received_at", _since, None),
    ("sessionize_visitor_leads", "identity_map", None, None, None),
    ("sessionize_visitor_leads", "visitor_leads", None, None, None),
    ("sessionize_sessions", "events", "received_at", lambda p: p["recent_from"] - TEN_MIN, None),
    # the late visitors' branch: the older partitions, read only when a visitor is late
    ("sessionize_sessions", "events", "received_at", lambda p: p["scan_from"] - TEN_MIN, lambda p: p["recent_from"]),
    ("sessionize_sessions", "sessions", "session_start", lambda p: p["scan_from"] - 2 * DAY, None),
    ("sessionize_sessions", "identity_map", None, None, None),
    ("sessionize_sessions", "visitor_leads", None, None, None),
    ("sessionize_sessions", "email_clicks", "clicked_at", lambda p: p["scan_from"] - 90 * DAY, None),
    ("sessionize_sessions", "page_rules", None, None, None),
    ("sessionize_backfill_leads", "events", "received_at", _since, None),
    ("sessionize_backfill_leads", "visitor_leads", None, None, None),
    ("sessionize_backfill_leads", "sessions", "session_start", lambda p: p["since"] - 32 * DAY, None),
    ("score_settle_sessions", "sessions", "session_start", lambda p: p["score_since"] - 40 * DAY, None),
    ("score_settle_sessions", "lead_aggregates", None, None, None),
    ("score_leads", "sessions", "session_start", lambda p: p["score_since"] - 40 * DAY, None),
    ("score_leads", "lead_aggregates", None, None, None),
    ("score_leads", "lead_profiles", None, None, None),
    ("score_refresh_recency", "lead_profiles", None, None, None),
    ("score_record_level_changes", "lead_profiles", None, None, None),
    ("score_record_history", "lead_profiles", None, None, None),
]


def _row_bytes(warehouse: DuckDBWarehouse, table: str) -> str:
    """A SQL expression for one row's BigQuery logical size (STRING 2 + bytes, INT64/FLOAT64/TIMESTAMP 8, BOOL 1)."""
    columns = warehouse.sql(
        "select column_name, data_type from information_schema.columns where table_name = $t", {"t": table}
    )
    parts = []
    for c in columns:
        name, kind = f'"{c["column_name"]}"', c["data_type"].upper()
        if kind in ("VARCHAR", "JSON"):
            parts.append(f"coalesce(2 + strlen({name}::varchar), 0)")
        elif kind == "BOOLEAN":
            parts.append(f"case when {name} is null then 0 else 1 end")
        elif kind.endswith("[]"):
            parts.append(f"coalesce(list_sum(list_transform({name}, x -> 2 + strlen(x))), 0)")
        else:
            parts.append(f"case when {name} is null then 0 else 8 end")
    return " + ".join(parts) or "0"


def _day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def estimate(warehouse: DuckDBWarehouse, params: Params) -> dict[str, Any]:
    """Bytes per statement and in all for one run with `params` (since, until, scan_from, recent_from, score_since)."""
    by_statement: dict[str, int] = {}
    sizes: dict[str, str] = {}
    for statement, table, column, lower, upper in READS:
        sizes.setdefault(table, _row_bytes(warehouse, table))
        where, args = "true", {}
        if column is not None and lower is not None:
            # A partition is a whole day: pruning keeps every day the bounds touch.
            where = f"{column} >= $lo"
            args["lo"] = _day(lower(params))
            if upper is not None:
                where += f" and {column} < $hi"
                args["hi"] = _day(upper(params)) + DAY
                if args["hi"] <= args["lo"] or upper(params) <= lower(params):
                    continue
        (row,) = warehouse.sql(f"select coalesce(sum({sizes[table]}), 0) as b from {table} where {where}", args)
        by_statement[statement] = by_statement.get(statement, 0) + int(row["b"])
    return {
        "total_mb": round(sum(by_statement.values()) / 1e6, 1),
        "by_statement_mb": {k: round(v / 1e6, 2) for k, v in by_statement.items()},
    }
