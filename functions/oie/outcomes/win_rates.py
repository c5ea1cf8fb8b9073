"""Win rates: the weeks a report covers, the rows the dashboard shows and the CSV exports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from oie.errors import InputError
from oie.ports import Warehouse

MAX_WEEKS = 26
Dimension = Literal["source", "geo", "intent_level"]
COLUMNS = ("dimension", "leads_entered", "appointments", "won", "lost", "win_rate")


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
            if not raw.isdigit():
                raise InputError(f"{name} is a whole number", field=name)
            values[name] = int(raw)
        return cls(
            by=cast(Dimension, by),
            weeks=values["weeks"],
            intent_type=args.get("intent_type", "")[:80],
            min_denominator=values["min_denominator"],
        )


def win_rates(warehouse: Warehouse, tenant_id: str, query: WinRateQuery, now: datetime) -> list[dict[str, Any]]:
    """The rows for one tenant: the dashboard table and the CSV export are these rows."""
    from_week, to_week = week_range(now, query.weeks)
    rows = warehouse.query(
        f"win_rates_by_{query.by}",
        {
            "tenant_id": tenant_id,
            "from_week": from_week,
            "to_week": to_week,
            "intent_type": query.intent_type,
            "min_denominator": query.min_denominator,
        },
    )
    return [{c: row.get(c) for c in COLUMNS if c in row} for row in rows]


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()
