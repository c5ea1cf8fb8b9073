"""The score over days, from the daily snapshots (lead_score_history), read forward."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

TREND_DAYS = 7
# How far back a snapshot still says what the score was on the window's first day: the score
# job writes a row whenever a score changes, and recency changes at least every 30 days.
CARRY_DAYS = 31


class ScorePoint(BaseModel):
    """The score a lead had at the end of one day; None before its first snapshot."""

    model_config = ConfigDict(frozen=True)

    day: date
    score: float | None
    level: str | None


class Snapshot(BaseModel):
    """One lead_score_history row."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    day: date
    score: float
    level: str


def daily_series(snapshots: Iterable[Snapshot], first: date, last: date) -> list[ScorePoint]:
    """One point per day from `first` to `last`: the latest snapshot on or before that day."""
    ordered = sorted(snapshots, key=lambda s: s.day)
    points: list[ScorePoint] = []
    current: Snapshot | None = None
    index = 0
    day = first
    while day <= last:
        while index < len(ordered) and ordered[index].day <= day:
            current = ordered[index]
            index += 1
        points.append(
            ScorePoint(day=day, score=current.score if current else None, level=current.level if current else None)
        )
        day += timedelta(days=1)
    return points


def trend_window(today: date, days: int = TREND_DAYS) -> tuple[date, date]:
    """The `days` days ending today."""
    return today - timedelta(days=days - 1), today


def change(points: list[ScorePoint]) -> float | None:
    """Last known score minus the first known one in the series (None with fewer than one)."""
    known = [p.score for p in points if p.score is not None]
    return round(known[-1] - known[0], 1) if known else None
