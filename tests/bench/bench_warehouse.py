"""The warehouse jobs on DuckDB: one incremental sessionize + score run after one more hour
of events, over a synthetic history at several scales (1x = ~1M events / 100k leads).

A run's work should track the new data, not the history: the incremental times at 4x
should be close to those at 1x. Per scale: build the history (tests/bench/synthetic.py),
run the real jobs once over all of it (the "initial full run"), add the same one-hour
batch, snapshot the file, then time ONE incremental sessionize and ONE score run on fresh
copies of the snapshot (median of REPEATS). Also reported: rows scanned (sessionize's own
figure; for score, the sessions rows of the affected leads, and the table sizes its
statements read without a bound), and the time of every statement of both jobs.

OIE_BENCH_SCALE="1,4" (default); "10" is the 10M events / 1M leads target (by hand: the
history alone takes minutes). OIE_BENCH_REPEATS (default 3).
"""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.jobs.context import EPOCH, JobResult, Window
from oie.jobs.score import score
from oie.jobs.sessionize import sessionize
from tests.bench import synthetic

REPEATS = int(os.environ.get("OIE_BENCH_REPEATS", "3"))
LATE_BY = timedelta(days=3)

# The initial run: everything up to NOW. The incremental run: the hour after it. The
# windows are the ones the runner would give (built here by hand, not through Window's
# constructors, so the bench does not follow their signature): sessionize stops a minute
# short of its `now`; score reads up to the time of sessionize's last run, which is what
# sessionize's MERGE stamps as sessions.updated_at.
SETTLE = timedelta(seconds=60)
INITIAL_SESSIONIZE = Window(since=EPOCH, until=synthetic.NOW, now=synthetic.NOW + SETTLE)
INITIAL_SCORE = Window(since=EPOCH, until=INITIAL_SESSIONIZE.now, now=INITIAL_SESSIONIZE.now)
HOUR_SESSIONIZE = Window(since=synthetic.NOW, until=synthetic.HOUR_END, now=synthetic.HOUR_END + SETTLE)
HOUR_SCORE = Window(
    since=INITIAL_SCORE.until, until=HOUR_SESSIONIZE.now, now=HOUR_SESSIONIZE.now + timedelta(seconds=5)
)


class TimedWarehouse:
    """The warehouse port with the time of each named statement recorded."""

    def __init__(self, inner: DuckDBWarehouse) -> None:
        self.inner = inner
        self.times: dict[str, float] = {}

    def _timed(self, name: str, call: Any) -> Any:
        start = time.perf_counter()
        try:
            return call()
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._timed(name, lambda: self.inner.query(name, params))  # type: ignore[no-any-return]

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        return self._timed(name, lambda: self.inner.execute(name, params))  # type: ignore[no-any-return]


def _scales() -> list[float]:
    raw = os.environ.get("OIE_BENCH_SCALE", "1,4")
    return [float(s) for s in raw.split(",") if s.strip()]


