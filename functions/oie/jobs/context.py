"""What a job run knows: its time window, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The run's slice of time: (since, until], and the `now` scores are computed at."""

    since: datetime
    until: datetime
    now: datetime

    @classmethod
    def over_events(cls, watermark: datetime | None, now: datetime, settle: timedelta) -> Window:
        """The next window over streamed rows (events).

        /track stamps an event before writing it, so a run reading up to `now` could miss
        a row stamped just before and visible just after: runs stop `settle` short.
        """
        since = watermark or EPOCH
        return cls(since=since, until=max(now - settle, since), now=now)

    @classmethod
    def over_upstream(cls, watermark: datetime | None, now: datetime, upstream: datetime | None) -> Window:
        """The next window over rows another job's MERGE stamped: complete up to its last run."""
        since = watermark or EPOCH
        return cls(since=since, until=max(min(upstream or since, now), since), now=now)

    def params(self) -> dict[str, datetime]:
        return {"since": self.since, "until": self.until, "now": self.now}


@dataclass
class JobResult:
    """What a run did: rows written, rows scanned, how far it got, anything else worth keeping."""

    rows_written: int = 0
    rows_scanned: int = 0
    watermark: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
