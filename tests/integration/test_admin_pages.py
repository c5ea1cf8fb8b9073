"""The admin pages through the gateway: no 500 for any query string or form value, counts that add up,
search, the current week in win rates, and a readable 503 when a backend is down."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import create_key
from oie.tenants.service import create_tenant
from tests.integration.test_outcomes_api import NOW, build_world, get, post

pytestmark = pytest.mark.firestore
PLAIN_LEADS = "email,first_name,company\nzoe@example.com,Zoe,Zinc\nyan@example.com,Yan,Yarn\n"


@pytest.fixture
def world(app):
    return build_world(app)


def admin_client(app, tenant, key):
    """A browser-like client logged into the tenant's admin pages, and its CSRF token."""
    client = Client(build_gateway())
    assert client.post(f"/outcomes/t/{tenant}/admin/login", data={"key": key}).status_code == 303
    html = client.get(f"/outcomes/t/{tenant}/admin/").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def plain(app, world):
    """A tenant whose leads carry no attributes at all (imported with names only)."""
    create_tenant(
        app.tenants,
        {
            "tenant_id": "plain",
            "name": "Plain",
            "redirect_domains": ("plain.com",),
            "default_landing_url": "https://plain.com/",
        },
        allow_local_secret=True,
    )
    app.importer.run("plain", "Q1", "https://plain.com/", parse_leads(PLAIN_LEADS.splitlines(True)), "x")
    return admin_client(app, "plain", create_key(app.api_keys, "plain", ["admin"], "Pat", NOW))


HOSTILE = [
    "",
    "abc",
    "-1",
    "0",
    "1e9",
    "99999999999999999999999",
    "NaN",
    "Infinity",
    "../..",
    "__x__",
    "\x00",
    "%00",
    "<script>alert(1)</script>",
    "é" * 3,
    "a" * 5000,
    "ld_" + "x" * 16,
    "x@\x00" + "@" * 3000,
]
QUERY_KEYS = ("page", "weeks", "min_denominator", "sort", "dir", "by", "intent_type", "q", "lead")
FILTER_KEYS = ("source_key", "geo_key", "tier", "assigned_partner")
FORM_KEYS = ("outcome_type", "occurred_at", "notes", "override", "lead_id", "key")


def routes(lead):
    return [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", f"/leads/{lead}"),
        ("POST", f"/leads/{lead}"),
        ("GET", "/leads"),
        ("GET", "/bulk"),
        ("POST", "/bulk"),
        ("GET", "/win-rates"),
        ("GET", "/win-rates.csv"),
        ("GET", "/missing"),
        ("POST", "/missing"),
        ("POST", "/nudges/outcome_missing-2026-03-11/dismiss"),
    ]


@pytest.mark.parametrize("tenant", ["acme", "plain"])
def test_no_admin_route_answers_500_for_any_query_string_or_form_value(app, world, plain, tenant):
    _client, leads, keys = world
    client, csrf = admin_client(app, "acme", keys["admin"]) if tenant == "acme" else plain
    lead = leads["acme"]["Ada"] if tenant == "acme" else "ld_0000000000000000"
    failures = []
    for method, path in routes(lead):
        for value in HOSTILE:
            url = f"/outcomes/t/{tenant}/admin{path}"
            query = {k: value for k in (*QUERY_KEYS, *FILTER_KEYS)}
            if method == "GET":
                response = client.get(url, query_string=query)
            else:
                form = {"csrf": csrf, **{k: value for k in (*FORM_KEYS, *FILTER_KEYS)}}
                response = client.post(url, query_string=query, data=form)
            if response.status_code >= 500:
                failures.append((method, path, value[:20], response.status_code))
    # Bytes that are not UTF-8 (a lone surrogate encoded, a stray 0xff) in the raw query string.
    for method, path in routes(lead):
        raw = "q=x%40%ed%a0%80&page=%ff&weeks=%00&sort=%ff%fe&tier=%ed%a0%80&source_key=%c0%af"
        response = client.open(f"/outcomes/t/{tenant}/admin{path}?{raw}", method=method, data={"csrf": csrf})
        if response.status_code >= 500:
            failures.append((method, path, "raw bytes", response.status_code))
    # Hostile path segments too: ids that are not ids are a 404 page.
    for bad in ("..", "__x__", "ld_abc%00defgh", "a" * 600, "%2e%2e"):
        for method in ("GET", "POST"):
            response = client.open(f"/outcomes/t/{tenant}/admin/leads/{bad}", method=method, data={"csrf": csrf})
            if response.status_code >= 500 or response.status_code not in (404, 405):
                failures.append((method, "leads/" + bad[:20], response.status_code))
        response = client.post(f"/outcomes/t/{tenant}/admin/nudges/{bad}/dismiss", data={"csrf": csrf})
        if response.status_code >= 500:
            failures.append(("POST", "nudges/" + bad[:20], response.status_code))
    assert failures == []


def test_bulk_outcomes_work_for_a_tenant_whose_leads_have_no_attributes(plain):
    client, _csrf = plain
    page = client.get("/outcomes/t/plain/admin/bulk")
    assert page.status_code == 200 and "Zoe" in page.get_data(as_text=True)


def stage_counts(client, tenant):
    html = client.get(f"/outcomes/t/{tenant}/admin/").get_data(as_text=True)
    return {m[0]: int(m[1]) for m in re.findall(r'<tr id="stage-([a-z_]+)">.*?<td class="num">(\d+)</td>', html, re.S)}


