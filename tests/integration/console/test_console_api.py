"""Hot leads and the lead timeline on DuckDB and the Firestore emulator, through the gateway.

Golden style: a hand-made week of two tenants in, the list and the story out, read through
the JSON API with the tenant's own key; another tenant's key, lead or data never leaks in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from werkzeug.test import Client

from oie.alerts.service import alert_key
from oie.campaigns.models import Contact, ContactCampaign, PendingStep, contact_campaign_id
from oie.campaigns.plan import Plan
from oie.devstack.gateway import build_gateway
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import create_key
from oie.tenants.service import create_tenant
from tests.factories import event_row as ev

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
X = "\N{MULTIPLICATION SIGN}"
HOOK = "https://hooks.example/acme"
LEADS = """email,first_name,last_name,company
ada@example.com,Ada,Lovelace,Engines
bob@example.com,Bob,Baker,Builders
cy@example.com,Cy,Young,Cables
"""


def run_jobs(app, now: datetime) -> None:
    app.clock.current = now
    run_job("sessionize", app)
    run_job("score", app)


@pytest.fixture
def world(app):
    """acme (Ada burning and on site now, Bob cold, Cy in a second campaign), beta with the same people."""
    app.clock.current = NOW - timedelta(days=2, hours=1)
    for tenant in ("acme", "beta"):
        create_tenant(
            app.tenants,
            {
                "tenant_id": tenant,
                "name": tenant,
                "redirect_domains": (f"{tenant}.com",),
                "default_landing_url": f"https://{tenant}.com/",
                "alert_channels": [{"kind": "generic", "url": HOOK}] if tenant == "acme" else [],
            },
            allow_local_secret=True,
        )
    people, campaigns = {}, {}
    for tenant in ("acme", "beta"):
        extra = "zed@example.com,Zed,Zee,Zoo\n" if tenant == "beta" else ""
        done = app.importer.run(
            tenant, "Q1", f"https://{tenant}.com/", parse_leads((LEADS + extra).splitlines(True)), "x"
        )
        people[tenant] = {i.lead.first_name: i for i in done.imported}
        campaigns[tenant] = done.campaign.campaign_id
    q2 = app.importer.run(
        "acme", "Q2", "https://acme.com/", parse_leads(LEADS.splitlines(True)[:1] + LEADS.splitlines(True)[3:]), "x"
    )
    campaigns["acme-q2"] = q2.campaign.campaign_id
    ada, bob, cy = (people["acme"][n].tracking_id for n in ("Ada", "Bob", "Cy"))
    two_days_ago = NOW - timedelta(days=2, hours=1)
    app.warehouse.insert_rows(
        "events",
        [
            ev("acme", "vis_ada", two_days_ago, "pageview", "/pricing", i=ada),
            ev("acme", "vis_ada", two_days_ago + timedelta(minutes=1), "scroll", "/pricing", i=ada, depth=50),
            ev("beta", "vis_ada", two_days_ago, "pageview", "/", i=people["beta"]["Ada"].tracking_id),
        ],
        id_field="event_id",
    )
    run_jobs(app, NOW - timedelta(days=2))
    app.warehouse.insert_rows(
        "events",
        [
            ev("acme", "vis_ada", NOW - timedelta(minutes=9), "pageview", "/pricing", i=ada),
            ev("acme", "vis_ada", NOW - timedelta(minutes=8), "click", "/pricing", i=ada, cta=True, tag="a"),
            ev("acme", "vis_ada", NOW - timedelta(minutes=7), "pageview", "/pricing", i=ada),
            ev("acme", "vis_ada", NOW - timedelta(minutes=6), "form_start", "/pricing", i=ada, form_id="demo"),
            ev("acme", "vis_ada", NOW - timedelta(minutes=5), "form_submit", "/pricing", i=ada, form_id="demo"),
            ev("acme", "vis_bob", NOW - timedelta(days=1), "pageview", "/", i=bob),
            ev("acme", "vis_cy", NOW - timedelta(hours=3), "pageview", "/case-studies/x", i=cy),
            ev("acme", "vis_cy", NOW - timedelta(hours=3, minutes=-1), "pageview", "/product/y", i=cy),
            ev("acme", "vis_cy", NOW - timedelta(hours=3, minutes=-2), "pageview", "/pricing", i=cy),
        ],
        id_field="event_id",
    )
    run_jobs(app, NOW)
    keys = {
        "member": create_key(app.api_keys, "acme", ["outcomes:read", "outcomes:write"], "sdr", NOW),
        "beta": create_key(app.api_keys, "beta", ["admin"], "beta admin", NOW),
    }
    return Client(build_gateway()), people, campaigns, keys


def get(client, path, key):
    return client.get(f"/outcomes{path}", headers={"Authorization": f"Bearer {key}"})


def test_hot_leads_are_ranked_with_their_reason_presence_and_trend(app, world):
    client, _, campaigns, keys = world
    answer = get(client, "/t/acme/hot-leads", keys["member"])
    assert answer.status_code == 200, answer.get_json()
    leads = answer.get_json()["leads"]
    # Bob is cold: the list alone shows warm and above.
    assert [(lead["name"], lead["level"]) for lead in leads] == [("Ada Lovelace", "burning"), ("Cy Young", "warm")]
    ada, cy = leads
    assert ada["email"] == "ada@example.com" and ada["company"] == "Engines"
    assert ada["reason"] == f"pricing page 3{X}, form submitted, 2 sessions this week, 3 pages viewed"
    assert (ada["on_site_now"], cy["on_site_now"]) == (True, False)
    # Cy was imported into Q2 as well: the latest campaign shows.
    assert (ada["campaign_id"], cy["campaign_id"]) == (campaigns["acme"], campaigns["acme-q2"])
    assert ada["evidence_level"] == "verified"
    trend = [p["score"] for p in ada["trend"]]
    first = trend[4]
    assert trend[:4] == [None] * 4 and first is not None and trend[5] == first
    assert trend[6] == ada["score"] and ada["trend_change"] == round(ada["score"] - first, 1)
    assert [p["day"] for p in ada["trend"]][-1] == NOW.date().isoformat()


def test_filters_narrow_the_list(app, world):
    client, people, campaigns, keys = world
    app.outcome_store.set_attributes("acme", people["acme"]["Bob"].lead_id, {"assigned_partner": "sam"})

    def names(query: str) -> list[str]:
        answer = get(client, f"/t/acme/hot-leads?{query}", keys["member"])
        assert answer.status_code == 200, answer.get_json()
        return [lead["name"] for lead in answer.get_json()["leads"]]

    assert names("level=cold") == ["Bob Baker"]
    assert names("level=burning,warm&limit=1") == ["Ada Lovelace"]
    assert names(f"campaign={campaigns['acme']}&level=cold,warm,hot,burning") == [
        "Ada Lovelace",
        "Cy Young",
        "Bob Baker",
    ]
    assert names(f"campaign={campaigns['acme-q2']}") == ["Cy Young"]
    assert names("since=1h") == ["Ada Lovelace"]
    # A search or an owner finds people whatever their level; emails and names live in Firestore.
    assert names("q=bob@example.com") == ["Bob Baker"]
    assert names("q=cables") == ["Cy Young"]
    assert names("q=nobody-here") == []
    assert names("owner=sam") == ["Bob Baker"]
    assert names("owner=sam&q=ada") == []


def test_a_bad_filter_is_a_400_naming_it(world):
    client, _, _, keys = world
    answer = get(client, "/t/acme/hot-leads?limit=500", keys["member"])
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "limit"
    answer = get(client, "/t/acme/hot-leads?since=last-week", keys["member"])
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "since"


def test_another_tenant_sees_nothing_of_acme(app, world):
    client, people, _, keys = world
    assert get(client, "/t/acme/hot-leads", keys["beta"]).status_code == 403
    lead = people["acme"]["Ada"].lead_id
    assert get(client, f"/t/acme/leads/{lead}/timeline", keys["beta"]).status_code == 403
    # acme's key on a lead only beta has: no such lead for acme.
    zed = people["beta"]["Zed"].lead_id
    assert get(client, f"/t/acme/leads/{zed}/timeline", keys["member"]).status_code == 404
    # beta's own list holds only beta's Ada, cold from one pageview.
    beta_key = keys["beta"]
    beta = get(client, "/t/beta/hot-leads?level=cold,warm,hot,burning", beta_key).get_json()["leads"]
    assert [(lead["name"], lead["level"], lead["on_site_now"]) for lead in beta] == [("Ada Lovelace", "cold", False)]


def test_the_timeline_tells_the_whole_story(app, world):
    client, people, campaigns, keys = world
    ada = people["acme"]["Ada"].lead_id
    ccid = contact_campaign_id(campaigns["acme"], ada)
    app.warehouse.insert_rows(
        "message_events",
        [
            message(1, ccid, campaigns["acme"], NOW - timedelta(days=3), "processed"),
            message(2, ccid, campaigns["acme"], NOW - timedelta(days=3, minutes=-1), "open", machine=True),
            message(3, ccid, campaigns["acme"], NOW - timedelta(days=3, minutes=-2), "click", scanner=True),
            message(4, "other_ccid", campaigns["acme"], NOW - timedelta(days=3), "open"),
        ],
        id_field="row_id",
    )
    store_campaign(app, ccid, campaigns["acme"], people["acme"]["Ada"].lead_id)
    (change,) = app.warehouse.sql(
        f"select change_id from lead_level_changes where tenant_id = 'acme' and lead_id = '{ada}' and to_level = 'burning'"
    )
    tenant = app.tenants.get("acme")
    app.firestore.collection("alert_markers").document(alert_key(change["change_id"], tenant.alert_channels[0])).set(
        {"state": "sent"}
    )
    outcome = {"lead_id": ada, "outcome_type": "contacted", "occurred_at": (NOW - timedelta(minutes=1)).isoformat()}
    posted = client.post(
        "/outcomes/t/acme/outcomes", json=outcome, headers={"Authorization": f"Bearer {keys['member']}"}
    )
    assert posted.status_code == 201, posted.get_json()

    answer = get(client, f"/t/acme/leads/{ada}/timeline", keys["member"])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    kinds = [(i["kind"], i["title"], i["flags"]) for i in body["items"]]
    # The campaign entered its first step before the email went; levels change when a score run sees the visit.
    assert kinds == [
        ("campaign", "campaign " + campaigns["acme"] + ": at step intro", ["active"]),
        ("email", "email sent", []),
        ("email", "email opened", ["machine open"]),
        ("email", "email link clicked", ["scanner click"]),
        ("identity", "browser linked by a tracking link", ["verified"]),
        ("session", "visit: 1 pages, 0.0 active min", ["verified"]),
        ("level_change", "new → warm (score 44.5)", []),
        ("session", "visit: 2 pages, 0.0 active min", ["verified"]),
        ("outcome", "contacted", []),
        ("level_change", "warm → burning (score 82.5)", ["alert sent"]),
        ("campaign", "campaign " + campaigns["acme"] + ": next send at step follow_up", ["scheduled"]),
    ]
    latest = body["items"][7]
    assert [(p["path"], p["cta_clicks"], p["forms_started"], p["forms_submitted"]) for p in latest["pages"]] == [
        ("/pricing", 1, 0, 0),
        ("/pricing", 0, 1, 1),
    ]
    assert body["campaigns"] == [
        {
            "campaign_id": campaigns["acme"],
            "status": "active",
            "current_node": "intro",
            "nodes": ["intro", "follow_up", "done"],
            "next_step_kind": "send",
            "next_step_node": "follow_up",
            "next_step_at": "2026-03-12T15:00:00Z",
        }
    ]
    score = body["score"]
    assert len(score) == 30 and score[-1]["day"] == NOW.date().isoformat()
    assert score[-1]["level"] == "burning" and score[-3]["level"] == "warm" and score[-4]["score"] is None
    assert body["truncated"] == []


def message(n: int, ccid: str, campaign: str, at: datetime, kind: str, machine: bool = False, scanner: bool = False):
    return {
        "row_id": f"d1:{n}",
        "dedup_key": f"k{n}",
        "tenant_id": "acme",
        "source": "sendgrid",
        "received_at": at,
        "occurred_at": at,
        "event_type": kind,
        "is_known_type": True,
        "contact_campaign_id": ccid,
        "campaign_id": campaign,
        "node_id": "intro",
        "is_machine_open": machine,
        "is_scanner_click": scanner,
        "is_duplicate": False,
    }


def store_campaign(app, ccid: str, campaign: str, lead_id: str) -> None:
    plan = Plan.model_validate(
        {
            "start_node_id": "intro",
            "nodes": [
                {"id": "intro", "type": "send", "template": {"subject": "Hi", "text": "Hello"}},
                {"id": "follow_up", "type": "send", "template": {"subject": "Again", "text": "Hello again"}},
                {"id": "done", "type": "stop"},
            ],
        }
    )
    tenant = app.firestore.collection("tenants").document("acme")
    tenant.collection("campaign_plan_versions").document("v1").set(
        {"version": "v1", "plan": plan.model_dump(mode="json", by_alias=True)}
    )
    state = ContactCampaign(
        tenant_id="acme",
        contact_campaign_id=ccid,
        campaign_id=campaign,
        contact=Contact(lead_id=lead_id, email="ada@example.com", tracking_id="t"),
        sender_id="s1",
        plan_version="v1",
        current_node="intro",
        node_entered_at=NOW - timedelta(days=3, minutes=1),
        pending=PendingStep(key="k", kind="send", node_id="follow_up", due_at=NOW + timedelta(days=1)),
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=3),
    )
    tenant.collection("contact_campaigns").document(ccid).set(state.model_dump())


def test_history_snapshots_one_row_per_lead_per_day(app, world):
    rows = app.warehouse.sql(
        "select lead_id, day, level from lead_score_history where tenant_id = 'acme' order by lead_id, day"
    )
    days = {(r["lead_id"], r["day"]) for r in rows}
    assert len(days) == len(rows)
    assert {r["day"] for r in rows} == {date(2026, 3, 9), date(2026, 3, 11)}
    # A re-run the same day replaces the day's row.
    run_jobs(app, NOW + timedelta(minutes=15))
    again = app.warehouse.sql("select lead_id, day from lead_score_history where tenant_id = 'acme'")
    assert len(again) == len(rows)
