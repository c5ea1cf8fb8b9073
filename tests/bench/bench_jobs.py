"""The warehouse jobs on DuckDB: one incremental sessionize + score run after one more hour
of events, at 1x and 4x history (1x = ~1.2M events / 100k leads, tests/bench/synthetic.py).

Target (issue 14): the run at 4x takes at most 1.3x as long as at 1x, and its rows scanned
do not grow. Per scale the history is built as production builds it (weekly sessionize +
score runs), the same one-hour batch added, and the file kept under bench-results/ (keyed
by the generator and the build, see `_fingerprint`, so a second `make bench` skips it). Then, interleaved
1x / 4x, REPEATS runs of sessionize + score on fresh copies (medians); one more run with
DuckDB's profiler gives the rows each statement's table scans produced (EXPLAIN ANALYZE's
figure); and the same hour plus one event 72 h late. BigQuery bytes: tests/bench/bq_bytes.py.

OIE_BENCH_SCALE="1,4" (default), OIE_BENCH_REPEATS (default 5).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
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
from oie.jobs.context import EPOCH, Window
from oie.jobs.score import score
from oie.jobs.sessionize import sessionize
from tests.bench import bq_bytes, synthetic

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "bench-results"
REPEATS = int(os.environ.get("OIE_BENCH_REPEATS", "5"))
SETTLE = timedelta(seconds=60)
LATE_BY = timedelta(hours=72)
# The windows the runner would give the hour after the history: sessionize stops a minute
# short of its `now`; score reads up to sessionize's start (what its MERGE stamps).
HOUR_SESSIONIZE = Window(since=synthetic.NOW, until=synthetic.HOUR_END, now=synthetic.HOUR_END + SETTLE)
HOUR_SCORE = Window(
    since=synthetic.NOW + SETTLE, until=HOUR_SESSIONIZE.now, now=HOUR_SESSIONIZE.now + timedelta(seconds=5)
)
_PROFILING = json.dumps({"OPERATOR_CARDINALITY": "true", "OPERATOR_NAME": "true", "EXTRA_INFO": "true"})


class Measured:
    """The warehouse port; each named statement timed and, when `profile_dir` is set, profiled."""

    def __init__(self, inner: DuckDBWarehouse, profile_dir: Path | None = None) -> None:
        self.inner = inner
        self.profile_dir = profile_dir
        self.times: dict[str, float] = {}
        self.scanned: dict[str, dict[str, int]] = {}

    def _run(self, name: str, call: Any) -> Any:
        if self.profile_dir is not None:
            out = self.profile_dir / f"{name}.json"
            with self.inner.connect() as db:
                db.execute(f"set custom_profiling_settings = '{_PROFILING}'")
                db.execute("pragma enable_profiling = 'json'")
                db.execute(f"pragma profiling_output = '{out}'")
        start = time.perf_counter()
        try:
            return call()
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start
            if self.profile_dir is not None:
                with self.inner.connect() as db:
                    db.execute("pragma disable_profiling")
                self.scanned[name] = _scans(json.loads((self.profile_dir / f"{name}.json").read_text()))

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._run(name, lambda: self.inner.query(name, params))  # type: ignore[no-any-return]

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        return self._run(name, lambda: self.inner.execute(name, params))  # type: ignore[no-any-return]


def _scans(node: dict[str, Any], into: dict[str, int] | None = None) -> dict[str, int]:
    """Rows out of each table scan of a profile, by table (after the filters pushed into the scan)."""
    into = {} if into is None else into
    if node.get("operator_type") == "TABLE_SCAN":
        table = str(node.get("extra_info", {}).get("Table", "?"))
        into[table] = into.get(table, 0) + int(node.get("operator_cardinality", 0))
    for child in node.get("children", []):
        _scans(child, into)
    return into


def _open(path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path, keep_open=3600)
    warehouse.migrate()
    warehouse.sql("set enable_progress_bar = false")
    return warehouse


def _fingerprint() -> str:
    """The generator and the build: what decides the history's rows.

    Not the SQL: the jobs' results are pinned by the golden tests (an SQL change that
    changes them fails there first), and `_open` migrates a cached file to the current
    schema and views, so a cost-only change to the jobs is measured on the same history.
    """
    digest = hashlib.sha256(Path(synthetic.__file__).read_bytes())
    digest.update(inspect.getsource(_build).encode())
    return digest.hexdigest()[:12]


def _build(scale: float, path: Path) -> dict[str, Any]:
    """History, its weekly runs (rows appended in the order they happen) and the hour batch, into `path`."""
    work = path.with_suffix(".building")
    work.unlink(missing_ok=True)
    warehouse = _open(work)
    with warehouse.connect() as db:
        history = synthetic.build_history(db, scale)
    first = synthetic.NOW - timedelta(days=synthetic.HISTORY_DAYS + 1)
    edges = [EPOCH, *(first + timedelta(days=7 * k) for k in range(1, synthetic.HISTORY_DAYS // 7 + 2))]
    edges = [e for e in edges if e < synthetic.NOW] + [synthetic.NOW]
    score_since = EPOCH
    for since, until in itertools.pairwise(edges):
        sessionize(warehouse, Window(since=since, until=until, now=until + SETTLE))
        score(warehouse, Window(since=score_since, until=until + SETTLE, now=until + SETTLE))
        score_since = until + SETTLE
    with warehouse.connect() as db:
        history["hour_events"] = synthetic.add_hour(db)["events"]
    for table in ("sessions", "lead_profiles", "lead_aggregates"):
        history[table] = int(warehouse.sql(f"select count(*) as n from {table}")[0]["n"])
    warehouse.sql("checkpoint")
    warehouse.close()
    work.rename(path)
    path.with_suffix(".json").write_text(json.dumps(history))
    return history


def _snapshot(scale: float) -> tuple[Path, dict[str, Any]]:
    path = CACHE / f"jobs-{scale:g}x-{_fingerprint()}.duckdb"
    if path.exists():
        return path, json.loads(path.with_suffix(".json").read_text())
    CACHE.mkdir(exist_ok=True)
    start = time.perf_counter()
    history = _build(scale, path)
    print(f"  built the {scale:g}x history in {time.perf_counter() - start:.0f} s", flush=True)
    return path, history


def _late_event(warehouse: DuckDBWarehouse) -> None:
    """One event of the hour made LATE_BY late (it occurred then, arrives now): /track accepts 30 days."""
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


def _one_run(snapshot: Path, tmp: Path, *, profile: bool = False, late: bool = False) -> dict[str, Any]:
    work = tmp / "work.duckdb"
    shutil.copyfile(snapshot, work)
    inner = _open(work)
    if late:
        _late_event(inner)
    # Every run starts from an empty write-ahead log, as after the previous run's checkpoint,
    # and pays for its own checkpoint (timed below): where DuckDB's automatic checkpoint
    # would fall otherwise depends on what the migrate and the copy left in the log.
    inner.sql("checkpoint")
    (scope,) = inner.query("sessionize_scope", HOUR_SESSIONIZE.params()) if profile else ({},)
    profile_dir = tmp / "profiles" if profile else None
    if profile_dir is not None:
        profile_dir.mkdir(exist_ok=True)
    measured = Measured(inner, profile_dir)
    cpu = time.process_time()  # every DuckDB thread: steadier than wall time on a loaded machine
    start = time.perf_counter()
    sessions = sessionize(measured, HOUR_SESSIONIZE)
    middle = time.perf_counter()
    scored = score(measured, HOUR_SCORE)
    end = time.perf_counter()
    inner.sql("checkpoint")
    run: dict[str, Any] = {
        "sessionize_s": middle - start,
        "score_s": end - middle,
        "checkpoint_s": time.perf_counter() - end,
        "cpu_s": time.process_time() - cpu,
        "statements_ms": {k: round(v * 1000, 1) for k, v in measured.times.items()},
        "sessionize": {"rows_scanned": sessions.rows_scanned, **sessions.details},
        "score": scored.details,
    }
    if profile:
        run["scan_rows"] = measured.scanned
        params = {**HOUR_SESSIONIZE.params(), **scope, "score_since": HOUR_SCORE.since}
        run["bigquery"] = bq_bytes.estimate(inner, params)
    inner.close()
    work.unlink()
    return run


def _total(run: dict[str, Any]) -> float:
    """A run's wall time: sessionize, score and the checkpoint that makes their writes durable."""
    return float(run["sessionize_s"] + run["score_s"] + run["checkpoint_s"])


