"""/go, /track and /personalize together through the gateway, on the emulator and DuckDB."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.errors import BackendUnavailable
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.factories import csv_text
from tests.fakes import FakeClock
from tests.live import post_chunked, serving

pytestmark = pytest.mark.firestore
ORIGIN = "https://www.acme.com"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture
def leads(app):
    create_tenant(
        app.tenants,
        {
            "tenant_id": "acme",
            "name": "Acme",
            "redirect_domains": ("acme.com",),
            "allowed_origins": (ORIGIN,),
            "default_landing_url": "https://www.acme.com/",
        },
        allow_local_secret=True,
    )
    rows = csv_text("ada@example.com,Ada,Lovelace,Engines,CTO", "bob@example.com,Bob,,Builders,")
    return app.importer.run("acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://x").imported


@pytest.fixture
def gateway():
    return Client(build_gateway())


def click(gateway, tracking_id):
    """Follow a /go link; return (vid, token) the landing page receives."""
    location = gateway.get(f"/go?i={tracking_id}", headers={"User-Agent": CHROME}).headers["Location"]
    token = parse_qs(urlsplit(location).query)["oie_t"][0]
    return token.split(".")[0], token


def batch(vid, i, tok, *types, start=0):
    now = int(FakeClock().now().timestamp() * 1000)
    props = {
        "pageview": {"title": "Demo"},
        "scroll": {"depth": 50},
        "form_submit": {"fields": ["email"], "email": "ada@example.com"},
    }
    events = [
        {
            "id": f"e{start + n:07d}xx",
            "type": t,
            "ts": now,
            "url": "https://www.acme.com/demo",
            "props": props.get(t, {}),
        }
        for n, t in enumerate(types)
    ]
    return json.dumps(
        {"v": 1, "tenant": "acme", "vid": vid, "i": i, "tok": tok, "sid": "sess0001", "ctx": {}, "events": events}
    )


def post(gateway, body, origin=ORIGIN):
    return gateway.post(
        "/track", data=body, headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME}
    )


def test_a_text_plain_batch_is_stored_tied_to_its_lead_and_the_click_is_verified(app, leads, gateway):
    ada = leads[0]
    vid, tok = click(gateway, ada.tracking_id)
    response = post(gateway, batch(vid, ada.tracking_id, tok, "pageview", "scroll", "form_submit"))
    assert response.status_code == 202 and response.get_json() == {"accepted": 3}
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    rows = app.warehouse.sql(
        "select event_type, lead_id, visitor_id, session_id, identity_status, email_sha256 is not null as hashed "
        "from events_identified order by event_id"
    )
    assert [(r["event_type"], r["lead_id"], r["identity_status"], r["hashed"]) for r in rows] == [
        ("pageview", ada.lead_id, "verified", False),
        ("scroll", ada.lead_id, "verified", False),
        ("form_submit", ada.lead_id, "verified", True),
    ]
    assert {(r["visitor_id"], r["session_id"]) for r in rows} == {(vid, "sess0001")}
    quality = app.warehouse.sql("select is_verified, is_human from email_click_quality")
    assert quality == [{"is_verified": True, "is_human": True}]


def test_a_batch_from_a_foreign_origin_is_refused_and_nothing_is_stored(app, leads, gateway):
    response = post(gateway, batch("v1234567890abcd", None, None, "pageview"), origin="https://evil.com")
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers
    assert app.warehouse.sql("select count(*) as n from events") == [{"n": 0}]


def test_preflights_are_answered_for_tenant_origins_only(leads, gateway):
    allowed = gateway.options("/track", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert gateway.options("/track", headers={"Origin": "https://evil.com"}).status_code == 403


def test_a_mixed_batch_stores_the_good_events_and_names_the_bad_one(app, leads, gateway):
    body = json.loads(batch("v1234567890abcd", None, None, "pageview", "scroll"))
    body["events"][1]["props"]["depth"] = 42
    response = post(gateway, json.dumps(body))
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["accepted"] == 1 and payload["error"]["field"] == "events[1].props.depth"
    assert app.warehouse.sql("select event_type from events") == [{"event_type": "pageview"}]


def test_oversized_bodies_are_413(leads, gateway):
    response = post(gateway, "x" * (64 * 1024 + 1))
    assert response.status_code == 413 and response.get_json()["error"]["field"] == "body"


def test_when_the_warehouse_is_down_track_answers_503_and_a_retry_stores_once(app, leads, gateway, monkeypatch):
    body = batch("v1234567890abcd", None, None, "pageview", "scroll")
    real = app.warehouse.insert_rows

    def down(*args, **kwargs):
        raise BackendUnavailable("warehouse down")

    monkeypatch.setattr(app.warehouse, "insert_rows", down)
    assert post(gateway, body).status_code == 503
    monkeypatch.setattr(app.warehouse, "insert_rows", real)
    assert post(gateway, body).status_code == 202
    assert post(gateway, body).status_code == 202  # a duplicate delivery
    assert app.warehouse.sql("select count(*) as n from events") == [{"n": 2}]


def test_personalize_greets_a_verified_visitor_and_no_one_else(leads, gateway):
    vid, tok = click(gateway, leads[0].tracking_id)
    headers = {"Origin": ORIGIN}
    greeted = gateway.get(f"/personalize?tenant=acme&vid={vid}&tok={tok}", headers=headers)
    assert greeted.status_code == 200 and greeted.get_json() == {"firstName": "Ada", "company": "Engines"}
    assert greeted.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert gateway.get(f"/personalize?tenant=acme&vid={vid}", headers=headers).get_json() == {}
    assert gateway.get("/personalize?tenant=acme&vid=guessing12345", headers=headers).get_json() == {}
    foreign = gateway.get(f"/personalize?tenant=acme&vid={vid}&tok={tok}", headers={"Origin": "https://evil.com"})
    assert "Access-Control-Allow-Origin" not in foreign.headers  # a foreign page cannot read it
    bad = gateway.get("/personalize?tenant=acme&vid=x", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "vid"


def test_one_browser_showing_two_leads_keeps_them_apart_and_records_the_conflict(app, leads, gateway):
    ada, bob = leads
    vid, tok = click(gateway, ada.tracking_id)
    post(gateway, batch(vid, ada.tracking_id, tok, "pageview"))
    post(gateway, batch(vid, bob.tracking_id, None, "pageview", start=10))  # a forwarded email, opened later
    leads_of = app.warehouse.sql("select lead_id from events_identified order by occurred_at, event_id")
    assert [r["lead_id"] for r in leads_of] == [ada.lead_id, bob.lead_id]
    (conflict,) = app.warehouse.sql("select visitor_id, leads_seen, lead_ids from identity_conflicts")
    assert conflict["visitor_id"] == vid and conflict["leads_seen"] == 2
    assert set(conflict["lead_ids"]) == {ada.lead_id, bob.lead_id}


def test_one_hostile_value_costs_only_its_event_and_the_good_ones_reach_duckdb(app, leads, gateway):
    body = json.loads(batch("v1234567890abcd", None, None, "pageview", "scroll", "pageview", "custom", "pageview"))
    events = body["events"]
    events[1]["ts"] = 2**63
    events[2]["url"] = "https://www.acme.com/\ud800"
    events[3]["props"] = {"name": "x", "score": "NaN-literal", "deep": [[[[[1]]]]]}
    events[4]["props"] = {"title": "Infinity-literal"}
    raw = json.dumps(body).replace('"NaN-literal"', "NaN").replace('"Infinity-literal"', "Infinity")
    response = post(gateway, raw)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["accepted"] == 1
    assert [r["field"] for r in payload["rejected"]] == [
        "events[1].ts",
        "events[2].url",
        "events[3].props.score",
        "events[4].props.title",
    ]
    assert app.warehouse.sql("select event_id from events") == [{"event_id": "v1234567890abcd.e0000000xx"}]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"v": 1, "tenant": "acme", "events": [\xff]}',
        b"[1, 2]",
        b"null",
        b'"events"',
        b'{"v": 1, "tenant": "acme", "vid": "v1234567890abcd", "sid": "sess0001", "events": 7}',
        b'{"v": 1, "tenant": "acme", "vid": "v1234567890abcd", "sid": "sess0001", "ctx": {"dpr": NaN}, "events": [1]}',
    ],
)
def test_a_body_that_is_not_a_batch_is_a_400_naming_the_field_never_a_500(app, leads, gateway, body):
    response = post(gateway, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"].startswith(("body", "batch"))
    assert app.warehouse.sql("select count(*) as n from events") == [{"n": 0}]


def test_an_event_id_repeated_in_one_batch_is_stored_once_in_duckdb(app, leads, gateway):
    body = json.loads(batch("v1234567890abcd", None, None, "pageview", "scroll"))
    body["events"].append(dict(body["events"][0]))
    assert post(gateway, json.dumps(body)).get_json() == {"accepted": 3}
    assert app.warehouse.sql("select count(*) as n from events") == [{"n": 2}]


def test_a_chunked_upload_without_content_length_is_held_to_the_limit_on_a_real_server(app, leads):
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME}
    with serving(build_gateway()) as port:
        status, answer = post_chunked(port, "/track", [b"x" * 16_384] * 4 + [b"y" * 10], headers)
        assert status == 413 and json.loads(answer)["error"]["field"] == "body"
        good = batch("v1234567890abcd", None, None, "pageview").encode()
        status, answer = post_chunked(port, "/track", [good[:10], good[10:]], headers)
        assert (status, json.loads(answer)) == (202, {"accepted": 1})
    assert app.warehouse.sql("select count(*) as n from events") == [{"n": 1}]
