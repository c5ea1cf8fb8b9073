"""Golden data: hand-made event histories in, hand-computed sessions and scores out (DuckDB).

The default model: recency 30/25/20/15/10/5 (<24 h, <3 d, <7 d, <14 d, <30 d, older),
frequency sessions x 4 (cap 20), engagement pageviews x 1.5 + active minutes + scroll
milestones (cap 25), high-intent pricing 8 / case study 5 / product 4 (cap 25),
conversions form submit 15 + video complete 5 (cap 20); burning >= 80, hot >= 60, warm >= 40.

The trust rule: a lead whose only evidence is an id (a tracking id without a token /go
signed, or a typed email) keeps its score but its level is held at warm. The event factory
writes events with an `i` as verified (they came through /go), so the history's levels are
the model's; lead D, identified only by the email it typed, is id-only but warm anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie.jobs.runner import FOLLOW_UPS, run_job
from tests.factories import event_row as ev
from tests.factories import identity_row
from tests.integration.histories import pricing_visit, returning_reader

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
        *pricing_visit("t1", "vis_a", NOW, "linkAAAA"),
        # B: the returning reader, three sessions over six days.
        *returning_reader("t1", "vis_b", NOW, "linkBBBB"),
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


def evidence(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        row[k]
        for k in (
            "evidence_level",
            "verified_sessions",
            "corroborated_sessions",
            "id_only_sessions",
            "uncapped_level",
            "level",
            "level_cap_reason",
        )
    )


def test_the_evidence_behind_each_level_is_kept_with_the_components(app, history):
    run_all(app)
    got = profiles(app)
    assert evidence(got["t1/lead_a"]) == ("verified", 1, 0, 0, "warm", "warm", None)
    assert evidence(got["t1/lead_b"]) == ("verified", 3, 0, 0, "hot", "hot", None)
    # Identified by a typed email alone: id-only, but warm is as high as the score goes.
    assert evidence(got["t1/lead_d"]) == ("id_only", 0, 0, 1, "warm", "warm", None)


def unverified(row: dict[str, Any]) -> dict[str, Any]:
    """The same event sent with only `i` and no token: a plain link, or a forger."""
    return row | {"identity_status": "unverified"}


# One session of high intent two hours ago: recency 30 + frequency 4 + engagement 18.5
# (5 pageviews x 1.5 + 10 minutes + 1 milestone) + high intent 25 (3 x 8 + 4 + 5, cap)
# + conversions 20 (15 + 5) = 97.5.
def high_intent(vid: str, i: str) -> list[dict[str, Any]]:
    return [
        ev("t1", vid, at(hours=2), "pageview", "/pricing", i=i),
        ev("t1", vid, at(hours=2, minutes=-1), "scroll", "/pricing", i=i, depth=50),
        ev("t1", vid, at(hours=2, minutes=-2), "pageview", "/pricing", i=i),
        ev("t1", vid, at(hours=2, minutes=-3), "pageview", "/pricing", i=i),
        ev("t1", vid, at(hours=2, minutes=-4), "pageview", "/product/tour", i=i),
        ev("t1", vid, at(hours=2, minutes=-5), "pageview", "/case-studies/acme", i=i),
        ev("t1", vid, at(hours=2, minutes=-6), "active_time", "/case-studies/acme", i=i, ms=600000),
        ev("t1", vid, at(hours=2, minutes=-7), "form_submit", "/demo", i=i, form_id="demo"),
        ev("t1", vid, at(hours=2, minutes=-9), "video", "/demo", i=i, action="complete"),
    ]


def test_an_id_only_lead_keeps_its_score_but_is_held_at_warm(app):
    w = app.warehouse
    w.upsert_rows("identity_map", [identity_row("t1", "linkHHHH", "lead_h")], key_fields=("tenant_id", "tracking_id"))
    # Lead B's history (71: hot by the score alone), sent with the id and no token.
    events = returning_reader("t1", "vis_h", NOW, "linkHHHH")
    w.insert_rows("events", [unverified(e) for e in events], id_field="event_id")
    run_all(app)
    h = profiles(app)["t1/lead_h"]
    assert components(h) == (30, 12, 20, 9, 0, 71)
    reason = "id_only: no /go click or verified token; held at warm"
    assert evidence(h) == ("id_only", 0, 0, 3, "hot", "warm", reason)
    assert w.sql("select to_level, evidence_level from lead_level_changes") == [
        {"to_level": "warm", "evidence_level": "id_only"}
    ]


def test_a_capped_lead_stays_capped_while_its_recency_decays(app):
    w = app.warehouse
    w.upsert_rows("identity_map", [identity_row("t1", "linkJJJJ", "lead_j")], key_fields=("tenant_id", "tracking_id"))
    w.insert_rows("events", [unverified(e) for e in high_intent("vis_j", "linkJJJJ")], id_field="event_id")
    run_all(app)
    assert evidence(profiles(app)["t1/lead_j"])[4:6] == ("burning", "warm")
    run_all(app, NOW + timedelta(days=2))  # only recency moves: 30 -> 25, 92.5, still burning by score
    j = profiles(app)["t1/lead_j"]
    assert (j["recency_points"], j["score"], j["uncapped_level"], j["level"]) == (25, 92.5, "burning", "warm")
    assert w.sql("select count(*) as n from lead_level_changes") == [{"n": 1}]  # new -> warm, nothing since


def test_one_verified_visit_vouches_for_the_same_visitors_visits_without_a_token(app):
    w = app.warehouse
    w.upsert_rows("identity_map", [identity_row("t1", "linkKKKK", "lead_k")], key_fields=("tenant_id", "tracking_id"))
    # A week ago through /go (verified); today straight from a sequencer's plain link.
    w.insert_rows(
        "events", [ev("t1", "vis_k", at(days=7, hours=1), "pageview", "/", i="linkKKKK")], id_field="event_id"
    )
    w.insert_rows("events", [unverified(e) for e in high_intent("vis_k", "linkKKKK")], id_field="event_id")
    run_all(app)
    assert w.sql("select evidence from sessions order by session_start") == [
        {"evidence": "verified"},
        {"evidence": "id_only"},
    ]
    k = profiles(app)["t1/lead_k"]
    # 30 + 8 (2 sessions) + 20 (6 pageviews x 1.5 + 10 + 1) + 25 + 20 = 103, capped at 100.
    assert components(k) == (30, 8, 20, 25, 20, 100)
    assert evidence(k) == ("verified", 2, 0, 0, "burning", "burning", None)


def test_a_tenant_may_let_id_only_leads_reach_a_higher_level(app):
    w = app.warehouse
    w.sql(
        "insert into scoring_config select * replace ('t1' as tenant_id, 'hot' as id_only_max_level) "
        "from scoring_config where tenant_id = '*'"
    )
    w.upsert_rows("identity_map", [identity_row("t1", "linkJJJJ", "lead_j")], key_fields=("tenant_id", "tracking_id"))
    w.insert_rows("events", [unverified(e) for e in high_intent("vis_j", "linkJJJJ")], id_field="event_id")
    run_all(app)
    reason = "id_only: no /go click or verified token; held at hot"
    assert evidence(profiles(app)["t1/lead_j"]) == ("id_only", 0, 0, 1, "burning", "hot", reason)


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
    # score's follow-ups (personalization sync, campaign hand-offs, CRM) run after it, each recorded.
    assert {r["job"] for r in runs} == {"sessionize", "score", *FOLLOW_UPS["score"]}
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
