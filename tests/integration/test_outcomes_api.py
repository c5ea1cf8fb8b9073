"""The outcomes API through the gateway: rules, idempotency, win rates, nudges, tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import create_key
from oie.tenants.service import create_tenant

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # Wednesday; the last complete week starts Monday 2026-03-02
LAST_WEEK = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
LEADS = """email,first_name,company,utm_source,geo_key,tier,timeline_bucket,intent_type
ada@example.com,Ada,Engines,LinkedIn Ads,London,A,0-30,buy
bob@example.com,Bob,Builders,linkedin_ads,London,B,31-90,buy
cy@example.com,Cy,Cables,Google,Paris,A,0-30,sell
dee@example.com,Dee,Docks,Google,Paris,C,91-180,buy
"""


@pytest.fixture
def world(app):
    return build_world(app)


def build_world(app):
    """Tenants acme and beta with the four leads each, a writer and an admin key of acme, beta's admin key."""
    app.clock.current = NOW
    for tenant in ("acme", "beta"):
        create_tenant(
            app.tenants,
            {
                "tenant_id": tenant,
                "name": tenant,
                "redirect_domains": (f"{tenant}.com",),
                "default_landing_url": f"https://{tenant}.com/",
            },
            allow_local_secret=True,
        )
    imported = {}
    for tenant in ("acme", "beta"):
        leads = app.importer.run(tenant, "Q1", f"https://{tenant}.com/", parse_leads(LEADS.splitlines(True)), "x")
        imported[tenant] = {i.lead.first_name: i.lead_id for i in leads.imported}
    keys = {
        "writer": create_key(app.api_keys, "acme", ["outcomes:write", "outcomes:read"], "crm", NOW),
        "admin": create_key(app.api_keys, "acme", ["admin"], "Ann Admin", NOW),
        "beta": create_key(app.api_keys, "beta", ["admin"], "beta admin", NOW),
    }
    return Client(build_gateway()), imported, keys


def post(client, path, key, body):
    return client.post(f"/outcomes{path}", json=body, headers={"Authorization": f"Bearer {key}"})


def get(client, path, key):
    return client.get(f"/outcomes{path}", headers={"Authorization": f"Bearer {key}"})


def test_recording_is_idempotent_and_keeps_the_history(app, world):
    client, leads, keys = world
    body = {"lead_id": leads["acme"]["Ada"], "outcome_type": "contacted", "outcome_id": "crm-0001xx"}
    first = post(client, "/t/acme/outcomes", keys["writer"], body)
    again = post(client, "/t/acme/outcomes", keys["writer"], body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["outcome"] == again.get_json()["outcome"]
    assert app.warehouse.sql("select count(*) as n from lead_outcomes") == [{"n": 1}]
    history = get(client, f"/t/acme/leads/{leads['acme']['Ada']}/outcomes", keys["writer"]).get_json()["outcomes"]
    assert [o["outcome_type"] for o in history] == ["contacted"]
    lead = get(client, f"/t/acme/leads/{leads['acme']['Ada']}", keys["writer"]).get_json()
    assert lead["state"]["current_stage"] == "top_of_funnel"
    assert lead["attributes"]["source_key"] == "linkedin-ads" and lead["attributes"]["tier"] == "A"


def test_sequence_rules_warn_block_and_let_an_admin_override(app, world):
    client, leads, keys = world
    bob = leads["acme"]["Bob"]
    early = post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": bob, "outcome_type": "appointment_set"})
    assert early.status_code == 201 and early.get_json()["warnings"] == [
        "sequence_warning: no contacted outcome before this one"
    ]
    assert (
        post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": bob, "outcome_type": "closed_lost"}).status_code
        == 201
    )
    blocked = post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": bob, "outcome_type": "closed_won"})
    assert blocked.status_code == 409 and blocked.get_json()["error"]["field"] == "outcome_type"
    not_admin = post(
        client, "/t/acme/outcomes", keys["writer"], {"lead_id": bob, "outcome_type": "closed_won", "override": True}
    )
    assert not_admin.status_code == 409 and not_admin.get_json()["error"]["field"] == "override"
    done = post(
        client, "/t/acme/outcomes", keys["admin"], {"lead_id": bob, "outcome_type": "closed_won", "override": True}
    )
    assert done.status_code == 201
    outcome = done.get_json()["outcome"]
    assert outcome["metadata"]["override"] is True and outcome["recorded_by"] == "Ann Admin"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"outcome_type": "teleported"}, 400, "outcome_type"),
        ({"outcome_type": "contacted", "occurred_at": "2030-01-01T00:00:00Z"}, 400, "occurred_at"),
        ({"outcome_type": "contacted", "occurred_at": "last tuesday"}, 400, "occurred_at"),
        ({"outcome_type": "contacted", "notes": "x" * 2001}, 400, "notes"),
        ({"outcome_type": "contacted", "lead_id": "ld_nobody000000000"}, 404, "lead_id"),
    ],
)
def test_bad_outcomes_are_refused_naming_the_field(world, body, status, field):
    client, leads, keys = world
    response = post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": leads["acme"]["Ada"], **body})
    assert response.status_code == status and response.get_json()["error"]["field"] == field


