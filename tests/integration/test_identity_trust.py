"""The trust rule, end to end: the real recipient and the forger, through the gateway, the
Firestore emulator, DuckDB and a real alert receiver.

A tracking id is an identifier, not proof: events that carry only `i` are tracked and
scored, but their lead's level stays at most warm and no alert is sent until the server's
own proof (a token /go signed, or a /go click that handed out the visitor's id) vouches
for one of the lead's visitors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

from oie.alerts.payload import verify
from oie.alerts.service import alert_signing_key
from oie.devstack.gateway import build_gateway
from oie.identity import tokens
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from oie.tenants.models import AlertChannel
from oie.tenants.service import create_tenant
from tests.factories import csv_text

pytestmark = pytest.mark.firestore
ORIGIN = "https://www.acme.com"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
# What a page of high intent sends: 3 pricing, 1 product and 1 case-study pageview, a long
# read, a form and a finished video. Scored: recency 30 + frequency 4 + engagement 18.5
# (5 pageviews x 1.5 + 10 minutes + 1 milestone) + high intent 25 (3 x 8 + 4 + 5, cap)
# + conversions 20 (15 + 5) = 97.5: burning.
HIGH_INTENT = [
    ("pageview", "/pricing", {"title": "Pricing"}),
    ("scroll", "/pricing", {"depth": 50}),
    ("pageview", "/pricing", {}),
    ("pageview", "/pricing", {}),
    ("pageview", "/product/tour", {}),
    ("pageview", "/case-studies/acme", {}),
    ("active_time", "/case-studies/acme", {"ms": 600_000}),
    ("form_submit", "/demo", {"fields": ["email"], "form_id": "demo"}),
    ("video", "/demo", {"action": "complete"}),
]


class Receiver:
    """A local HTTP endpoint standing in for a CRM webhook: records every alert it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no stderr per request
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oie"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def ada(app, receiver):
    # A channel that wants even warm leads: an id-only lead must not reach it at any level.
    channel = AlertChannel(kind="generic", url=receiver.url, min_level="warm")
    create_tenant(
        app.tenants,
        {
            "tenant_id": "acme",
            "name": "Acme",
            "redirect_domains": ("acme.com",),
            "allowed_origins": (ORIGIN,),
            "default_landing_url": "https://www.acme.com/",
            "alert_channels": (channel,),
        },
        allow_local_secret=True,
    )
    rows = csv_text("ada@example.com,Ada,Lovelace,Engines,CTO")
    (lead,) = app.importer.run("acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://x").imported
    return lead


@pytest.fixture
def gateway():
    return Client(build_gateway())


def click(gateway, tracking_id):
    """Follow a /go link as a browser does; return the (visitor id, token) the landing page gets."""
    location = gateway.get(f"/go?i={tracking_id}", headers={"User-Agent": CHROME}).headers["Location"]
    token = parse_qs(urlsplit(location).query)["oie_t"][0]
    return token.split(".")[0], token


def post(gateway, app, vid, i, tok, events=HIGH_INTENT, email=None, start=0):
    """One /track batch, as the pixel (or anyone who copies its wire format) sends it."""
    now = int(app.clock.now().timestamp() * 1000)
    body = {
        "v": 1,
        "tenant": "acme",
        "vid": vid,
        "i": i,
        "tok": tok,
        "sid": "sess0001",
        "ctx": {},
        "events": [
            {
                "id": f"e{start + n:07d}xx",
                "type": kind,
                "ts": now + n * 1000,
                "url": f"https://www.acme.com{path}",
                "props": {**props, **({"email": email} if email and kind == "form_submit" else {})},
            }
            for n, (kind, path, props) in enumerate(events)
        ],
    }
    # The Origin header is whatever the caller writes: a script off the browser forges it at will.
    headers = {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME}
    response = gateway.post("/track", data=json.dumps(body), headers=headers)
    assert response.status_code == 202, response.get_json()


def run_jobs(app, minutes=5):
    """One scheduler cycle a few minutes later: sessionize, score (and its sync), alerts."""
    app.clock.advance(minutes=minutes)
    run_job("sessionize", app)
    run_job("score", app)
    run_job("hot_lead_alerts", app)


def profile(app, lead_id):
    (row,) = app.warehouse.sql("select * from lead_profiles where lead_id = $lead", {"lead": lead_id})
    return row


