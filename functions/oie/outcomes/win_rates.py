"""Win rates: the weeks a report covers, the rows the dashboard shows and the CSV exports."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from oie.errors import InputError
from oie.ports import Warehouse

MAX_WEEKS = 26
Dimension = Literal["source", "geo", "intent_level"]
COLUMNS = ("dimension", "leads_entered", "appointments", "won", "lost", "win_rate", "partial")
# ASCII digits, at most 7 (so any value fits a 64-bit query parameter): "²".isdigit() is True.
_WHOLE = re.compile(r"[0-9]{1,7}")


def last_complete_week(now: datetime) -> date:
    """The Monday of the ISO week before the one `now` is in."""
    today = now.date()
    return today - timedelta(days=today.weekday() + 7)


def week_range(now: datetime, weeks: int) -> tuple[date, date]:
    """The first and last Monday of the `weeks` complete weeks before now."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"weeks is between 1 and {MAX_WEEKS}", field="weeks")
    last = last_complete_week(now)
    return last - timedelta(weeks=weeks - 1), last


@dataclass(frozen=True)
class WinRateQuery:
    by: Dimension
    weeks: int = 12
    intent_type: str = ""
    min_denominator: int = 0

    @classmethod
    def from_args(cls, by: str, args: dict[str, str]) -> WinRateQuery:
        """Parse query-string filters, naming the field of any bad one."""
        if by not in ("source", "geo", "intent_level"):
            raise InputError("by is source, geo or intent_level", field="by")
        values: dict[str, int] = {}
        for name, default in (("weeks", 12), ("min_denominator", 0)):
            raw = args.get(name, str(default))
            if not _WHOLE.fullmatch(raw):
                raise InputError(f"{name} is a whole number", field=name)
            values[name] = int(raw)
        if not 1 <= values["weeks"] <= MAX_WEEKS:
            raise InputError(f"weeks is between 1 and {MAX_WEEKS}", field="weeks")
        return cls(
            by=cast(Dimension, by),
            weeks=values["weeks"],
            intent_type=args.get("intent_type", "")[:80],
            min_denominator=values["min_denominator"],
        )


def current_week(now: datetime) -> datetime:
    """00:00 UTC on the Monday of the week `now` is in: the week the weekly job has not aggregated yet."""
    return datetime.combine(last_complete_week(now) + timedelta(weeks=1), time(), UTC)


def win_rates(warehouse: Warehouse, tenant_id: str, query: WinRateQuery, now: datetime) -> list[dict[str, Any]]:
    """The rows for one tenant: the dashboard table and the CSV export are these rows.

    The `weeks` complete weeks, plus the current week so far; `partial` marks a row that
    includes it (its numbers will still change until the week ends).
    """
    from_week, to_week = week_range(now, query.weeks)
    rows = warehouse.query(
        "win_rates_by_intent_level" if query.by == "intent_level" else "win_rates_by_dimension",
        {
            "by": query.by,
            "tenant_id": tenant_id,
            "from_week": from_week,
            "to_week": to_week,
            "from_at": datetime.combine(from_week, time(), UTC),
            "partial_from": current_week(now),
            "until": now,
            "intent_type": query.intent_type,
            "min_denominator": query.min_denominator,
        },
    )
    return [{c: bool(row.get(c)) if c == "partial" else row.get(c) for c in COLUMNS} for row in rows]


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return round(value, 4) if isinstance(value, float) else value
