"""`oie warehouse migrate` on a warehouse from before the trust rule: the evidence columns
are added, old sessions get their evidence from their events once, and their leads are
rescored under the rule on the next score run (DuckDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.jobs.context import Window
from oie.jobs.score import score
from oie.jobs.sessionize import sessionize
from tests.factories import event_row as ev
from tests.factories import identity_row

NOW = datetime.now(UTC).replace(microsecond=0)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
ADDED = {
    "sessions": ("evidence",),
    "lead_profiles": (
        "evidence_level",
        "verified_sessions",
        "corroborated_sessions",
        "id_only_sessions",
        "uncapped_level",
        "level_cap_reason",
    ),
    "lead_level_changes": ("evidence_level",),
    "scoring_config": ("id_only_max_level",),
}


def high_intent(vid: str, i: str, status: str) -> list[dict[str, Any]]:
    pages = ["/pricing", "/pricing", "/pricing", "/product/tour", "/case-studies/acme"]
    rows = [ev("t1", vid, NOW - timedelta(hours=1, minutes=-n), "pageview", p, i=i) for n, p in enumerate(pages)]
    rows += [
        ev("t1", vid, NOW - timedelta(minutes=50), "form_submit", "/demo", i=i, form_id="demo"),
        ev("t1", vid, NOW - timedelta(minutes=49), "video", "/demo", i=i, action="complete"),
    ]
    return [r | {"identity_status": status} for r in rows]


@pytest.fixture
def old_warehouse(tmp_path) -> DuckDBWarehouse:
    """A warehouse as the engine left it before evidence was kept: no evidence columns, and
    a forged lead scored burning."""
    w = DuckDBWarehouse(tmp_path / "w.duckdb", keep_open=0)
    w.migrate()
    w.upsert_rows(
        "identity_map",
        [identity_row("t1", "linkV1", "lead_v"), identity_row("t1", "linkU1", "lead_u")],
        key_fields=("tenant_id", "tracking_id"),
    )
    events = high_intent("vis_v", "linkV1", "verified") + high_intent("vis_u", "linkU1", "unverified")
    w.insert_rows("events", events, id_field="event_id")
    sessionize(w, Window(since=LONG_AGO, until=NOW - timedelta(minutes=1), now=NOW - timedelta(minutes=1)))
    score(w, Window(since=LONG_AGO, until=NOW - timedelta(minutes=1), now=NOW - timedelta(minutes=1)))
    for table, columns in ADDED.items():
        for column in columns:
            w.sql(f"alter table {table} drop column {column}")
    w.sql("update lead_profiles set level = 'burning'")  # what the engine scored before the rule
    return w


def test_migrate_adds_the_evidence_and_backfills_old_sessions_from_their_events(old_warehouse):
    w = old_warehouse
    w.migrate()
    got = w.sql("select lead_id, evidence, updated_at from sessions order by lead_id")
    assert [(r["lead_id"], r["evidence"]) for r in got] == [("lead_u", "id_only"), ("lead_v", "verified")]
    assert all(r["updated_at"] >= NOW - timedelta(seconds=5) for r in got)  # so the next score run takes them
    assert w.sql("select id_only_max_level from scoring_config") == [{"id_only_max_level": "warm"}]
    w.migrate()  # a second migrate finds nothing left to fill
    assert w.sql("select count(*) as n from sessions where evidence is null") == [{"n": 0}]


def test_the_next_score_run_after_migrate_holds_the_forged_lead_at_warm(old_warehouse):
    w = old_warehouse
    w.migrate()
    later = datetime.now(UTC) + timedelta(seconds=1)
    score(w, Window(since=NOW - timedelta(minutes=1), until=later, now=later))
    got = w.sql("select lead_id, level, uncapped_level, evidence_level from lead_profiles order by lead_id")
    assert got == [
        {"lead_id": "lead_u", "level": "warm", "uncapped_level": "burning", "evidence_level": "id_only"},
        {"lead_id": "lead_v", "level": "burning", "uncapped_level": "burning", "evidence_level": "verified"},
    ]
    changes = w.sql("select lead_id, from_level, to_level from lead_level_changes where from_level is not null")
    assert changes == [{"lead_id": "lead_u", "from_level": "burning", "to_level": "warm"}]