def test_one_bad_item_in_a_bulk_request_loses_none_of_the_others(app, world):
    client, leads, keys = world
    items = [
        {"lead_id": leads["acme"]["Ada"], "outcome_type": "contacted"},
        {"lead_id": leads["acme"]["Bob"], "outcome_type": "nope"},
        {"lead_id": leads["acme"]["Cy"], "outcome_type": "contacted"},
    ]
    results = post(client, "/t/acme/outcomes/bulk", keys["writer"], {"outcomes": items}).get_json()["results"]
    assert [r["status"] for r in results] == [201, 400, 201] and results[1]["error"]["field"] == "outcome_type"
    assert app.warehouse.sql("select count(*) as n from lead_outcomes") == [{"n": 2}]


def test_attribution_is_snapshotted_so_later_changes_never_rewrite_history(world):
    client, leads, keys = world
    ada = leads["acme"]["Ada"]
    post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": ada, "outcome_type": "contacted"})
    patched = client.patch(
        f"/outcomes/t/acme/leads/{ada}",
        json={"source_key": "Referral"},
        headers={"Authorization": f"Bearer {keys['writer']}"},
    )
    assert patched.status_code == 200 and patched.get_json()["attributes"]["source_key"] == "referral"
    (outcome,) = get(client, f"/t/acme/leads/{ada}/outcomes", keys["writer"]).get_json()["outcomes"]
    assert outcome["metadata"]["attribution"]["source_key"] == "linkedin-ads"
    bad = client.patch(
        f"/outcomes/t/acme/leads/{ada}", json={"tier": "Z"}, headers={"Authorization": f"Bearer {keys['writer']}"}
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "tier"


def test_another_tenants_key_or_lead_learns_nothing(world):
    client, leads, keys = world
    ada_acme, ada_beta = leads["acme"]["Ada"], leads["beta"]["Ada"]
    foreign_key = get(client, f"/t/acme/leads/{ada_acme}", keys["beta"])
    wrong_key = get(client, f"/t/acme/leads/{ada_acme}", keys["writer"] + "x")
    assert foreign_key.status_code == wrong_key.status_code == 403
    assert foreign_key.get_json() == wrong_key.get_json()
    foreign_lead = get(client, f"/t/acme/leads/{ada_beta}", keys["writer"])
    no_lead = get(client, "/t/acme/leads/ld_doesnotexist00", keys["writer"])
    assert foreign_lead.status_code == no_lead.status_code == 404 and foreign_lead.get_json() == no_lead.get_json()
    record = post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": ada_beta, "outcome_type": "contacted"})
    assert record.status_code == 404
    assert (
        post(client, "/t/beta/outcomes", keys["writer"], {"lead_id": ada_beta, "outcome_type": "contacted"}).status_code
        == 403
    )
    assert client.get(f"/outcomes/t/acme/leads/{ada_acme}").status_code == 401


def record_week(client, leads, keys, tenant="acme"):
    """Last week: Ada won, Bob lost, Cy won (Paris / google), Dee contacted only."""
    key = keys["writer"] if tenant == "acme" else keys["beta"]
    at = LAST_WEEK.isoformat()
    for name, kinds in (
        ("Ada", ("contacted", "appointment_set", "closed_won")),
        ("Bob", ("contacted", "closed_lost")),
        ("Cy", ("contacted", "closed_won")),
        ("Dee", ("contacted",)),
    ):
        for n, kind in enumerate(kinds):
            when = (LAST_WEEK + timedelta(hours=n)).isoformat()
            response = post(
                client,
                f"/t/{tenant}/outcomes",
                key,
                {"lead_id": leads[tenant][name], "outcome_type": kind, "occurred_at": when},
            )
            assert response.status_code == 201, response.get_json()
    return at


def test_weekly_win_rates_by_source_and_geo_with_exports_matching_the_table(app, world):
    client, leads, keys = world
    record_week(client, leads, keys)
    post(
        client,
        "/t/beta/outcomes",
        keys["beta"],
        {"lead_id": leads["beta"]["Bob"], "outcome_type": "closed_won", "occurred_at": LAST_WEEK.isoformat()},
    )
    run_job("win_rates", app)
    run_job("win_rates", app)  # idempotent
    by_source = get(client, "/t/acme/win-rates/by-source?weeks=2", keys["writer"]).get_json()["rows"]
    assert by_source == [
        {
            "dimension": "google",
            "leads_entered": 2,
            "appointments": 0,
            "won": 1,
            "lost": 0,
            "win_rate": 1.0,
            "partial": False,
        },
        {
            "dimension": "linkedin-ads",
            "leads_entered": 2,
            "appointments": 1,
            "won": 1,
            "lost": 1,
            "win_rate": 0.5,
            "partial": False,
        },
    ]
    by_geo = get(client, "/t/acme/win-rates/by-geo?weeks=2&min_denominator=2", keys["writer"]).get_json()["rows"]
    assert by_geo == [
        {
            "dimension": "london",
            "leads_entered": 2,
            "appointments": 1,
            "won": 1,
            "lost": 1,
            "win_rate": 0.5,
            "partial": False,
        }
    ]
    sell = get(client, "/t/acme/win-rates/by-source?weeks=2&intent_type=sell", keys["writer"]).get_json()["rows"]
    assert [r["dimension"] for r in sell] == ["google"]
    exported = get(client, "/t/acme/win-rates/export?by=source&weeks=2", keys["writer"])
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["dimension"], r["win_rate"]) for r in rows] == [("google", "1.0"), ("linkedin-ads", "0.5")]
    too_long = get(client, "/t/acme/win-rates/by-source?weeks=27", keys["writer"])
    assert too_long.status_code == 400 and too_long.get_json()["error"]["field"] == "weeks"
    beta = app.warehouse.sql("select tenant_id, source_key, won from agg_source_win_rates where tenant_id = 'beta'")
    assert beta == [{"tenant_id": "beta", "source_key": "linkedin-ads", "won": 1}]