def _total_rows(scan_rows: dict[str, dict[str, int]], table: str) -> int:
    return sum(statement.get(table, 0) for statement in scan_rows.values())


def run() -> dict[str, Any]:
    scales = [float(s) for s in os.environ.get("OIE_BENCH_SCALE", "1,4").split(",") if s.strip()]
    snapshots = {scale: _snapshot(scale) for scale in scales}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="oie-bench-jobs-") as tmp_dir:
        tmp = Path(tmp_dir)
        runs: dict[float, list[dict[str, Any]]] = {scale: [] for scale in scales}
        for _ in range(REPEATS):  # interleaved, so a burst of load hits both scales alike
            for scale in scales:
                runs[scale].append(_one_run(snapshots[scale][0], tmp))
        for scale in scales:
            profiled = _one_run(snapshots[scale][0], tmp, profile=True)
            late = _one_run(snapshots[scale][0], tmp, profile=True, late=True)
            r = runs[scale]
            results[f"{scale:g}x"] = {
                "history": snapshots[scale][1],
                "sessionize_ms": round(statistics.median(x["sessionize_s"] for x in r) * 1000, 1),
                "score_ms": round(statistics.median(x["score_s"] for x in r) * 1000, 1),
                "checkpoint_ms": round(statistics.median(x["checkpoint_s"] for x in r) * 1000, 1),
                "total_ms": round(statistics.median(_total(x) for x in r) * 1000, 1),
                "best_ms": round(min(_total(x) for x in r) * 1000, 1),
                "cpu_ms": round(statistics.median(x["cpu_s"] for x in r) * 1000, 1),
                "runs_ms": [round(_total(x) * 1000, 1) for x in r],
                "statements_ms": {
                    k: statistics.median(x["statements_ms"][k] for x in r) for k in r[0]["statements_ms"]
                },
                "details": {"sessionize": r[-1]["sessionize"], "score": r[-1]["score"]},
                "scan_rows": profiled["scan_rows"],
                "bigquery": profiled["bigquery"],
                "late": {
                    "total_ms": round(_total(late) * 1000, 1),
                    "rows_scanned": late["sessionize"]["rows_scanned"],
                    "scan_rows": late["scan_rows"],
                    "bigquery": late["bigquery"],
                },
            }
            _print(scale, results[f"{scale:g}x"])
    if len(scales) > 1:
        results["ratio"] = _ratios(results[f"{scales[0]:g}x"], results[f"{scales[-1]:g}x"])
        print(f"{scales[-1]:g}x / {scales[0]:g}x: " + ", ".join(f"{k} x{v}" for k, v in results["ratio"].items()))
    return results


