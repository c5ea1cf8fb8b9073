"""The hot-leads landing page and the lead timeline page through the gateway, as a member logs in.

The week of tests/integration/console/test_console_api.py (DuckDB and the Firestore emulator):
Ada burning and on site now, Cy warm in a second campaign, Bob cold.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from oie.campaigns.models import contact_campaign_id
from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from tests.integration.console.test_console_api import NOW, X, store_campaign, world  # noqa: F401

pytestmark = pytest.mark.firestore
ADMIN = "/outcomes/t/acme/admin"


def browser(key: str) -> tuple[Client, str]:
    """A browser-like client logged into acme's pages, and its CSRF token."""
    client = Client(build_gateway())
    assert client.post(f"{ADMIN}/login", data={"key": key}).status_code == 303
    html = client.get(f"{ADMIN}/").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def member(app, world):  # noqa: F811
    _, people, campaigns, _ = world
    key = create_key(app.api_keys, "acme", [], "Sam SDR", NOW, role="member")
    client, csrf = browser(key)
    return client, csrf, people, campaigns


def rows(html: str) -> list[str]:
    """The lead ids of the hot-leads table, in its order."""
    return re.findall(r'<tr id="lead-([^"]+)" data-lead', html)


def page(client: Client, query: dict[str, str] | None = None) -> tuple[int, str]:
    answer = client.get(f"{ADMIN}/", query_string=query or {})
    return answer.status_code, answer.get_data(as_text=True)


def test_the_landing_page_ranks_leads_with_their_reason_presence_and_charts(member):
    client, _csrf, people, campaigns = member
    status, html = page(client)
    assert status == 200
    ada, cy = people["acme"]["Ada"].lead_id, people["acme"]["Cy"].lead_id
    assert rows(html) == [ada, cy]  # Bob is cold: the list shows warm and above
    assert f"pricing page 3{X}, form submitted, 2 sessions this week, 3 pages viewed" in html
    assert html.count("● on site now") == 1 and html.index("● on site now") < html.index(f'id="lead-{cy}"')
    assert campaigns["acme-q2"] in html.split(f'id="lead-{cy}"')[1]
    # The charts: every level's count, and the days leads rose to hot (Ada today).
    assert 'aria-label="Leads by intent level now: burning 1, hot 0, warm 1, cold 1"' in html
    assert re.search(r'aria-label="Leads that became hot or burning, last 7 days: [^"]*, Wed 11 1"', html)
    assert 'aria-label="Score of Ada Lovelace, last 7 days: none, none, none, none, ' in html
    # The outcomes overview stays reachable below, and on its own page.
    assert 'id="stages"' in html and 'id="search"' in html
    assert client.get(f"{ADMIN}/dashboard").status_code == 200


def test_filters_and_search_narrow_the_list(app, member):
    client, _csrf, people, campaigns = member
    ids = {name: people["acme"][name].lead_id for name in ("Ada", "Bob", "Cy")}
    app.outcome_store.set_attributes("acme", ids["Bob"], {"assigned_partner": "sam"})
    assert rows(page(client, {"q": "bob@example.com"})[1]) == [ids["Bob"]]
    assert rows(page(client, {"q": "  CABLES "})[1]) == [ids["Cy"]]
    assert rows(page(client, {"level": "cold"})[1]) == [ids["Bob"]]
    assert rows(page(client, {"level": "burning,hot,warm,cold", "campaign": campaigns["acme"]})[1]) == [
        ids["Ada"],
        ids["Cy"],
        ids["Bob"],
    ]
    assert rows(page(client, {"since": "1h"})[1]) == [ids["Ada"]]
    assert rows(page(client, {"owner": "sam"})[1]) == [ids["Bob"]]
    # What was typed stays in the form.
    html = page(client, {"q": "bob@example.com", "since": "1h"})[1]
    assert 'value="bob@example.com"' in html and '<option value="1h" selected>' in html


def test_no_match_and_a_bad_filter_say_what_to_do_next(member):
    client, *_ = member
    status, html = page(client, {"q": "nobody-here"})
    assert status == 200 and rows(html) == [] and "No lead matches these filters" in html
    status, html = page(client, {"since": "last-week", "q": "ada"})
    assert status == 400 and 'id="error"' in html and "since" in html and 'value="ada"' in html