def _one(warehouse: DuckDBWarehouse, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    (row,) = warehouse.sql(sql, params)
    return next(iter(row.values()))


def _open(path: Path) -> DuckDBWarehouse:
    """The adapter on `path`, its connection kept for the whole bench, without DuckDB's progress bar."""
    warehouse = DuckDBWarehouse(path, keep_open=3600)
    warehouse.sql("set enable_progress_bar = false")
    return warehouse


def _copy(src: Path, dst: Path) -> None:
    for suffix in ("", ".wal"):
        target = Path(f"{dst}{suffix}")
        if target.exists():
            target.unlink()
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", target)


def _timed_job(job: Any, warehouse: Any, window: Window) -> tuple[float, JobResult]:
    start = time.perf_counter()
    result = job(warehouse, window)
    return time.perf_counter() - start, result


def _score_reads(warehouse: DuckDBWarehouse, window: Window) -> dict[str, int]:
    """What score_leads needs: the sessions rows of the leads whose sessions changed."""
    params = {"since": window.since, "until": window.until}
    row = warehouse.sql(
        """
        with affected as (
          select distinct tenant_id, lead_id from sessions
          where updated_at > $since and updated_at <= $until and lead_id is not null
        )
        select (select count(*) from affected) as affected_leads,
               (select count(*) from sessions as s join affected as a using (tenant_id, lead_id)) as sessions_read
        """,
        params,
    )[0]
    return {k: int(v) for k, v in row.items()}


def _late_event_probe(snapshot: Path, work: Path) -> dict[str, Any]:
    """The same hour plus ONE event that occurred LATE_BY before it was received (/track accepts
    up to 30 days): sessionize's events scan starts at the earliest visitor's scan start."""
    _copy(snapshot, work)
    warehouse = _open(work)
    warehouse.sql(
        """
        insert into events by name
        select * replace (event_id || '-late' as event_id, occurred_at - $late_by as occurred_at)
        from events
        where received_at > $since and received_at <= $until and not is_bot
        order by event_id
        limit 1
        """,
        {"late_by": LATE_BY, "since": HOUR_SESSIONIZE.since, "until": HOUR_SESSIONIZE.until},
    )
    timed = TimedWarehouse(warehouse)
    seconds, result = _timed_job(sessionize, timed, HOUR_SESSIONIZE)
    warehouse.close()
    work.unlink()
    return {
        "late_by_hours": LATE_BY.total_seconds() / 3600,
        "sessionize_ms": round(seconds * 1000, 1),
        "rows_scanned": result.rows_scanned,
        "statements_ms": {k: round(v * 1000, 1) for k, v in timed.times.items()},
    }


def _build_state(timed: TimedWarehouse) -> tuple[float, JobResult, float, JobResult]:
    """Sessions and scores for the whole history, built as production builds them: run
    after run (a week at a time here), so rows are appended in the order they happened,
    as they are when the jobs run every few minutes. Returns the summed times and results."""
    first = synthetic.NOW - timedelta(days=synthetic.HISTORY_DAYS + 1)
    edges = [EPOCH, *(first + timedelta(days=7 * k) for k in range(1, synthetic.HISTORY_DAYS // 7 + 2))]
    edges = [e for e in edges if e < synthetic.NOW] + [synthetic.NOW]
    sessionize_s = score_s = 0.0
    sessions = JobResult()
    scored = JobResult()
    score_since = EPOCH
    for since, until in itertools.pairwise(edges):
        window = Window(since=since, until=until, now=until + SETTLE)
        took, result = _timed_job(sessionize, timed, window)
        sessionize_s += took
        sessions.rows_scanned += result.rows_scanned
        sessions.rows_written += result.rows_written
        took, result = _timed_job(score, timed, Window(since=score_since, until=window.now, now=window.now))
        score_since = window.now
        score_s += took
        scored.rows_written += result.rows_written
    sessions.details = {"runs": len(edges) - 1}
    scored.details = {"runs": len(edges) - 1}
    return sessionize_s, sessions, score_s, scored


def _scale(scale: float, tmp: Path) -> dict[str, Any]:
    label = f"{scale:g}x"
    path = tmp / f"history-{label}.duckdb"
    warehouse = _open(path)
    warehouse.migrate()
    start = time.perf_counter()
    with warehouse.connect() as db:
        history = synthetic.build_history(db, scale)
    generated_s = time.perf_counter() - start

    initial_timed = TimedWarehouse(warehouse)
    initial_sessionize_s, initial, initial_score_s, initial_scored = _build_state(initial_timed)
    sessions = int(_one(warehouse, "select count(*) from sessions"))
    profiles = int(_one(warehouse, "select count(*) from lead_profiles"))
    with warehouse.connect() as db:
        hour = synthetic.add_hour(db)
    warehouse.close()
    snapshot = tmp / f"snapshot-{label}.duckdb"
    _copy(path, snapshot)
    path.unlink()
    size_mb = snapshot.stat().st_size / 1e6

    runs: list[dict[str, Any]] = []
    for _ in range(REPEATS):
        work = tmp / f"work-{label}.duckdb"
        _copy(snapshot, work)
        inner = _open(work)
        timed = TimedWarehouse(inner)
        sessionize_s, result = _timed_job(sessionize, timed, HOUR_SESSIONIZE)
        score_s, scored = _timed_job(score, timed, HOUR_SCORE)
        runs.append(
            {
                "sessionize_s": sessionize_s,
                "score_s": score_s,
                "statements_s": dict(timed.times),
                "sessionize": {"rows_scanned": result.rows_scanned, **result.details},
                "score": scored.details,
                "reads": _score_reads(inner, HOUR_SCORE),
            }
        )
        inner.close()
        work.unlink()

    late = _late_event_probe(snapshot, tmp / f"late-{label}.duckdb")

    statements = {
        name: round(statistics.median(r["statements_s"][name] for r in runs) * 1000, 1)
        for name in runs[0]["statements_s"]
    }
    last = runs[-1]
    return {
        "scale": scale,
        "events": history["events"],
        "visitors": history["visitors"],
        "leads": history["leads"],
        "sessions": sessions,
        "lead_profiles": profiles,
        "file_mb": round(size_mb, 1),
        "history_generated_s": round(generated_s, 2),
        "initial": {
            "sessionize_s": round(initial_sessionize_s, 2),
            "score_s": round(initial_score_s, 2),
            "sessionize": {"rows_scanned": initial.rows_scanned, **initial.details},
            "score": initial_scored.details,
            "statements_ms": {k: round(v * 1000, 1) for k, v in initial_timed.times.items()},
        },
        "hour": hour,
        "incremental": {
            "sessionize_ms": round(statistics.median(r["sessionize_s"] for r in runs) * 1000, 1),
            "score_ms": round(statistics.median(r["score_s"] for r in runs) * 1000, 1),
            "sessionize_best_ms": round(min(r["sessionize_s"] for r in runs) * 1000, 1),
            "score_best_ms": round(min(r["score_s"] for r in runs) * 1000, 1),
            "sessionize_runs_ms": [round(r["sessionize_s"] * 1000, 1) for r in runs],
            "score_runs_ms": [round(r["score_s"] * 1000, 1) for r in runs],
            "sessionize_rows_scanned": last["sessionize"]["rows_scanned"],
            "sessionize": last["sessionize"],
            "score": last["score"],
            "score_affected_leads": last["reads"]["affected_leads"],
            "score_sessions_rows_read": last["reads"]["sessions_read"],
            # what the statements read with no bound from the window (see the report)
            "score_unbounded_reads": {"sessions": sessions, "lead_profiles": profiles},
            "statements_ms": statements,
        },
        "late_event": late,
    }


def _print_scale(r: dict[str, Any]) -> None:
    i, n = r["initial"], r["incremental"]
    print(
        f"{r['scale']:g}x: {r['events']:,} events, {r['leads']:,} leads, {r['visitors']:,} visitors, "
        f"{r['sessions']:,} sessions, {r['lead_profiles']:,} profiles ({r['file_mb']} MB; "
        f"history generated in {r['history_generated_s']} s)",
        flush=True,
    )
    print(
        f"  initial full run: sessionize {i['sessionize_s']} s ({i['sessionize']['rows_scanned']:,} rows scanned), "
        f"score {i['score_s']} s (built in {i['score']['runs']} weekly runs each)"
    )
    print("  initial statements (ms): " + ", ".join(f"{k} {v}" for k, v in i["statements_ms"].items()))
    print(
        f"  +1h ({r['hour']['events']:,} events, {r['hour']['visitors']:,} visitors), median of {REPEATS}: "
        f"sessionize {n['sessionize_ms']} ms ({n['sessionize_rows_scanned']:,} events rows scanned, "
        f"{n['sessionize']['sessions']:,} sessions written); "
        f"score {n['score_ms']} ms ({n['score_sessions_rows_read']:,} sessions rows of "
        f"{n['score_affected_leads']:,} affected leads; {n['score']['recency_refreshed']:,} recency refreshed)"
    )
    print(f"  runs: sessionize {n['sessionize_runs_ms']} ms, score {n['score_runs_ms']} ms")
    late = r["late_event"]
    print(
        f"  same hour + 1 event {late['late_by_hours']:g} h late: sessionize {late['sessionize_ms']} ms "
        f"({late['rows_scanned']:,} events rows scanned)"
    )
    print("  statements (ms): " + ", ".join(f"{k} {v}" for k, v in n["statements_ms"].items()))


def run() -> dict[str, Any]:
    scales = _scales()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="oie-bench-wh-") as tmp:
        for scale in scales:
            result = _scale(scale, Path(tmp))
            _print_scale(result)
            results[f"{scale:g}x"] = result
    if len(scales) > 1:
        lo, hi = results[f"{scales[0]:g}x"], results[f"{scales[-1]:g}x"]
        ratio_label = f"{scales[-1]:g}x/{scales[0]:g}x"

        def ratio(a: float, b: float) -> float:
            return round(a / b, 2) if b else float("inf")

        li, hn = lo["incremental"], hi["incremental"]
        per_statement = {k: ratio(hn["statements_ms"][k], li["statements_ms"][k]) for k in li["statements_ms"]}
        ratios: dict[str, Any] = {
            "history_events": ratio(hi["events"], lo["events"]),
            "sessionize_time": ratio(hn["sessionize_ms"], li["sessionize_ms"]),
            "score_time": ratio(hn["score_ms"], li["score_ms"]),
            "sessionize_best_time": ratio(hn["sessionize_best_ms"], li["sessionize_best_ms"]),
            "score_best_time": ratio(hn["score_best_ms"], li["score_best_ms"]),
            "late_event_rows_scanned": ratio(hi["late_event"]["rows_scanned"], lo["late_event"]["rows_scanned"]),
            "sessionize_rows_scanned": ratio(hn["sessionize_rows_scanned"], li["sessionize_rows_scanned"]),
            "score_sessions_rows_read": ratio(hn["score_sessions_rows_read"], li["score_sessions_rows_read"]),
            "initial_sessionize_time": ratio(hi["initial"]["sessionize_s"], lo["initial"]["sessionize_s"]),
            "initial_score_time": ratio(hi["initial"]["score_s"], lo["initial"]["score_s"]),
            "statements": {k: ratio(hn["statements_ms"][k], li["statements_ms"][k]) for k in li["statements_ms"]},
        }
        results["ratio"] = {"of": ratio_label, **ratios}
        print(
            f"{ratio_label} (history x{ratios['history_events']}): incremental sessionize x{ratios['sessionize_time']}, "
            f"score x{ratios['score_time']} (best of {REPEATS}: x{ratios['sessionize_best_time']}, "
            f"x{ratios['score_best_time']}); rows scanned: sessionize x{ratios['sessionize_rows_scanned']}, "
            f"score sessions rows x{ratios['score_sessions_rows_read']}; initial full run: sessionize "
            f"x{ratios['initial_sessionize_time']}, score x{ratios['initial_score_time']}; "
            f"late-event run rows scanned x{ratios['late_event_rows_scanned']}"
        )
        print("  per statement: " + ", ".join(f"{k} x{v}" for k, v in per_statement.items()))
    return results