def _print(scale: float, r: dict[str, Any]) -> None:
    h, d = r["history"], r["details"]
    print(
        f"{scale:g}x: {h['events']:,} events, {h['leads']:,} leads, {h['sessions']:,} sessions, "
        f"{h['lead_aggregates']:,} settled (lead, visitor) totals; +1h = {h['hour_events']:,} events",
        flush=True,
    )
    print(
        f"  incremental run, median of {REPEATS}: sessionize {r['sessionize_ms']} ms + score {r['score_ms']} ms "
        f"+ checkpoint {r['checkpoint_ms']} ms = {r['total_ms']} ms (best {r['best_ms']} ms, CPU {r['cpu_ms']} ms; "
        f"runs {r['runs_ms']}); {d['sessionize']['rows_scanned']:,} events rows scanned, "
        f"{d['score']['rescored']:,} leads rescored"
    )
    for label, rows in (("rows out of table scans", r["scan_rows"]), ("  +1 late event", r["late"]["scan_rows"])):
        tables = sorted({t for s in rows.values() for t in s})
        print(f"  {label}: " + ", ".join(f"{t} {_total_rows(rows, t):,}" for t in tables))
    print(
        f"  +1 event {LATE_BY.total_seconds() / 3600:g} h late: {r['late']['total_ms']} ms, "
        f"{r['late']['rows_scanned']:,} events rows scanned"
    )
    print(
        f"  BigQuery estimate: {r['bigquery']['total_mb']} MB a run ({r['late']['bigquery']['total_mb']} MB with the late event)"
    )
    print("  statements (ms): " + ", ".join(f"{k} {v}" for k, v in r["statements_ms"].items()))


def _ratios(lo: dict[str, Any], hi: dict[str, Any]) -> dict[str, float]:
    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("inf")

    return {
        "history_events": ratio(hi["history"]["events"], lo["history"]["events"]),
        "run_time": ratio(hi["total_ms"], lo["total_ms"]),
        "run_time_best": ratio(hi["best_ms"], lo["best_ms"]),
        "run_cpu": ratio(hi["cpu_ms"], lo["cpu_ms"]),
        "sessionize_time": ratio(hi["sessionize_ms"], lo["sessionize_ms"]),
        "score_time": ratio(hi["score_ms"], lo["score_ms"]),
        "events_rows_scanned": ratio(
            hi["details"]["sessionize"]["rows_scanned"], lo["details"]["sessionize"]["rows_scanned"]
        ),
        "sessions_scan_rows": ratio(_total_rows(hi["scan_rows"], "sessions"), _total_rows(lo["scan_rows"], "sessions")),
        "late_events_rows_scanned": ratio(hi["late"]["rows_scanned"], lo["late"]["rows_scanned"]),
        "bigquery_bytes": ratio(hi["bigquery"]["total_mb"], lo["bigquery"]["total_mb"]),
        "bigquery_bytes_late": ratio(hi["late"]["bigquery"]["total_mb"], lo["late"]["bigquery"]["total_mb"]),
    }
