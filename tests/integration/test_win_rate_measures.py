"""win_rate_measures (one model for both win-rate aggregates) on DuckDB: ISO weeks cut at
Monday 00:00 UTC, a lead entered once in the week of its first outcome, and the source and
geo aggregates fed from the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.outcomes.jobs import aggregate_week
from tests.conftest import migrated_copy

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
NOW = MONDAY + timedelta(days=14)


def _outcome(n: int, lead: str, at: datetime, stage: str, source: str = "linkedin", geo: str = "de") -> dict[str, Any]:
    return {
        "outcome_id": f"o{n}",
        "tenant_id": "t1",
        "lead_id": lead,
        "created_at": at,
        "occurred_at": at,
        "outcome_type": stage,
        "outcome_stage": stage,
        "recorded_by": "test",
        "source_key": source,
        "geo_key": geo,
        "intent_type": "pricing",
        "intent_level": "hot",
    }


def _warehouse(tmp_path: Path, template: Path) -> DuckDBWarehouse:
    migrated_copy(template, tmp_path / "w.duckdb")
    return DuckDBWarehouse(tmp_path / "w.duckdb")


def test_weeks_are_cut_at_monday_midnight_utc_and_a_lead_enters_once(tmp_path, duckdb_template):
    warehouse = _warehouse(tmp_path, duckdb_template)
    sunday_night = MONDAY + timedelta(days=6, hours=23, minutes=59, seconds=59)
    warehouse.insert_rows(
        "lead_outcomes",
        [
            _outcome(1, "lead_a", MONDAY, "contacted"),
            _outcome(2, "lead_a", sunday_night, "won"),
            _outcome(3, "lead_b", MONDAY - timedelta(seconds=1), "contacted", geo="fr"),
            _outcome(4, "lead_b", MONDAY + timedelta(days=7), "lost", geo="fr"),
            _outcome(5, "lead_c", MONDAY + timedelta(days=7), "mid_funnel"),
        ],
        id_field="outcome_id",
    )
    for week in (MONDAY - timedelta(days=7), MONDAY, MONDAY + timedelta(days=7)):
        aggregate_week(warehouse, week.date(), NOW)
    by_source = warehouse.sql(
        "select week_start, source_key, leads_entered, appointments, won, lost, win_rate "
        "from agg_source_win_rates order by week_start"
    )
    assert by_source == [
        # lead_b's first outcome, one second before the Monday
        {"week_start": date(2026, 2, 23), "source_key": "linkedin", "leads_entered": 1, "appointments": 0,
         "won": 0, "lost": 0, "win_rate": None},
        # lead_a entered and won in the same week (its win one second before the next Monday)
        {"week_start": date(2026, 3, 2), "source_key": "linkedin", "leads_entered": 1, "appointments": 0,
         "won": 1, "lost": 0, "win_rate": 1.0},
        # lead_b lost (entered earlier, so not again), lead_c entered with an appointment
        {"week_start": date(2026, 3, 9), "source_key": "linkedin", "leads_entered": 1, "appointments": 1,
         "won": 0, "lost": 1, "win_rate": 0.0},
    ]  # fmt: skip
    by_geo = warehouse.sql(
        "select week_start, geo_key, leads_entered, won, lost from agg_local_win_rates order by week_start, geo_key"
    )
    assert by_geo == [
        {"week_start": date(2026, 2, 23), "geo_key": "fr", "leads_entered": 1, "won": 0, "lost": 0},
        {"week_start": date(2026, 3, 2), "geo_key": "de", "leads_entered": 1, "won": 1, "lost": 0},
        {"week_start": date(2026, 3, 9), "geo_key": "de", "leads_entered": 1, "won": 0, "lost": 0},
        {"week_start": date(2026, 3, 9), "geo_key": "fr", "leads_entered": 0, "won": 0, "lost": 1},
    ]
    warehouse.close()
