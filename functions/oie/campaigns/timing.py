"""Time rules of plans: ISO 8601 durations and quiet hours, in the contact's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Weeks, days, hours, minutes, seconds. Years and months are refused: their length varies.
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Duration:
    """Calendar days (added on the contact's wall clock) plus exact seconds."""

    days: int = 0
    seconds: int = 0

    @property
    def is_zero(self) -> bool:
        return self.days == 0 and self.seconds == 0

    def approx(self) -> timedelta:
        return timedelta(days=self.days, seconds=self.seconds)


def parse_duration(text: str) -> Duration:
    """`P3D`, `PT12H`, `P1W2DT30M` …; raises ValueError naming what is wrong."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an ISO 8601 duration like P3D or PT4H (years and months are not allowed)")
    part = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return Duration(
        days=part["weeks"] * 7 + part["days"],
        seconds=part["hours"] * 3600 + part["minutes"] * 60 + part["seconds"],
    )


def zone(name: str) -> ZoneInfo:
    """The IANA time zone; raises ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone like America/Los_Angeles") from None


def parse_clock(text: str) -> time:
    match = _CLOCK.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a time of day like 07:30")
    return time(int(match.group(1)), int(match.group(2)))


def add_duration(at: datetime, duration: Duration, tz: ZoneInfo) -> datetime:
    """`at` plus a duration: days on the wall clock of `tz` (so P1D keeps 9:00 at 9:00 across DST)."""
    local = at.astimezone(tz)
    if duration.days:
        wall = local.replace(tzinfo=None) + timedelta(days=duration.days)
        local = _localize(wall, tz)
    return (local.astimezone(UTC) + timedelta(seconds=duration.seconds)).astimezone(UTC)


def _localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in `tz`; one that a DST jump skips becomes the first real instant after."""
    candidate = wall.replace(tzinfo=tz)
    if candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        # In the spring-forward gap: fold=0 reads it with the old offset, which lands after the gap.
        return candidate.astimezone(UTC).astimezone(tz)
    return candidate


@dataclass(frozen=True)
class QuietHours:
    """No sends from `start` to `end` local time; `start > end` spans midnight (21:00-07:30)."""

    start: time
    end: time

    def is_quiet(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime, tz: ZoneInfo) -> datetime:
        """`at` itself when sending is allowed, else the first minute after quiet hours end."""
        local = at.astimezone(tz)
        if not self.is_quiet(local.time().replace(tzinfo=None)):
            return at.astimezone(UTC)
        day = local.date()
        # Quiet since the evening: it ends tomorrow morning; quiet after midnight: this morning.
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        end = _localize(datetime.combine(day, self.end), tz)
        return end.astimezone(UTC)