def test_the_real_recipient_who_clicked_through_go_can_become_burning_and_is_alerted(app, ada, gateway, receiver):
    vid, tok = click(gateway, ada.tracking_id)
    post(gateway, app, vid, ada.tracking_id, tok)
    run_jobs(app)
    got = profile(app, ada.lead_id)
    assert (got["score"], got["level"], got["uncapped_level"]) == (97.5, "burning", "burning")
    assert (got["evidence_level"], got["verified_sessions"], got["id_only_sessions"]) == ("verified", 1, 0)
    assert got["level_cap_reason"] is None
    (alert,) = receiver.alerts()
    assert (alert["lead"]["id"], alert["to_level"], alert["evidence"]["level"]) == (ada.lead_id, "burning", "verified")
    body, headers = receiver.received[0]
    assert verify(alert_signing_key(app.secrets, app.tenants.get("acme")), body, headers)
    assert [r["lead_id"] for r in app.warehouse.sql("select lead_id from high_intent_leads")] == [ada.lead_id]
    assert app.profiles.get("acme", ada.lead_id)["intentLevel"] == "burning"


def test_a_forger_with_a_known_id_and_a_forged_origin_is_tracked_and_scored_but_capped(app, ada, gateway, receiver):
    post(gateway, app, "forger0123456789", ada.tracking_id, None)  # no /go click, no token
    run_jobs(app)
    # Tracked: every event is stored and tied to the lead, as a plain `?i=` visit is.
    events = app.warehouse.sql("select distinct lead_id, identity_status from events_identified")
    assert events == [{"lead_id": ada.lead_id, "identity_status": "unverified"}]
    (session,) = app.warehouse.sql("select lead_id, evidence from sessions")
    assert session == {"lead_id": ada.lead_id, "evidence": "id_only"}
    # Scored, with the uncapped score kept, but the level held at warm, and why.
    got = profile(app, ada.lead_id)
    assert (got["score"], got["uncapped_level"], got["level"]) == (97.5, "burning", "warm")
    assert (got["evidence_level"], got["verified_sessions"], got["corroborated_sessions"]) == ("id_only", 0, 0)
    assert got["id_only_sessions"] == 1
    assert got["level_cap_reason"] == "id_only: no /go click or verified token; held at warm"
    # Nothing hot-based sees it: no alert (not even to a warm channel), not a high-intent lead,
    # and the page is told warm.
    assert receiver.received == []
    assert app.warehouse.sql("select * from high_intent_leads") == []
    assert app.profiles.get("acme", ada.lead_id)["intentLevel"] == "warm"
    changes = app.warehouse.sql("select from_level, to_level, evidence_level from lead_level_changes")
    assert changes == [{"from_level": None, "to_level": "warm", "evidence_level": "id_only"}]


def test_typing_the_leads_email_into_a_form_is_a_claim_too_and_stays_capped(app, ada, gateway, receiver):
    post(gateway, app, "forger0123456789", None, None, email="ada@example.com")  # no id at all
    run_jobs(app)
    got = profile(app, ada.lead_id)
    assert (got["uncapped_level"], got["level"], got["evidence_level"]) == ("burning", "warm", "id_only")
    assert receiver.received == []


def test_the_forgers_sessions_count_once_the_lead_itself_clicks_through_go(app, ada, gateway, receiver):
    # Evidence belongs to the lead: once /go vouches for one of its visitors, its id-only
    # sessions (a second device, a plain sequencer link) count in full.
    post(gateway, app, "forger0123456789", ada.tracking_id, None)
    run_jobs(app)
    assert receiver.received == []
    vid, tok = click(gateway, ada.tracking_id)
    post(gateway, app, vid, ada.tracking_id, tok, events=HIGH_INTENT[:1], start=100)
    run_jobs(app)
    got = profile(app, ada.lead_id)
    assert (got["level"], got["evidence_level"], got["verified_sessions"], got["id_only_sessions"]) == (
        "burning",
        "verified",
        1,
        1,
    )
    (alert,) = receiver.alerts()
    assert (alert["from_level"], alert["to_level"]) == ("warm", "burning")


def test_an_expired_token_still_corroborates_the_visitor_go_handed_out(app, ada, gateway, receiver):
    old = app.clock.now() - tokens.TOKEN_LIFETIME - timedelta(days=1)
    vid = tokens.new_visitor_id()
    tok = tokens.mint(app.derived_key("identity"), "acme", ada.tracking_id, vid, old)
    post(gateway, app, vid, ada.tracking_id, tok)
    run_jobs(app)
    assert app.warehouse.sql("select distinct identity_status from events") == [{"identity_status": "expired"}]
    got = profile(app, ada.lead_id)
    assert (got["level"], got["evidence_level"], got["corroborated_sessions"]) == ("burning", "corroborated", 1)
    assert len(receiver.received) == 1


def test_a_human_go_click_that_handed_out_the_visitors_id_corroborates_it(app, ada, gateway, receiver):
    # The token did not come along (a page that dropped it), but the visitor id /go minted did.
    vid, _ = click(gateway, ada.tracking_id)
    post(gateway, app, vid, ada.tracking_id, None)
    run_jobs(app)
    got = profile(app, ada.lead_id)
    assert (got["level"], got["evidence_level"], got["corroborated_sessions"]) == ("burning", "corroborated", 1)
    assert len(receiver.received) == 1