def test_leads_by_stage_counts_each_lead_once_in_its_current_stage(app, world):
    client_api, leads, keys = world
    for name, kinds in (("Ada", ("contacted", "appointment_set", "closed_won")), ("Bob", ("contacted", "closed_lost"))):
        for n, kind in enumerate(kinds):
            at = (NOW - timedelta(hours=10 - n)).isoformat()
            body = {"lead_id": leads["acme"][name], "outcome_type": kind, "occurred_at": at}
            assert post(client_api, "/t/acme/outcomes", keys["writer"], body).status_code == 201
    post(client_api, "/t/acme/outcomes", keys["writer"], {"lead_id": leads["acme"]["Cy"], "outcome_type": "contacted"})
    client, _csrf = admin_client(app, "acme", keys["admin"])
    counts = stage_counts(client, "acme")
    assert counts == {"top_of_funnel": 1, "won": 1, "lost": 1, "none": 1}
    assert sum(counts.values()) == 4


@pytest.mark.parametrize(
    ("q", "name"), [("ada@example.com", "Ada"), ("  ADA@Example.com ", "Ada"), ("bob", "Bob"), ("cables", "Cy")]
)
def test_a_lead_opens_by_email_name_or_company(app, world, q, name):
    _client, leads, keys = world
    client, _csrf = admin_client(app, "acme", keys["admin"])
    response = client.get("/outcomes/t/acme/admin/leads", query_string={"q": q})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leads/{leads['acme'][name]}")


def test_a_search_with_several_or_no_matches_lists_them(app, world):
    _client, leads, keys = world
    client, _csrf = admin_client(app, "acme", keys["admin"])
    several = client.get("/outcomes/t/acme/admin/leads", query_string={"q": "example.com"})
    html = several.get_data(as_text=True)
    assert several.status_code == 200 and all(leads["acme"][n] in html for n in ("Ada", "Bob", "Cy", "Dee"))
    assert leads["beta"]["Ada"] not in html  # another tenant's leads never show
    none = client.get("/outcomes/t/acme/admin/leads", query_string={"q": "nobody-at-all"})
    assert none.status_code == 200 and "No lead matches" in none.get_data(as_text=True)


def test_win_rates_show_the_current_week_so_far_and_the_three_tabs_agree(app, world):
    client_api, leads, keys = world
    this_week = NOW - timedelta(days=1)  # Tuesday of the current ISO week; no job has run
    for name, kind in (("Ada", "closed_won"), ("Bob", "closed_lost"), ("Cy", "closed_won")):
        body = {"lead_id": leads["acme"][name], "outcome_type": kind, "occurred_at": this_week.isoformat()}
        assert post(client_api, "/t/acme/outcomes", keys["writer"], body).status_code == 201
    totals = {}
    for by in ("source", "geo", "intent_level"):
        answer = get(client_api, f"/t/acme/win-rates/by-{by}", keys["writer"])
        assert answer.status_code == 200, answer.get_data(as_text=True)
        rows = answer.get_json()["rows"]
        assert rows and all(r["partial"] for r in rows)
        totals[by] = (sum(r["won"] for r in rows), sum(r["lost"] for r in rows))
    assert totals == {"source": (2, 1), "geo": (2, 1), "intent_level": (2, 1)}
    client, _csrf = admin_client(app, "acme", keys["admin"])
    html = client.get("/outcomes/t/acme/admin/win-rates?by=geo").get_data(as_text=True)
    assert "partial" in html and "london" in html and "paris" in html


def test_a_backend_outage_is_a_readable_503_page_and_a_json_503(app, world, tmp_path):
    _client_api, _leads, keys = world
    client, _csrf = admin_client(app, "acme", keys["admin"])
    app.warehouse.close()  # the warehouse is gone: its file replaced by a directory nobody can open
    app.warehouse.path = tmp_path / "gone"
    (tmp_path / "gone").mkdir()
    page = client.get("/outcomes/t/acme/admin/win-rates")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "unavailable" in page.get_data(as_text=True).lower() and page.headers.get("Retry-After")
    api = get(Client(build_gateway()), "/t/acme/win-rates/by-source", keys["writer"])
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "backend_unavailable"


def test_a_form_over_the_limit_is_a_413_even_without_content_length(app, world):
    _client_api, leads, keys = world
    client, csrf = admin_client(app, "acme", keys["admin"])
    body = f"csrf={csrf}&outcome_type=contacted&notes=".encode() + b"x" * 300_000
    response = client.post(
        f"/outcomes/t/acme/admin/leads/{leads['acme']['Ada']}",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413 and "body" in response.get_data(as_text=True)
    small = f"csrf={csrf}&outcome_type=contacted&notes=fine".encode()
    response = client.post(
        f"/outcomes/t/acme/admin/leads/{leads['acme']['Ada']}",
        input_stream=io.BytesIO(small),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200 and "Recorded contacted" in response.get_data(as_text=True)


def test_a_tenant_called_admin_still_has_its_api_and_the_pages_answer_without_a_slash(app, world):
    create_tenant(
        app.tenants,
        {
            "tenant_id": "admin",
            "name": "Admin",
            "redirect_domains": ("admin.com",),
            "default_landing_url": "https://admin.com/",
        },
        allow_local_secret=True,
    )
    key = create_key(app.api_keys, "admin", ["outcomes:read"], "reader", NOW)
    client = Client(build_gateway())
    response = get(client, "/t/admin/leads/ld_0000000000000000", key)
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "lead_id"
    page = client.get("/outcomes/t/acme/admin")
    assert page.status_code in (301, 302, 303, 308) and "/t/acme/admin" in page.headers["Location"]
