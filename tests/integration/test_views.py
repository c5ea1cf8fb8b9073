"""Golden data for the analyst views: clicks, events and links in; the real sessionize and
score jobs in between; hand-computed rows out of each view (DuckDB).

The story, relative to now (recent_sessions reads the real clock):
- t1 / c1 (added 30 days ago): lead_a, lead_b, lead_c, lead_d; t1 / c2 (10 days ago):
  lead_b again and lead_e; t2 / c1 (same campaign id, another tenant): lead_f; t2 / c9: lead_g.
- lead_a: one human click, one session 2 h ago with two pricing pageviews and a form: hot
  (recency 30 + frequency 4 + engagement 7.5 + high intent 16 + conversions 15 = 72.5).
- lead_b: three scanner clicks within 2 s on its c1 link a week ago (a burst: not human),
  a human click on its c2 link 1 h ago; sessions 6 d, 3 d and 1 h ago: hot (30 + 12 + 20 + 9 = 71).
- lead_c: a bot click, one pageview 10 days ago: cold (15 + 4 + 1.5 = 20.5); a bot's event on
  its link is kept out of everything.
- lead_d: no click, a form typed 2 days ago identifies it by email: warm (25 + 4 + 1.5 + 20 = 50.5;
  a typed email is id-only evidence, but warm is as high as its score goes, so nothing is held).
- lead_e and lead_g: nothing. lead_f: a human click and a pricing pageview 3 h ago: warm (43.5).
- an anonymous visitor of t1 browsing 30 minutes ago.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.jobs.context import Window
from oie.jobs.score import score
from oie.jobs.sessionize import sessionize
from tests.conftest import migrated_copy
from tests.factories import event_row as ev
from tests.factories import identity_row
from tests.integration.histories import pricing_visit, returning_reader

NOW = datetime.now(UTC).replace(microsecond=0)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def at(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def link(tenant: str, tracking_id: str, lead_id: str, campaign_id: str, days_ago: int, email: str = ""):
    return identity_row(tenant, tracking_id, lead_id, email, created_at=at(days=days_ago), campaign_id=campaign_id)


def click(
    click_id: str, tenant: str, tracking_id: str, lead_id: str, campaign_id: str, when: datetime, **over: Any
) -> dict[str, Any]:
    """An `email_clicks` row as /go writes it for a known link."""
    row: dict[str, Any] = {
        "click_id": click_id,
        "tenant_id": tenant,
        "tracking_id": tracking_id,
        "is_known_link": True,
        "lead_id": lead_id,
        "campaign_id": campaign_id,
        "clicked_at": when,
        "method": "GET",
        "target_url": "https://site.example/demo",
        "user_agent": "Mozilla/5.0 (Macintosh) Safari/605.1.15",
        "is_bot": False,
        "bot_reasons": [],
        "visitor_id": None,
    }
    return row | over


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, duckdb_template: Path) -> DuckDBWarehouse:
    path = tmp_path_factory.mktemp("views") / "w.duckdb"
    migrated_copy(duckdb_template, path)
    w = DuckDBWarehouse(path, keep_open=0)
    w.upsert_rows(
        "identity_map",
        [
            link("t1", "linkA1", "lead_a", "c1", 30),
            link("t1", "linkB1", "lead_b", "c1", 30),
            link("t1", "linkC1", "lead_c", "c1", 30),
            link("t1", "linkD1", "lead_d", "c1", 30, email="dana@example.com"),
            link("t1", "linkB2", "lead_b", "c2", 10),
            link("t1", "linkE2", "lead_e", "c2", 10),
            link("t2", "linkF1", "lead_f", "c1", 30),
            link("t2", "linkG9", "lead_g", "c9", 5),
        ],
        key_fields=("tenant_id", "tracking_id"),
    )
    scanner = {"visitor_id": "vis_scanner", "user_agent": "Mozilla/5.0"}
    w.insert_rows(
        "email_clicks",
        [
            click("ck_a", "t1", "linkA1", "lead_a", "c1", at(hours=2, minutes=1), visitor_id="vis_a"),
            click("ck_b_scan1", "t1", "linkB1", "lead_b", "c1", at(days=7), **scanner),
            click("ck_b_scan2", "t1", "linkB1", "lead_b", "c1", at(days=7, seconds=-1), **scanner),
            click("ck_b_scan3", "t1", "linkB1", "lead_b", "c1", at(days=7, seconds=-2), **scanner),
            click("ck_b_human", "t1", "linkB2", "lead_b", "c2", at(hours=1, minutes=1), visitor_id="vis_b"),
            click("ck_c_bot", "t1", "linkC1", "lead_c", "c1", at(days=10, minutes=1), method="HEAD", is_bot=True),
            click("ck_f", "t2", "linkF1", "lead_f", "c1", at(hours=3, minutes=1), visitor_id="vis_f"),
        ],
        id_field="click_id",
    )
    acme = {"company_name": "Acme Corp", "device_type": "desktop"}
    events = [
        # lead_a: one session two hours ago, seven minutes long.
        *(e | acme for e in pricing_visit("t1", "vis_a", NOW, "linkA1")),
        ev("t1", "vis_a", at(hours=2, minutes=-7), "form_submit", "/pricing", i="linkA1", form_id="demo") | acme,
        # lead_b: six days, three days and one hour ago, first by its c1 link, last by its c2 link.
        *returning_reader("t1", "vis_b", NOW, "linkB1", last_link="linkB2"),
        # lead_c: one pageview ten days ago; a crawler replaying its link is flagged and left out.
        ev("t1", "vis_c", at(days=10), "pageview", "/", i="linkC1"),
        ev("t1", "vis_crawler", at(days=9), "pageview", "/", i="linkC1") | {"is_bot": True},
        # lead_d: identified by the email typed into the form, two days ago.
        ev("t1", "vis_d", at(days=2), "pageview", "/demo"),
        ev("t1", "vis_d", at(days=2, minutes=-1), "form_start", "/demo", form_id="demo"),
        ev("t1", "vis_d", at(days=2, minutes=-2), "form_submit", "/demo", email="dana@example.com", form_id="demo"),
        ev("t1", "vis_d", at(days=2, minutes=-3), "video", "/demo", action="play"),
        ev("t1", "vis_d", at(days=2, minutes=-4), "video", "/demo", action="complete"),
        # someone nobody knows, half an hour ago.
        ev("t1", "vis_anon", at(minutes=30), "pageview", "/"),
        ev("t1", "vis_anon", at(minutes=29), "pageview", "/blog/a"),
        # lead_f, in the other tenant.
        ev("t2", "vis_f", at(hours=3), "pageview", "/pricing", i="linkF1"),
    ]
    w.insert_rows("events", events, id_field="event_id")
    # One run of each job over everything: sessionize reads events up to a minute ago
    # (none is newer), score the sessions sessionize stamped at NOW.
    sessionize(w, Window(since=LONG_AGO, until=NOW - timedelta(minutes=1), now=NOW))
    score(w, Window(since=LONG_AGO, until=NOW, now=NOW))
    return w


def rows(w: DuckDBWarehouse, sql: str) -> list[dict[str, Any]]:
    return w.sql(sql)


def test_high_intent_leads_lists_hot_leads_with_their_latest_campaign_and_why(warehouse):
    got = rows(warehouse, "select * from high_intent_leads order by tenant_id, lead_id")
    assert [(r["tenant_id"], r["lead_id"]) for r in got] == [("t1", "lead_a"), ("t1", "lead_b")]
    a, b = got
    assert (a["campaign_id"], a["campaign_ids"], a["campaign_count"]) == ("c1", "c1", 1)
    assert (b["campaign_id"], b["campaign_ids"], b["campaign_count"]) == ("c2", "c1, c2", 2)  # c2 is newer
    components = ("recency_points", "frequency_points", "engagement_points", "high_intent_points", "conversion_points")
    assert (a["intent_score"], a["intent_level"], *(a[k] for k in components)) == (72.5, "hot", 30, 4, 7.5, 16, 15)
    assert (b["intent_score"], b["intent_level"], *(b[k] for k in components)) == (71, "hot", 30, 12, 20, 9, 0)
    assert (a["sessions"], a["pricing_views"], a["company_name"]) == (1, 2, "Acme Corp")
    assert (b["sessions"], b["pricing_views"], b["company_name"]) == (3, 0, None)
    assert (a["first_seen_at"], a["last_activity_at"]) == (at(hours=2), at(hours=2, minutes=-7))
    assert (b["first_seen_at"], b["last_activity_at"]) == (at(days=6), at(hours=1, minutes=-5))


def test_campaign_performance_counts_each_step_per_tenant_and_campaign(warehouse):
    got = {
        (r["tenant_id"], r["campaign_id"]): r
        for r in rows(warehouse, "select * from campaign_performance order by tenant_id, campaign_id")
    }
    assert list(got) == [("t1", "c1"), ("t1", "c2"), ("t2", "c1"), ("t2", "c9")]
    steps = ("leads", "leads_clicked", "human_clicks", "bot_clicks", "leads_visited", "leads_engaged", "leads_hot")
    rates = ("click_rate", "visit_rate", "engaged_rate", "hot_rate", "hot_lead_rate")
    # c1: the scanner burst and the bot click are clicks, not human ones; c ran and d filled a form.
    assert tuple(got["t1", "c1"][k] for k in steps) == (4, 1, 1, 4, 4, 3, 2)
    assert tuple(got["t1", "c1"][k] for k in rates) == pytest.approx((1 / 4, 4 / 1, 3 / 4, 2 / 3, 2 / 4))
    assert tuple(got["t1", "c2"][k] for k in steps) == (2, 1, 1, 0, 1, 1, 1)
    assert tuple(got["t1", "c2"][k] for k in rates) == pytest.approx((1 / 2, 1, 1, 1, 1 / 2))
    # Same campaign id in another tenant: its own lead only.
    assert tuple(got["t2", "c1"][k] for k in steps) == (1, 1, 1, 0, 1, 1, 0)
    assert tuple(got["t2", "c1"][k] for k in rates) == pytest.approx((1, 1, 1, 0, 0))
    # Nothing happened: zero counts, and rates over zero are null rather than an error.
    assert tuple(got["t2", "c9"][k] for k in steps) == (1, 0, 0, 0, 0, 0, 0)
    assert tuple(got["t2", "c9"][k] for k in rates) == (0, None, None, None, 0)
    assert got["t1", "c1"]["total_clicks"] == 5
    assert got["t1", "c2"]["first_lead_added_at"] == at(days=10)


def test_recent_sessions_are_the_last_24_hours_only(warehouse):
    got = rows(warehouse, "select * from recent_sessions order by tenant_id, started_at")
    summary = [(r["tenant_id"], r["lead_id"], r["entry_page"], r["exit_page"], r["pageviews"]) for r in got]
    assert summary == [
        ("t1", "lead_a", "/demo", "/pricing", 3),
        ("t1", "lead_b", "/case-studies/acme", "/case-studies/acme", 1),
        ("t1", None, "/", "/blog/a", 2),
        ("t2", "lead_f", "/pricing", "/pricing", 1),
    ]  # lead_d's session two days ago, and older ones, are not there
    a = got[0]
    assert (a["started_at"], a["ended_at"], a["duration_seconds"], a["active_seconds"]) == (
        at(hours=2),
        at(hours=2, minutes=-7),
        420,
        120,
    )
    assert (a["device_type"], a["company_name"], a["intent_level"], a["is_identified"]) == (
        "desktop",
        "Acme Corp",
        "hot",
        True,
    )
    anonymous = got[2]
    assert (anonymous["is_identified"], anonymous["intent_level"]) == (False, None)


def test_intent_distribution_shares_each_tenants_scored_leads_across_all_levels(warehouse):
    got = rows(
        warehouse,
        "select tenant_id, intent_level, lead_count, share_of_leads from intent_distribution "
        "order by tenant_id, level_order",
    )
    assert [(r["tenant_id"], r["intent_level"], r["lead_count"]) for r in got] == [
        ("t1", "cold", 1),
        ("t1", "warm", 1),
        ("t1", "hot", 2),
        ("t1", "burning", 0),
        ("t2", "cold", 0),
        ("t2", "warm", 1),
        ("t2", "hot", 0),
        ("t2", "burning", 0),
    ]
    assert [r["share_of_leads"] for r in got] == pytest.approx([0.25, 0.25, 0.5, 0, 0, 1, 0, 0])


def timeline(w: DuckDBWarehouse, lead_id: str) -> list[dict[str, Any]]:
    return w.sql(
        "select * from lead_timeline where lead_id = $lead order by tenant_id, sequence_number", {"lead": lead_id}
    )


def test_lead_timeline_tells_what_a_lead_did_in_order(warehouse):
    got = [(r["sequence_number"], r["kind"], r["detail"], r["page_path"]) for r in timeline(warehouse, "lead_a")]
    assert got == [
        (1, "click", "human click", None),
        (2, "session", "session: 3 pageviews, 420 s", "/demo"),  # same instant as its first event
        (3, "event", "pageview", "/demo"),
        (4, "event", "scroll", "/demo"),
        (5, "event", "pageview", "/pricing"),
        (6, "event", "active_time", "/pricing"),
        (7, "event", "pageview", "/pricing"),
        (8, "event", "click", "/pricing"),
        (9, "event", "form_submit", "/pricing"),
        (10, "level_change", "new -> hot", None),
    ]


def test_lead_timeline_flags_scanner_and_bot_clicks_and_leaves_bot_events_out(warehouse):
    b = timeline(warehouse, "lead_b")
    assert [r["kind"] for r in b].count("click") == 4
    assert [(r["detail"], r["is_human"]) for r in b if r["kind"] == "click"] == [
        ("scanner click (burst)", False),
        ("scanner click (burst)", False),
        ("scanner click (burst)", False),
        ("human click", True),
    ]
    assert [r["kind"] for r in b].count("session") == 3 and [r["kind"] for r in b].count("event") == 11
    assert [r["sequence_number"] for r in b] == list(range(1, 20))
    assert [r["occurred_at"] for r in b] == sorted(r["occurred_at"] for r in b)
    c = timeline(warehouse, "lead_c")
    assert [(r["kind"], r["detail"]) for r in c] == [
        ("click", "bot click"),
        ("session", "session: 1 pageviews, 0 s"),
        ("event", "pageview"),  # the crawler's pageview on the same link is not here
        ("level_change", "new -> cold"),
    ]
    # lead_d was identified by email, not by a link: its session and level show, its raw events carry no lead.
    assert [r["kind"] for r in timeline(warehouse, "lead_d")] == ["session", "level_change"]
    assert timeline(warehouse, "lead_e") == []


@pytest.mark.parametrize(
    ("view", "grain"),
    [
        ("high_intent_leads", ("tenant_id", "lead_id")),
        ("campaign_performance", ("tenant_id", "campaign_id")),
        ("recent_sessions", ("tenant_id", "session_id")),
        ("intent_distribution", ("tenant_id", "intent_level")),
        ("lead_timeline", ("tenant_id", "lead_id", "sequence_number")),
    ],
)
def test_each_view_has_one_row_per_grain_key_and_no_null_keys(warehouse, view, grain):
    keys = ", ".join(grain)
    nulls = " or ".join(f"{k} is null" for k in grain)
    (counts,) = warehouse.sql(
        f"select count(*) as n_rows, count(distinct ({keys})) as n_keys, count_if({nulls}) as n_null from {view}"
    )
    assert counts["n_rows"] > 0
    assert counts["n_rows"] == counts["n_keys"] and counts["n_null"] == 0


@pytest.fixture
def id_only_warehouse(tmp_path, duckdb_template) -> DuckDBWarehouse:
    """One lead whose score alone is burning, sent only with its id (no token): held at warm."""
    migrated_copy(duckdb_template, tmp_path / "w.duckdb")
    w = DuckDBWarehouse(tmp_path / "w.duckdb", keep_open=0)
    w.upsert_rows("identity_map", [link("t1", "linkH1", "lead_h", "c1", 30)], key_fields=("tenant_id", "tracking_id"))
    pages = ["/pricing", "/pricing", "/pricing", "/product/tour", "/case-studies/acme"]
    events = [ev("t1", "vis_h", at(hours=1, minutes=-n), "pageview", page, i="linkH1") for n, page in enumerate(pages)]
    events += [
        ev("t1", "vis_h", at(hours=1, minutes=-6), "active_time", "/pricing", i="linkH1", ms=600000),
        ev("t1", "vis_h", at(hours=1, minutes=-7), "form_submit", "/demo", i="linkH1", form_id="demo"),
        ev("t1", "vis_h", at(hours=1, minutes=-8), "video", "/demo", i="linkH1", action="complete"),
    ]
    w.insert_rows("events", [e | {"identity_status": "unverified"} for e in events], id_field="event_id")
    sessionize(w, Window(since=LONG_AGO, until=NOW - timedelta(minutes=1), now=NOW))
    score(w, Window(since=LONG_AGO, until=NOW, now=NOW))
    return w


def test_an_id_only_lead_is_never_a_high_intent_lead_and_shows_as_capped(id_only_warehouse):
    w = id_only_warehouse
    # 30 + 4 + 17.5 (5 x 1.5 + 10) + 25 + 20 = 96.5: burning by the score, warm by the evidence.
    assert w.sql("select score, uncapped_level, level from lead_profiles") == [
        {"score": 96.5, "uncapped_level": "burning", "level": "warm"}
    ]
    assert rows(w, "select * from high_intent_leads") == []
    got = rows(w, "select intent_level, lead_count, capped_lead_count from intent_distribution order by level_order")
    assert [(r["intent_level"], r["lead_count"], r["capped_lead_count"]) for r in got] == [
        ("cold", 0, 0),
        ("warm", 1, 1),
        ("hot", 0, 0),
        ("burning", 0, 0),
    ]
    # Defence in depth: even a profile written hot by mistake is not listed while id-only.
    w.sql("update lead_profiles set level = 'burning'")
    assert rows(w, "select * from high_intent_leads") == []


def test_high_intent_leads_show_the_evidence_behind_them(warehouse):
    got = rows(warehouse, "select lead_id, evidence_level, verified_sessions, id_only_sessions from high_intent_leads")
    assert sorted((r["lead_id"], r["evidence_level"], r["verified_sessions"], r["id_only_sessions"]) for r in got) == [
        ("lead_a", "verified", 1, 0),
        ("lead_b", "verified", 3, 0),
    ]
