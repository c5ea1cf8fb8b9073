"""The Campaigns page through the gateway (Firestore emulator, DuckDB): funnels from the rollups, contact
states, and pause / resume / stop for a tenant, a campaign and a contact — by an admin and by a member."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from tests.integration.campaigns.test_campaign_flow import deliver, outbox, seeded, start  # noqa: F401
from tests.integration.test_admin_pages import HOSTILE

pytestmark = pytest.mark.firestore
URL = "/outcomes/t/acme/admin"


def login(app, role):
    key = create_key(app.api_keys, "acme", [], f"{role} person", app.clock.now(), role=role)
    client = Client(build_gateway())
    assert client.post(f"{URL}/login", data={"key": key}).status_code == 303
    html = client.get(f"{URL}/campaigns").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def control(client, csrf, **form):
    return client.post(f"{URL}/campaigns/control", data={"csrf": csrf, **form})


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def started(seeded):  # noqa: F811
    start(seeded)
    return seeded


def test_the_funnel_shows_every_step_from_the_rollups_and_appointments_from_outcomes(started):
    app = started
    day = app.clock.now().date()
    _insert_metrics(app, day)
    lead = app.campaign_service.states.in_campaign("acme", "q1", 10)[0].contact.lead_id
    _insert_outcome(app, lead, "closed_won", "won")
    client, _csrf = login(app, "member")
    html = text(client.get(f"{URL}/campaigns"))
    assert 'class="chart funnel"' in html
    for step in ("Sent 40", "Delivered 38", "Human opens 20", "Clicks 9", "Replies 3", "Site visits 7"):
        assert step in html  # the chart's accessible summary
    assert "Became hot 2" in html and "Appointments 1" in html and "Won 1" in html
    assert "active 2" in html  # the contacts' states, counted


def _insert_metrics(app, day):
    app.warehouse.upsert_rows(
        "message_metrics_campaign_daily",
        [
            {
                "tenant_id": "acme",
                "campaign_id": "q1",
                "day": day,
                "sent": 40,
                "delivered": 38,
                "opened": 20,
                "clicked": 9,
                "replied": 3,
                "bounced": 1,
                "unsubscribed": 0,
                "spam_reports": 0,
                "events_received": 60,
                "unique_events": 60,
                "duplicate_rate": 0.0,
                "visits": 7,
                "leads_visited": 5,
                "leads_turned_hot": 2,
                "updated_at": app.clock.now(),
            },
            # Another tenant's and an old day's rows never count.
            *[
                {
                    "tenant_id": tenant,
                    "campaign_id": "q1",
                    "day": when,
                    **dict.fromkeys(
                        ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"), 1000
                    ),
                    **dict.fromkeys(("spam_reports", "events_received", "unique_events", "visits"), 1000),
                    **dict.fromkeys(("leads_visited", "leads_turned_hot"), 1000),
                    "duplicate_rate": 0.0,
                    "updated_at": app.clock.now(),
                }
                for tenant, when in (("beta", day), ("acme", day - timedelta(days=400)))
            ],
        ],
        key_fields=("tenant_id", "campaign_id", "day"),
    )
    identity = app.warehouse.sql("select count(*) as n from identity_map where tenant_id = 'acme'")
    assert identity[0]["n"] >= 1  # the import mapped the campaign's leads


def _insert_outcome(app, lead, outcome_type, stage):
    now = app.clock.now()
    row = {
        "outcome_id": f"o_{outcome_type}",
        "tenant_id": "acme",
        "lead_id": lead,
        "created_at": now,
        "occurred_at": now,
        "outcome_type": outcome_type,
        "outcome_stage": stage,
        "recorded_by": "test",
        "notes": "",
        "metadata": None,
        "source_key": "",
        "geo_key": "",
        "intent_type": "",
        "intent_level": "",
    }
    app.warehouse.upsert_rows("lead_outcomes", [row], key_fields=("outcome_id",))


def test_a_member_pauses_and_resumes_a_campaign_and_each_contact_gets_one_message(started):
    app, gateway = started, Client(build_gateway())
    client, csrf = login(app, "member")
    first = list(app.tasks.tasks)
    paused = control(client, csrf, action="pause", scope="campaign", campaign_id="q1")
    assert paused.status_code == 200 and "Paused: Campaign q1 is now paused" in text(paused)
    assert [deliver(app, gateway, t) for t in first] == ["held", "held"]
    assert outbox(app) == []
    page = text(client.get(f"{URL}/campaigns"))
    assert "held 2" in page and 'value="resume"' in page

    again = control(client, csrf, action="pause", scope="campaign", campaign_id="q1")
    assert "already paused: nothing changed" in text(again)

    app.clock.advance(minutes=30)
    resumed = control(client, csrf, action="resume", scope="campaign", campaign_id="q1")
    assert "2 contact campaigns changed" in text(resumed)
    rearmed = list(app.tasks.tasks)[2:]
    assert [deliver(app, gateway, t) for t in first + rearmed] == ["superseded", "superseded", "sent", "sent"]
    assert [deliver(app, gateway, t) for t in rearmed] == ["superseded", "superseded"]  # delivered twice
    assert len(outbox(app)) == 2  # one message per contact, never a duplicate


def test_a_contact_is_paused_by_email_from_the_page_and_only_that_contact_is_held(started):
    app, gateway = started, Client(build_gateway())
    client, csrf = login(app, "member")
    response = control(client, csrf, action="pause", scope="contact", lead_id="ada@example.com")
    assert response.status_code == 200 and "is now paused" in text(response)
    outcomes = sorted(deliver(app, gateway, t) for t in list(app.tasks.tasks))
    assert outcomes == ["held", "sent"]
    assert "paused 1" in text(client.get(f"{URL}/campaigns")) or "held 1" in text(client.get(f"{URL}/campaigns"))


def test_stop_asks_for_confirmation_then_is_final_and_a_resume_is_a_clear_409(started):
    app = started
    client, csrf = login(app, "admin")
    asked = control(client, csrf, action="stop", scope="tenant")
    assert asked.status_code == 200 and "Stop is final" in text(asked) and 'name="confirm" value="yes"' in text(asked)
    assert app.campaign_service.states.control("acme", None).state == "running"  # nothing stopped yet

    stopped = control(client, csrf, action="stop", scope="tenant", confirm="yes", reason="legal hold")
    assert stopped.status_code == 200 and "is now stopped" in text(stopped)
    assert app.campaign_service.states.control("acme", None).state == "stopped"

    refused = control(client, csrf, action="resume", scope="tenant")
    assert refused.status_code == 409
    assert "stop is final" in text(refused) and "legal hold" in text(refused)
    assert "Stopped — final" in text(client.get(f"{URL}/campaigns"))


def test_a_control_form_needs_the_session_csrf_token(started):
    client, _csrf = login(started, "member")
    forged = client.post(f"{URL}/campaigns/control", data={"action": "pause", "scope": "tenant", "csrf": "forged"})
    assert forged.status_code == 403
    assert started.campaign_service.states.control("acme", None).state == "running"


def test_a_missing_campaign_or_scope_is_named_and_the_typed_contact_is_kept(started):
    client, csrf = login(started, "admin")
    unknown = control(client, csrf, action="pause", scope="campaign", campaign_id="nope")
    assert unknown.status_code == 404 and "campaign_id: no campaign" in text(unknown)
    nobody = control(client, csrf, action="pause", scope="contact", lead_id="who@nowhere.example")
    assert nobody.status_code == 404 and 'value="who@nowhere.example"' in text(nobody)
    wrong = control(client, csrf, action="explode", scope="tenant")
    assert wrong.status_code == 400 and "action:" in text(wrong)


def test_no_campaign_page_or_control_answers_500_for_hostile_values(started):
    client, csrf = login(started, "admin")
    failures = []
    for value in HOSTILE:
        response = client.get(f"{URL}/campaigns", query_string={"campaign": value, "state": value, "page": value})
        if response.status_code >= 500:
            failures.append(("GET", value[:20], response.status_code))
        for field in ("action", "scope", "campaign_id", "lead_id", "reason", "confirm"):
            form = {"csrf": csrf, "action": "pause", "scope": "campaign", "campaign_id": "q1", field: value}
            response = control(client, csrf, **{k: v for k, v in form.items() if k != "csrf"})
            if response.status_code >= 500:
                failures.append((field, value[:20], response.status_code))
    assert failures == []


def test_an_empty_tenant_says_what_to_do_next(app):
    from oie.tenants.service import create_tenant

    create_tenant(
        app.tenants,
        {
            "tenant_id": "acme",
            "name": "Acme",
            "redirect_domains": ("acme.com",),
            "default_landing_url": "https://acme.com/",
        },
        allow_local_secret=True,
    )
    client, _csrf = login(app, "member")
    html = text(client.get(f"{URL}/campaigns"))
    assert "No campaign has contacts yet" in html and "No contacts are in a campaign yet" in html
