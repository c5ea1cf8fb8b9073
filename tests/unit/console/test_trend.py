"""The daily score series read forward from the snapshots."""

from __future__ import annotations

from datetime import date

from oie.console.trend import Snapshot, change, daily_series, trend_window


def snap(day: int, score: float, level: str = "warm") -> Snapshot:
    return Snapshot(day=date(2026, 3, day), score=score, level=level)


def test_a_day_without_a_snapshot_keeps_the_score_before_it():
    first, last = trend_window(date(2026, 3, 10))
    points = daily_series([snap(9, 70.0, "hot"), snap(1, 40.0), snap(6, 55.0)], first, last)
    assert first == date(2026, 3, 4)
    assert [p.score for p in points] == [40.0, 40.0, 55.0, 55.0, 55.0, 70.0, 70.0]
    assert points[-1].level == "hot"
    assert change(points) == 30.0


def test_days_before_the_first_snapshot_are_unknown():
    points = daily_series([snap(9, 62.5)], date(2026, 3, 8), date(2026, 3, 10))
    assert [p.score for p in points] == [None, 62.5, 62.5]
    assert change(points) == 0.0


def test_no_snapshot_no_change():
    assert change(daily_series([], date(2026, 3, 8), date(2026, 3, 10))) is None
