"""The score job's running totals (lead_aggregates) give the scores a full recompute gives.

Randomized histories on DuckDB, run as production runs them: sessionize then score every
few hours or days, with late events (up to the 30 days /track accepts) and visitors who
are anonymous before their link. The profiles are then compared with (a) a fresh score run
over the same sessions with no running totals, and (b) the facts computed here in Python
from the sessions table, the definition of what score_leads must find.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.jobs.context import EPOCH, Window
from oie.jobs.score import score
from oie.jobs.sessionize import sessionize
from tests.factories import event_row, identity_row

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=80)
SETTLE = timedelta(seconds=60)
PATHS = ["/", "/pricing", "/case-studies/acme", "/product/tour", "/blog/a", "/demo"]
FACTS = (
    "sessions",
    "pageviews",
    "active_minutes",
    "scroll_milestones",
    "pricing_views",
    "case_study_views",
    "product_views",
    "forms_submitted",
    "videos_completed",
    "first_seen_at",
    "last_activity_at",
    "sessions_7d",
    "verified_sessions",
    "corroborated_sessions",
    "id_only_sessions",
    "evidence_level",
)
SCORES = (
    "recency_points",
    "frequency_points",
    "engagement_points",
    "high_intent_points",
    "conversion_points",
    "score",
    "level",
    "uncapped_level",
    "level_cap_reason",
)


def _open(path: Path) -> DuckDBWarehouse:
    warehouse = DuckDBWarehouse(path, keep_open=600)
    warehouse.migrate()
    return warehouse


def _session_events(rng: random.Random, vid: str, start: datetime, link: str | None, email: str) -> list[dict]:
    status = rng.choice(["verified", "verified", "unverified", "expired"]) if link else "anonymous"
    rows = []
    at = start
    for n in range(rng.randint(1, 5)):
        kind = "pageview" if n == 0 else rng.choice(["pageview", "scroll", "active_time", "form_submit", "video"])
        props: dict[str, Any] = {
            "scroll": {"depth": rng.choice([25, 50, 75])},
            "active_time": {"ms": rng.randint(1000, 300_000)},
            "video": {"action": rng.choice(["play", "complete"])},
            "form_submit": {"form_id": "demo"},
        }.get(kind, {})
        typed = email if kind == "form_submit" and not link and rng.random() < 0.5 else None
        # Mostly received within seconds; some arrive late, as a flushed queue does (up to 30 days).
        late = timedelta(seconds=rng.randint(1, 5))
        if rng.random() < 0.08:
            late = timedelta(hours=rng.uniform(1, 29 * 24))
        row = event_row("t1", vid, at, kind, rng.choice(PATHS), i=link, received=at + late, email=typed, **props)
        rows.append(row | {"identity_status": status})
        at += timedelta(seconds=rng.randint(20, 600))
    return rows


def _history(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """identity_map rows and events: a dozen visitors of six leads, a few never identified."""
    links = [identity_row("t1", f"link{n:04d}", f"lead_{n}", email=f"p{n}@example.com") for n in range(6)]
    events: list[dict] = []
    for v in range(12):
        lead = rng.randrange(8)  # 6 and 7: never identified
        at = START + timedelta(hours=rng.uniform(0, 70 * 24))
        anonymous_first = rng.randint(0, 2)
        for s in range(rng.randint(1, 6)):
            link = f"link{lead:04d}" if lead < 6 and s >= anonymous_first else None
            events += _session_events(rng, f"vis_{v}", at, link, f"p{lead}@example.com")
            at += timedelta(hours=rng.uniform(1, 14 * 24))
            if at > NOW - timedelta(hours=1):
                break
    return links, events


def _run_schedule(rng: random.Random) -> list[datetime]:
    """Run times from a day after the first event to NOW: hours apart, sometimes days."""
    times, at = [], START + timedelta(days=1)
    while at < NOW:
        times.append(at)
        at += timedelta(hours=rng.choice([3, 11, 30, 75, 150]))
    return [*times, NOW]


def _run(warehouse: DuckDBWarehouse, times: list[datetime]) -> datetime:
    """sessionize then score at each time, windows chained as the runner chains them; the last score `now`."""
    z_since = s_since = EPOCH
    score_now = EPOCH
    for at in times:
        sessionize(warehouse, Window(since=z_since, until=at - SETTLE, now=at))
        z_since = at - SETTLE
        score_now = at + timedelta(seconds=5)
        score(warehouse, Window(since=s_since, until=at, now=score_now))
        s_since = at
    return score_now


def _profiles(warehouse: DuckDBWarehouse, columns: tuple[str, ...]) -> dict[str, tuple]:
    rows = warehouse.sql(f"select lead_id, {', '.join(columns)} from lead_profiles order by lead_id")
    return {r["lead_id"]: tuple(r[c] for c in columns) for r in rows}


def _facts_from_sessions(warehouse: DuckDBWarehouse) -> dict[str, tuple]:
    """What score_leads must find, from every session of each lead (the definition, in Python)."""
    sessions = warehouse.sql("select * from sessions where lead_id is not null")
    by_lead: dict[str, list[dict]] = {}
    for s in sessions:
        by_lead.setdefault(s["lead_id"], []).append(s)
    rank = {"verified": 2, "corroborated": 1}
    facts = {}
    for lead, rows in by_lead.items():
        last = max(r["session_end"] for r in rows)
        visitor_rank: dict[str, int] = {}
        for r in rows:
            visitor_rank[r["visitor_id"]] = max(visitor_rank.get(r["visitor_id"], 0), rank.get(r["evidence"], 0))
        counted = [sum(1 for r in rows if visitor_rank[r["visitor_id"]] == k) for k in (2, 1, 0)]
        best = max(visitor_rank.values())
        facts[lead] = (
            len(rows),
            sum(r["pageviews"] for r in rows),
            sum(r["active_s"] for r in rows) / 60.0,
            *(sum(r[c] for r in rows) for c in FACTS[3:9]),
            min(r["session_start"] for r in rows),
            last,
            sum(1 for r in rows if r["session_start"] >= last - timedelta(hours=168)),
            *counted,
            {2: "verified", 1: "corroborated", 0: "id_only"}[best],
        )
    return facts


@pytest.mark.parametrize("seed", range(3))
def test_running_totals_give_the_scores_of_a_full_recompute(tmp_path, seed):
    rng = random.Random(seed)
    links, events = _history(rng)
    warehouse = _open(tmp_path / "incremental.duckdb")
    warehouse.upsert_rows("identity_map", links, key_fields=("tenant_id", "tracking_id"))
    warehouse.insert_rows("events", events, id_field="event_id")
    score_now = _run(warehouse, _run_schedule(rng))

    # The totals were used: some lead has settled sessions and sessions since.
    (used,) = warehouse.sql("select count(*) as n, coalesce(sum(sessions), 0) as settled from lead_aggregates")
    assert used["n"] > 0 and used["settled"] > 0
    assert _profiles(warehouse, FACTS) == _facts_from_sessions(warehouse)

    warehouse.close()
    shutil.copyfile(tmp_path / "incremental.duckdb", tmp_path / "full.duckdb")
    full = _open(tmp_path / "full.duckdb")
    for table in ("lead_profiles", "lead_aggregates", "lead_level_changes", "lead_score_history"):
        full.sql(f"delete from {table}")
    score(full, Window(since=EPOCH, until=score_now - timedelta(seconds=5), now=score_now))
    warehouse = _open(tmp_path / "incremental.duckdb")
    assert _profiles(warehouse, FACTS + SCORES) == _profiles(full, FACTS + SCORES)


def test_a_rerun_of_the_same_window_settles_nothing_twice(tmp_path):
    rng = random.Random(7)
    links, events = _history(rng)
    warehouse = _open(tmp_path / "w.duckdb")
    warehouse.upsert_rows("identity_map", links, key_fields=("tenant_id", "tracking_id"))
    warehouse.insert_rows("events", events, id_field="event_id")
    _run(warehouse, _run_schedule(rng))
    before = warehouse.sql("select * from lead_aggregates order by lead_id, visitor_id")
    profiles = _profiles(warehouse, FACTS + SCORES)
    # The runner retries a failed run over the same window, and a wider one later.
    score(warehouse, Window(since=NOW - timedelta(days=3), until=NOW, now=NOW + timedelta(seconds=9)))
    after = warehouse.sql("select * from lead_aggregates order by lead_id, visitor_id")
    assert [{k: v for k, v in r.items() if k != "updated_at"} for r in after] == [
        {k: v for k, v in r.items() if k != "updated_at"} for r in before
    ]
    assert _profiles(warehouse, FACTS) == {k: v for k, v in _facts_from_sessions(warehouse).items()}
    assert {k: v[: len(FACTS)] for k, v in profiles.items()} == _profiles(warehouse, FACTS)


def test_a_late_event_touches_only_its_own_visitor_and_lead(tmp_path):
    warehouse = _open(tmp_path / "w.duckdb")
    warehouse.upsert_rows(
        "identity_map",
        [identity_row("t1", f"link{x * 4}", f"lead_{x}") for x in "abc"],
        key_fields=("tenant_id", "tracking_id"),
    )
    # Two days: inside a recency band, so no profile decays in the run below.
    day_ago = NOW - timedelta(days=2)
    history = [
        event_row("t1", "vis_a", day_ago, "pageview", "/pricing", i="linkaaaa"),
        event_row("t1", "vis_b", day_ago, "pageview", "/", i="linkbbbb"),
        event_row("t1", "vis_b", NOW - timedelta(minutes=30), "pageview", "/demo", i="linkbbbb"),
        event_row("t1", "vis_c", day_ago, "pageview", "/pricing", i="linkcccc"),
    ]
    warehouse.insert_rows("events", history, id_field="event_id")
    _run(warehouse, [NOW - timedelta(minutes=10)])
    sessions_before = {r["visitor_id"]: r for r in warehouse.sql("select * from sessions order by session_start")}
    # One event of vis_a's session two days ago arrives now (a queue flushed late), and
    # vis_b goes on browsing.
    late = [
        event_row("t1", "vis_a", day_ago + timedelta(minutes=5), "pageview", "/pricing", i="linkaaaa", received=NOW),
        event_row("t1", "vis_b", NOW, "pageview", "/case-studies/acme", i="linkbbbb"),
    ]
    warehouse.insert_rows("events", late, id_field="event_id")
    run_at = NOW + timedelta(minutes=5)
    (scope,) = warehouse.query(
        "sessionize_scope", Window(NOW - timedelta(minutes=11), run_at - SETTLE, run_at).params()
    )
    assert scope["late_visitors"] == 1
    # vis_b's scan starts at its own open session, not at vis_a's late event.
    assert scope["recent_from"] > NOW - timedelta(hours=2) > day_ago > scope["scan_from"]
    result = sessionize(warehouse, Window(NOW - timedelta(minutes=11), run_at - SETTLE, run_at))
    assert result.details["late_visitors"] == 1
    after = {r["visitor_id"]: r for r in warehouse.sql("select * from sessions order by session_start")}
    assert after["vis_a"]["pageviews"] == 2 and after["vis_a"]["session_id"] == sessions_before["vis_a"]["session_id"]
    score(warehouse, Window(NOW - timedelta(minutes=10), run_at, run_at + timedelta(seconds=5)))
    rescored = warehouse.sql(
        "select lead_id, pricing_views from lead_profiles where scored_at = $at", {"at": run_at + timedelta(seconds=5)}
    )
    # lead_a rescored with the late pageview, lead_b with its new one; lead_c is not read or written.
    assert {r["lead_id"]: r["pricing_views"] for r in rescored} == {"lead_a": 2, "lead_b": 0}
    assert after["vis_c"] == sessions_before["vis_c"]


def _settled_from_sessions(warehouse: DuckDBWarehouse) -> dict[tuple[str, str], tuple[int, int]]:
    """(sessions, pageviews) of each (lead, visitor)'s sessions before its settled_before, from sessions."""
    rows = warehouse.sql(
        "select a.lead_id, a.visitor_id, count(s.session_id) as n, coalesce(sum(s.pageviews), 0) as pv "
        "from lead_aggregates as a left join sessions as s on s.tenant_id = a.tenant_id and s.lead_id = a.lead_id "
        "and s.visitor_id = a.visitor_id and s.session_start < a.settled_before group by all"
    )
    return {(r["lead_id"], r["visitor_id"]): (r["n"], r["pv"]) for r in rows}


