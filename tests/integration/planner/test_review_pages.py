"""The review queue, the planner settings and a lead's plan in the console, through the gateway:
plans written by the real google-genai SDK against the local Gemini server, on the Firestore
emulator and DuckDB; approve (as planned or edited) and reject by role, with CSRF."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.test import Client

from oie.campaigns.models import contact_campaign_id
from oie.campaigns.plan import parse_plan
from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from oie.planner.config import PlannerConfig
from oie.planner.prompt import PROMPT_VERSION
from tests.integration.planner.test_planning_tasks import TEMPLATE

pytestmark = pytest.mark.firestore
URL = "/outcomes/t/acme/admin"


@pytest.fixture
def app(planning_app):
    """The shared planning tenant, its AI plans held for review."""
    planning_app.planner_configs.put(
        "acme", PlannerConfig(offer="Acme shows who is ready to buy.", review_ai_plans=True)
    )
    return planning_app


@pytest.fixture
def queued(app):
    """Both contacts planned by the model and waiting for review."""
    gateway = Client(build_gateway())
    app.planning_tasks.start("acme", "q1", parse_plan(json.dumps(TEMPLATE)))
    for task in [t for t in app.tasks.tasks if t.queue == "campaign-planning"]:
        answer = gateway.post("/campaign_plan", json=task.payload, headers={"X-CloudTasks-TaskName": task.name})
        assert answer.get_json()["outcome"] == "queued_for_review"
    return {r.contact.first_name: r for r in app.plan_reviews.pending("acme", 10)}


def login(app, role, scopes=()):
    key = create_key(app.api_keys, "acme", list(scopes), f"{role} person", app.clock.now(), role=role)
    client = Client(build_gateway())
    assert client.post(f"{URL}/login", data={"key": key}).status_code == 303
    html = client.get(f"{URL}/plan-reviews").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def text(response):
    return response.get_data(as_text=True)


def started(app):
    return {s.contact.first_name: s for s in app.campaign_service.states.in_campaign("acme", "q1", 10)}


def test_a_member_reads_each_pending_plan_with_its_lead_copy_model_and_tokens(app, queued):
    client, _ = login(app, "member")
    html = text(client.get(f"{URL}/plan-reviews"))
    ada = queued["Ada"]
    assert "Ada" in html and "Grace" in html and "Engines" in html
    assert ada.messages[0].subject in html and ada.messages[1].subject in html  # the copy of every send node
    assert "gemini-2.5-flash" in html and PROMPT_VERSION in html
    assert f"{ada.record['prompt_tokens']} in · {ada.record['output_tokens']} out" in html
    assert "What the lead did:" in html
    assert started(app) == {}  # nothing is sent while plans wait


def test_approving_as_planned_starts_the_contact_once(app, queued):
    client, csrf = login(app, "member")
    ada = queued["Ada"]
    path = f"{URL}/plan-reviews/{ada.contact_campaign_id}"
    answer = client.post(f"{path}/approve", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/plan-reviews?done=approved")
    assert set(started(app)) == {"Ada"} and started(app)["Ada"].plan_version == ada.plan.content_hash()
    assert ada.contact_campaign_id not in text(client.get(f"{URL}/plan-reviews"))
    again = client.post(f"{path}/approve", data={"csrf": csrf})  # a second click changes nothing
    assert again.status_code == 303 and len(started(app)) == 1
    page = text(client.get(path))
    assert 'id="review-status">approved' in page and "key:" in page


def test_an_edited_copy_is_checked_like_the_models_and_started_as_edited(app, queued):
    client, csrf = login(app, "admin")
    grace = queued["Grace"]
    node = grace.messages[0].node_id
    path = f"{URL}/plan-reviews/{grace.contact_campaign_id}"
    invented = client.post(
        f"{path}/approve",
        data={"csrf": csrf, f"subject-{node}": "Globex saved 40% with us", f"text-{node}": grace.messages[0].text},
    )
    assert invented.status_code == 400
    assert "facts not in the input" in text(invented) and "Globex saved 40% with us" in text(invented)
    assert started(app) == {}

    answer = client.post(
        f"{path}/approve",
        data={"csrf": csrf, f"subject-{node}": "A short question, {{first_name|there}}", f"text-{node}": "Hi there."},
    )
    assert answer.status_code == 303
    state = started(app)["Grace"]
    plan = app.campaign_service.plans.get("acme", state.plan_version)
    assert plan.nodes[0].template.subject == "A short question, {{first_name|there}}"
    assert app.plan_reviews.get("acme", grace.contact_campaign_id).edited


def test_rejecting_needs_a_reason_and_starts_nothing(app, queued):
    client, csrf = login(app, "admin")
    ada = queued["Ada"]
    path = f"{URL}/plan-reviews/{ada.contact_campaign_id}"
    missing = client.post(f"{path}/reject", data={"csrf": csrf, "reason": "  "})
    assert missing.status_code == 400 and "needs a reason" in text(missing)
    done = client.post(f"{path}/reject", data={"csrf": csrf, "reason": "wrong persona"})
    assert done.status_code == 303 and done.headers["Location"].endswith("done=rejected")
    assert started(app) == {}
    after = client.post(f"{path}/approve", data={"csrf": csrf})
    assert after.status_code == 409 and "was rejected" in text(after)
    assert started(app) == {}


def test_a_member_key_without_the_campaign_scope_may_read_but_not_decide(app, queued):
    client, csrf = login(app, "member", scopes=("outcomes:read",))
    ada = queued["Ada"]
    path = f"{URL}/plan-reviews/{ada.contact_campaign_id}"
    page = text(client.get(path))
    assert 'id="approve"' not in page and "may read this plan but not approve" in page
    refused = client.post(f"{path}/approve", data={"csrf": csrf})
    assert refused.status_code == 403 and started(app) == {}


def test_a_forged_form_and_an_unknown_review_are_refused(app, queued):
    client, _csrf = login(app, "admin")
    ada = queued["Ada"]
    forged = client.post(f"{URL}/plan-reviews/{ada.contact_campaign_id}/approve", data={"csrf": "forged"})
    assert forged.status_code == 403 and started(app) == {}
    assert client.get(f"{URL}/plan-reviews/q1_ld_AAAAAAAAAAAAAAAA_email").status_code == 404
    assert client.get(f"{URL}/plan-reviews/..%2F..%2Fkeys").status_code == 404


def test_the_lead_page_shows_the_lead_analysis_and_how_its_plan_was_made(app, queued):
    client, csrf = login(app, "admin")
    ada = queued["Ada"]
    client.post(f"{URL}/plan-reviews/{ada.contact_campaign_id}/approve", data={"csrf": csrf})
    html = text(client.get(f"{URL}/leads/{ada.contact.lead_id}"))
    assert 'id="lead-analysis"' in html and ada.analysis.split(";")[0] in html
    section = html.split('id="ai-plan-q1"', 1)[1].split("</ol>", 1)[0]
    assert "gemini-2.5-flash" in section and PROMPT_VERSION in section
    assert f"{ada.record['prompt_tokens']} in · {ada.record['output_tokens']} out" in section
    assert ada.plan.content_hash()[:12] in section and ada.messages[0].subject in section
    assert contact_campaign_id("q1", ada.contact.lead_id) == ada.contact_campaign_id


def test_an_admin_changes_the_planner_settings_and_each_change_is_logged(app):
    client, csrf = login(app, "admin")
    page = client.get(f"{URL}/settings/planner")
    assert page.status_code == 200 and 'name="review_ai_plans" id="review_ai_plans" checked' in text(page)
    form = {
        "csrf": csrf,
        "offer": "Acme shows who is ready to buy.",
        "brief": "Short and plain.",
        "sender_company": "",
        "banned_phrases": "act now\n\nguaranteed\n",
        "daily_token_budget": "50000",
        "max_concurrent": "2",
    }
    saved = client.post(f"{URL}/settings/planner", data=form)  # review_ai_plans unticked
    assert saved.status_code == 200 and "Planner settings saved." in text(saved)
    config = app.planner_configs.get("acme")
    assert (config.review_ai_plans, config.banned_phrases, config.daily_token_budget) == (
        False,
        ("act now", "guaranteed"),
        50000,
    )
    logged = {c.setting for c in app.settings_log.recent("acme", 20)}
    assert {"planner.review_ai_plans", "planner.banned_phrases", "planner.brief"} <= logged
    bad = client.post(f"{URL}/settings/planner", data={**form, "max_concurrent": "0"})
    assert bad.status_code == 400 and "max_concurrent" in text(bad)
    member, _ = login(app, "member")
    assert member.get(f"{URL}/settings/planner").status_code == 403