def test_a_tenant_with_no_scored_leads_gets_an_empty_state(app, world):  # noqa: F811
    from oie.tenants.service import create_tenant

    create_tenant(
        app.tenants,
        {"tenant_id": "empty", "name": "E", "redirect_domains": ("e.com",), "default_landing_url": "https://e.com/"},
        allow_local_secret=True,
    )
    client = Client(build_gateway())
    key = create_key(app.api_keys, "empty", [], "Sam", NOW, role="member")
    assert client.post("/outcomes/t/empty/admin/login", data={"key": key}).status_code == 303
    html = client.get("/outcomes/t/empty/admin/").get_data(as_text=True)
    assert "No warm leads yet" in html and "No scored leads yet" in html and "No lead became hot" in html


def test_a_member_pauses_a_leads_campaign_with_the_csrf_token_only(app, member):
    client, csrf, people, campaigns = member
    ada = people["acme"]["Ada"].lead_id
    ccid = contact_campaign_id(campaigns["acme"], ada)
    store_campaign(app, ccid, campaigns["acme"], ada)
    form = {"lead_id": ada, "campaign_id": campaigns["acme"], "action": "pause"}
    forged = client.post(f"{ADMIN}/hot-leads/control", data=form)
    assert forged.status_code == 403 and not app.campaign_service.states.get("acme", ccid).paused
    done = client.post(f"{ADMIN}/hot-leads/control", data={**form, "csrf": csrf})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/admin/?done=pause&lead={ada}")
    assert app.campaign_service.states.get("acme", ccid).paused
    assert "Paused the campaign of lead" in client.get(done.headers["Location"]).get_data(as_text=True)
    # From the lead page: back to it, where the plan shows paused and offers a resume.
    again = client.post(f"{ADMIN}/hot-leads/control", data={**form, "action": "resume", "csrf": csrf, "back": "lead"})
    assert again.status_code == 303 and f"/leads/{ada}?done=resume" in again.headers["Location"]
    assert not app.campaign_service.states.get("acme", ccid).paused


def test_the_lead_page_tells_the_whole_story_and_keeps_the_outcome_form(app, member):
    client, csrf, people, campaigns = member
    ada = people["acme"]["Ada"].lead_id
    store_campaign(app, contact_campaign_id(campaigns["acme"], ada), campaigns["acme"], ada)
    html = client.get(f"{ADMIN}/leads/{ada}").get_data(as_text=True)
    story = html.split('id="story"')[1].split("</ol>")[0]
    titles = re.findall(r"<b>([^<]+)</b>", story)
    # Newest first: the next scheduled step, the rise to burning, the latest visit with its pages.
    assert titles[:3] == [
        f"campaign {campaigns['acme']}: next send at step follow_up",
        "warm → burning (score 82.5)",
        "visit: 2 pages, 0.0 active min",
    ]
    assert "/pricing: 0 s active, scrolled 0%, 1 CTA click" in story and "form submitted" in story
    assert 'aria-current="step">intro</li>' in html and "Pause this lead's campaign" in html
    assert 'aria-label="Score over the last 30 days: ' in html
    # The outcome form's rules hold: a refusal keeps what was typed.
    sent = {"csrf": csrf, "outcome_type": "closed_won", "occurred_at": "last tuesday", "notes": "typed <b>"}
    refused = client.post(f"{ADMIN}/leads/{ada}", data=sent)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'value="last tuesday"' in body and "typed &lt;b&gt;</textarea>" in body


HOSTILE = ["", "abc", "-1", "NaN", "../..", "\x00", "<script>alert(1)</script>", "é" * 3, "a" * 5000, "x@\x00" * 300]


def test_no_hostile_query_string_or_form_is_a_500(member):
    client, csrf, people, _ = member
    ada = people["acme"]["Ada"].lead_id
    failures = []
    for value in HOSTILE:
        query = {k: value for k in ("level", "campaign", "since", "owner", "q", "done", "lead", "limit", "page")}
        for path in ("/", f"/leads/{ada}"):
            if (status := client.get(f"{ADMIN}{path}", query_string=query).status_code) >= 500:
                failures.append(("GET", path, value[:10], status))
        form = {"csrf": csrf, **{k: value for k in ("lead_id", "campaign_id", "action", "back")}}
        if (status := client.post(f"{ADMIN}/hot-leads/control", data=form).status_code) >= 500:
            failures.append(("POST", "control", value[:10], status))
    raw = "q=x%40%ed%a0%80&level=%ff&since=%00&campaign=%c0%af&level=hot&level=warm"
    if (status := client.get(f"{ADMIN}/?{raw}").status_code) >= 500:
        failures.append(("GET", "/", "raw", status))
    assert failures == []
