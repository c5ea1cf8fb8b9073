"""Golden data: hand-made event histories in, hand-computed sessions and scores out (DuckDB).

The default model: recency 30/25/20/15/10/5 (<24 h, <3 d, <7 d, <14 d, <30 d, older),
frequency sessions x 4 (cap 20), engagement pageviews x 1.5 + active minutes + scroll
milestones (cap 25), high-intent pricing 8 / case study 5 / product 4 (cap 25),
conversions form submit 15 + video complete 5 (cap 20); burning >= 80, hot >= 60, warm >= 40.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie.jobs.runner import run_job
from tests.factories import event_row as ev
from tests.factories import identity_row

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def link(tenant: str, tracking_id: str, lead_id: str, email: str = "") -> dict[str, Any]:
    return identity_row(tenant, tracking_id, lead_id, email=email, created_at=NOW - timedelta(days=30))


def at(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def run_all(app, now: datetime = NOW) -> None:
    app.clock.current = now
    run_job("sessionize", app)
    run_job("score", app)


def profiles(app) -> dict[str, dict[str, Any]]:
    rows = app.warehouse.sql("select * from lead_profiles order by tenant_id, lead_id")
    return {f"{r['tenant_id']}/{r['lead_id']}": r for r in rows}


def components(row: dict[str, Any]) -> tuple[float, ...]:
    return tuple(
        float(row[k])
        for k in (
            "recency_points",
            "frequency_points",
            "engagement_points",
            "high_intent_points",
            "conversion_points",
            "score",
        )
    )


@pytest.fixture
def history(app):
    w = app.warehouse
    w.upsert_rows(
        "identity_map",
        [
            link("t1", "linkAAAA", "lead_a"),
            identity_row("t1", "linkBBBB", "lead_b"),
            identity_row("t1", "linkCCCC", "lead_c"),
            identity_row("t1", "linkDDDD", "lead_d", email="dana@example.com"),
            identity_row("t1", "linkEEEE", "lead_e"),
            identity_row("t1", "linkFFFF", "lead_f1"),
            identity_row("t2", "linkFFFF", "lead_f2"),
        ],
        key_fields=("tenant_id", "tracking_id"),
    )
    events = [
        # A: the pricing-page visitor, one session two hours ago.
        ev("t1", "vis_a", at(hours=2), "pageview", "/demo", i="linkAAAA"),
        ev("t1", "vis_a", at(hours=2, minutes=-1), "scroll", "/demo", i="linkAAAA", depth=50),
        ev("t1", "vis_a", at(hours=2, minutes=-2), "pageview", "/pricing", i="linkAAAA"),
        ev("t1", "vis_a", at(hours=2, minutes=-3), "active_time", "/pricing", i="linkAAAA", ms=120000),
        ev("t1", "vis_a", at(hours=2, minutes=-5), "pageview", "/pricing", i="linkAAAA"),
        ev("t1", "vis_a", at(hours=2, minutes=-6), "click", "/pricing", i="linkAAAA", tag="a"),
        # B: the returning reader, three sessions over six days.
        ev("t1", "vis_b", at(days=6), "pageview", "/blog/a", i="linkBBBB"),
        ev("t1", "vis_b", at(days=6, minutes=-4), "pageview", "/blog/b", i="linkBBBB"),
        ev("t1", "vis_b", at(days=6, minutes=-9), "active_time", "/blog/b", i="linkBBBB", ms=300000),
        ev("t1", "vis_b", at(days=3), "pageview", "/product/tour", i="linkBBBB"),
        ev("t1", "vis_b", at(days=3, minutes=-1), "scroll", "/product/tour", i="linkBBBB", depth=25),
        ev("t1", "vis_b", at(days=3, minutes=-2), "scroll", "/product/tour", i="linkBBBB", depth=50),
        ev("t1", "vis_b", at(hours=1), "pageview", "/case-studies/acme", i="linkBBBB"),
        ev("t1", "vis_b", at(hours=1, minutes=-1), "scroll", "/case-studies/acme", i="linkBBBB", depth=25),
        ev("t1", "vis_b", at(hours=1, minutes=-2), "scroll", "/case-studies/acme", i="linkBBBB", depth=50),
        ev("t1", "vis_b", at(hours=1, minutes=-3), "scroll", "/case-studies/acme", i="linkBBBB", depth=75),
        ev("t1", "vis_b", at(hours=1, minutes=-5), "active_time", "/case-studies/acme", i="linkBBBB", ms=240000),
        # C: the one-visit bouncer, ten days ago.
        ev("t1", "vis_c", at(days=10), "pageview", "/", i="linkCCCC"),
        # D: the form submitter, two days ago; identified by the email typed, not by a link.
        ev("t1", "vis_d", at(days=2), "pageview", "/demo"),
        ev("t1", "vis_d", at(days=2, minutes=-1), "form_start", "/demo", form_id="demo"),
        ev("t1", "vis_d", at(days=2, minutes=-2), "form_submit", "/demo", email="dana@example.com", form_id="demo"),
        ev("t1", "vis_d", at(days=2, minutes=-3), "video", "/demo", action="play"),
        ev("t1", "vis_d", at(days=2, minutes=-4), "video", "/demo", action="complete"),
        # F: one visitor id in two tenants: two leads, never mixed.
        ev("t1", "vis_shared", at(hours=3), "pageview", "/", i="linkFFFF"),
        ev("t2", "vis_shared", at(hours=3), "pageview", "/pricing", i="linkFFFF"),
    ]
    w.insert_rows("events", events, id_field="event_id")
    return w


def test_sessions_are_cut_by_thirty_minutes_of_inactivity_with_their_facts(app, history):
    run_all(app)
    sessions = app.warehouse.sql(
        "select visitor_id, lead_id, pageviews, clicks, max_scroll, scroll_milestones, active_s, pricing_views, "
        "case_study_views, product_views, forms_started, forms_submitted, videos_played, videos_completed, "
        "entry_page, exit_page from sessions where tenant_id = 't1' order by visitor_id, session_start"
    )
    by_visitor: dict[str, list[dict[str, Any]]] = {}
    for row in sessions:
        by_visitor.setdefault(row["visitor_id"], []).append(row)
    (a,) = by_visitor["vis_a"]
    assert (a["pageviews"], a["clicks"], a["max_scroll"], a["active_s"], a["pricing_views"]) == (3, 1, 50, 120, 2)
    assert (a["entry_page"], a["exit_page"], a["lead_id"]) == ("/demo", "/pricing", "lead_a")
    assert [s["pageviews"] for s in by_visitor["vis_b"]] == [2, 1, 1]
    assert [s["product_views"] for s in by_visitor["vis_b"]] == [0, 1, 0]
    assert [s["case_study_views"] for s in by_visitor["vis_b"]] == [0, 0, 1]
    (d,) = by_visitor["vis_d"]
    assert (d["forms_started"], d["forms_submitted"], d["videos_played"], d["videos_completed"]) == (1, 1, 1, 1)
    assert d["lead_id"] == "lead_d"  # stitched by the email's hash


def test_scores_levels_and_components_match_the_model(app, history):
    run_all(app)
    got = profiles(app)
    # (recency, frequency, engagement, high intent, conversions, score)
    assert components(got["t1/lead_a"]) == (30, 4, 7.5, 16, 0, 57.5)  # 3 x 1.5 + 2 min + 1 milestone; 2 x 8
    assert got["t1/lead_a"]["level"] == "warm"
    assert components(got["t1/lead_b"]) == (30, 12, 20, 9, 0, 71)  # 4 x 1.5 + 9 min + 5; product 4 + case 5
    assert got["t1/lead_b"]["level"] == "hot"
    assert components(got["t1/lead_c"]) == (15, 4, 1.5, 0, 0, 20.5)
    assert got["t1/lead_c"]["level"] == "cold"
    assert components(got["t1/lead_d"]) == (25, 4, 1.5, 0, 20, 50.5)
    assert got["t1/lead_d"]["level"] == "warm"


def test_two_tenants_with_the_same_visitor_id_stay_apart(app, history):
    run_all(app)
    got = profiles(app)
    assert got["t1/lead_f1"]["high_intent_points"] == 0
    assert got["t2/lead_f2"]["high_intent_points"] == 8
    assert "t1/lead_f2" not in got and "t2/lead_f1" not in got


def test_a_visitor_identified_on_the_third_visit_gets_the_earlier_sessions_too(app):
    w = app.warehouse
    w.upsert_rows("identity_map", [identity_row("t1", "linkEEEE", "lead_e")], key_fields=("tenant_id", "tracking_id"))
    w.insert_rows("events", [ev("t1", "vis_e", at(days=5), "pageview", "/pricing")], id_field="event_id")
    run_all(app, NOW - timedelta(days=5) + timedelta(minutes=5))
    w.insert_rows("events", [ev("t1", "vis_e", at(days=2), "pageview", "/pricing")], id_field="event_id")
    run_all(app, NOW - timedelta(days=2) + timedelta(minutes=5))
    assert w.sql("select count(*) as n from sessions where lead_id is null") == [{"n": 2}]
    assert profiles(app) == {}
    w.insert_rows("events", [ev("t1", "vis_e", at(minutes=30), "pageview", "/", i="linkEEEE")], id_field="event_id")
    run_all(app)
    assert w.sql("select lead_id from sessions order by session_start") == [{"lead_id": "lead_e"}] * 3
    assert components(profiles(app)["t1/lead_e"]) == (30, 12, 4.5, 16, 0, 62.5)


def test_a_late_event_joins_two_sessions_into_one(app):
    w = app.warehouse
    w.upsert_rows("identity_map", [identity_row("t1", "linkGGGG", "lead_g")], key_fields=("tenant_id", "tracking_id"))
    start = at(hours=5)
    w.insert_rows(
        "events",
        [
            ev("t1", "vis_g", start, "pageview", "/", i="linkGGGG"),
            ev("t1", "vis_g", start + timedelta(minutes=20), "pageview", "/a", i="linkGGGG"),
            ev("t1", "vis_g", start + timedelta(minutes=55), "pageview", "/b", i="linkGGGG"),
        ],
        id_field="event_id",
    )
    run_all(app)
    assert w.sql("select pageviews from sessions order by session_start") == [{"pageviews": 2}, {"pageviews": 1}]
    late = ev("t1", "vis_g", start + timedelta(minutes=40), "pageview", "/late", i="linkGGGG", received=NOW)
    w.insert_rows("events", [late], id_field="event_id")
    run_all(app, NOW + timedelta(minutes=2))
    assert w.sql("select pageviews, exit_page from sessions") == [{"pageviews": 4, "exit_page": "/b"}]


def test_running_every_job_twice_changes_nothing(app, history):
    run_all(app)
    tables = ("sessions", "visitor_leads", "lead_profiles", "lead_level_changes")
    before = {t: app.warehouse.sql(f"select * from {t} order by all") for t in tables}
    run_all(app)
    app.clock.current = NOW  # a second run at the very same moment, as an overlapping run would be
    run_job("sessionize", app)
    run_job("score", app)
    after = {t: app.warehouse.sql(f"select * from {t} order by all") for t in tables}
    for table in tables:
        strip = lambda rows: [{k: v for k, v in r.items() if k not in ("updated_at", "scored_at")} for r in rows]  # noqa: E731
        assert strip(after[table]) == strip(before[table]), table


def test_recency_decays_and_the_level_change_is_recorded(app, history):
    run_all(app)
    assert profiles(app)["t1/lead_b"]["level"] == "hot"
    run_all(app, NOW + timedelta(days=2))  # no new events: only recency moves (30 -> 25)
    b = profiles(app)["t1/lead_b"]
    assert (b["recency_points"], b["score"], b["level"], b["previous_level"]) == (25, 66, "hot", None)
    run_all(app, NOW + timedelta(days=8))  # 30 -> 15 (< 14 d): 56, warm
    b = profiles(app)["t1/lead_b"]
    assert (b["score"], b["level"], b["previous_level"]) == (56, "warm", "hot")
    changes = app.warehouse.sql(
        "select from_level, to_level from lead_level_changes where lead_id = 'lead_b' order by changed_at"
    )
    assert changes == [{"from_level": None, "to_level": "hot"}, {"from_level": "hot", "to_level": "warm"}]


def test_job_runs_record_each_run_with_its_watermark(app, history):
    run_all(app)
    runs = app.warehouse.sql("select job, status, watermark_to, rows_scanned from job_runs order by started_at, job")
    assert {r["job"] for r in runs} == {"sessionize", "score", "sync_personalization"}
    assert all(r["status"] == "ok" for r in runs)
    sessionize = next(r for r in runs if r["job"] == "sessionize")
    assert sessionize["watermark_to"] == NOW - timedelta(seconds=60) and sessionize["rows_scanned"] > 0


def test_scores_reach_the_personalization_cache(app, history):
    run_all(app)
    assert app.profiles.get("t1", "lead_a") == {
        "intentLevel": "warm",
        "intentScore": 58,
        "viewedPricing": True,
        "viewedCaseStudies": False,
    }