def test_retention_and_erasure_keep_the_totals_to_the_sessions_that_remain(tmp_path):
    rng = random.Random(3)
    links, events = _history(rng)
    warehouse = _open(tmp_path / "w.duckdb")
    warehouse.upsert_rows("identity_map", links, key_fields=("tenant_id", "tracking_id"))
    warehouse.insert_rows("events", events, id_field="event_id")
    _run(warehouse, _run_schedule(rng))
    totals = {(r["lead_id"], r["visitor_id"]): r for r in warehouse.sql("select * from lead_aggregates")}
    assert totals

    cutoff = NOW - timedelta(days=60)
    expiring = warehouse.sql("select count(*) as n from sessions where session_start < $c", {"c": cutoff})[0]["n"]
    assert expiring > 0
    warehouse.execute("retention_sessions", {"tenant_id": "t1", "cutoff": cutoff})
    warehouse.execute("retention_lead_aggregates", {"tenant_id": "t1", "cutoff": cutoff})
    kept = {
        (r["lead_id"], r["visitor_id"]): (r["sessions"], r["pageviews"])
        for r in warehouse.sql("select * from lead_aggregates")
    }
    assert kept == {k: v for k, v in _settled_from_sessions(warehouse).items() if v[0] > 0}
    assert sum(n for n, _ in kept.values()) < sum(r["sessions"] for r in totals.values())

    lead = next(iter(sorted(kept)))[0]
    warehouse.execute("erase_lead_aggregates", {"tenant_id": "t1", "lead_id": lead})
    remaining = warehouse.sql("select lead_id from lead_aggregates")
    assert lead not in {r["lead_id"] for r in remaining}