def test_a_week_with_no_decided_lead_has_no_win_rate(app, world):
    client, leads, keys = world
    post(
        client,
        "/t/acme/outcomes",
        keys["writer"],
        {"lead_id": leads["acme"]["Dee"], "outcome_type": "contacted", "occurred_at": LAST_WEEK.isoformat()},
    )
    run_job("win_rates", app)
    (row,) = app.warehouse.sql("select leads_entered, won, lost, win_rate from agg_source_win_rates")
    assert row == {"leads_entered": 1, "won": 0, "lost": 0, "win_rate": None}


def test_stale_leads_are_listed_and_nudged_once_a_day(app, world):
    client, leads, keys = world
    store = app.outcome_store
    stale_at = (NOW - timedelta(days=10)).isoformat()
    for name in ("Ada", "Bob", "Cy", "Dee"):
        store.set_attributes("acme", leads["acme"][name], {"last_activity_at": stale_at})
    post(
        client, "/t/acme/outcomes", keys["writer"], {"lead_id": leads["acme"]["Cy"], "outcome_type": "appointment_set"}
    )
    missing = get(client, "/t/acme/admin/outcomes/missing", keys["admin"]).get_json()["leads"]
    # Ada (A, 0-30) and Bob (B, 31-90); Cy has moved on; Dee is tier C.
    assert sorted(m["first_name"] for m in missing) == ["Ada", "Bob"] and {m["days_stale"] for m in missing} == {10}
    assert get(client, "/t/acme/admin/outcomes/missing", keys["writer"]).status_code == 403
    run_job("outcome_nudges", app)
    run_job("outcome_nudges", app)
    (nudge,) = store.nudges("acme", 10)
    assert (nudge["kind"], nudge["count"]) == ("OUTCOME_MISSING", 2)
    assert store.nudges("beta", 10) == []  # beta's leads have no activity recorded
    bulk = post(
        client,
        "/t/acme/admin/outcomes/bulk-update",
        keys["admin"],
        {"lead_ids": [m["lead_id"] for m in missing], "outcome_type": "contacted"},
    )
    assert [r["status"] for r in bulk.get_json()["results"]] == [201, 201]
    assert (
        get(client, "/t/acme/admin/outcomes/missing", keys["admin"]).get_json()["leads"] != []
    )  # contacted is not beyond contacted


def test_the_win_rates_page_sorts_and_pages_past_fifty_rows(app, world):
    client, _leads, keys = world
    rows = [
        {
            "tenant_id": "acme",
            "week_start": LAST_WEEK.date() - timedelta(days=1),
            "source_key": f"src-{n:02d}",
            "intent_type": "buy",
            "leads_entered": 1,
            "appointments": 0,
            "won": n % 2,
            "lost": 1 - n % 2,
            "win_rate": float(n % 2),
            "computed_at": NOW,
        }
        for n in range(60)
    ]
    app.warehouse.insert_rows("agg_source_win_rates", rows, id_field="source_key")
    login = client.post("/outcomes/t/acme/admin/login", data={"key": keys["admin"]})
    assert login.status_code == 303
    first = client.get("/outcomes/t/acme/admin/win-rates?by=source&weeks=4&sort=dimension&dir=asc")
    html = first.get_data(as_text=True)
    assert html.count("<tr><td>src-") == 50 and "src-00" in html and "src-50" not in html
    assert "page 1 of 2" in html and 'id="next"' in html
    second = client.get("/outcomes/t/acme/admin/win-rates?by=source&weeks=4&sort=dimension&dir=asc&page=2")
    assert second.get_data(as_text=True).count("<tr><td>src-") == 10
    other = client.get("/outcomes/t/beta/admin/win-rates")  # the session is acme's only
    assert other.status_code == 303 and other.headers["Location"].endswith("/t/beta/admin/login")
