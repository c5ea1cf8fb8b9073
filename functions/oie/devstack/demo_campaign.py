"""The demo campaign of the local stack: a plan that reacts to intent, planned per contact by the model.

`demo_plan` is the template: an intro; a pricing visit within 7 days moves the contact to the
pricing follow-up (sent at once: the plan has no quiet hours, so the demo reacts in seconds);
a click gets the hot follow-up; no open in 3 days gets a bump. Replies, appointments, won, lost
or invalid outcomes, unsubscribes and bounces stop a contact by themselves (the engine's stop
rules). `plan_demo_campaign` hands each contact to the language-model planner (the local
Gemini server under `make run`); `seed_demo_campaign` starts everyone on the template itself.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from oie.campaigns.models import SenderIdentity, contact_campaign_id
from oie.campaigns.plan import Plan, parse_plan
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.service import CampaignService
from oie.campaigns.starting import StartReport
from oie.devstack.demo import DemoSeed
from oie.links.ids import campaign_id as to_campaign_id
from oie.planner.config import PlannerConfig
from oie.planner.tasks import EnqueueReport
from oie.wiring import Container

DEMO_TENANT = "demo"
DEMO_CAMPAIGN = "Demo Outreach"  # imported by oie.devstack.demo.seed_demo
DEMO_SENDER = SenderIdentity(
    sender_id="demo-sdr",
    from_email="sam@acme-analytics.example",
    from_name="Sam from Acme Analytics",
    verification="verified",
)
# What the model is told about the demo tenant (only when the tenant never set its own).
DEMO_PLANNER = PlannerConfig(
    offer="Acme Analytics shows sales teams which accounts are ready to buy, from the pages each lead "
    "reads and the emails each lead opens.",
    brief="Short, plain emails from one SDR to one person. Mention what the lead read on our site in "
    "words, never as numbers. One question per email.",
    sender_company="Acme Analytics (demo)",
    banned_phrases=("guaranteed", "act now"),
)


def demo_plan(base_url: str) -> dict[str, Any]:
    """Intro; pricing visit → pricing follow-up; click → hot follow-up; no open in 3 days → bump."""
    pricing = f"{base_url}/demo/pricing"
    return {
        "version": "1.0",
        "timezone": "America/Los_Angeles",
        "startNodeId": "intro",
        "nodes": [
            {
                "id": "intro",
                "type": "send",
                "channel": "email",
                "template": {
                    "subject": "{{first_name|Hi}}, a question about {{company|your team}}",
                    "text": f"Hi {{{{first_name|there}}}},\n\nWe help teams like {{{{company}}}} see who is "
                    f"ready to buy. Our pricing: {pricing}\n\nOr just look around: {{{{tracking_link}}}}\n\n"
                    "{{sender_name}}",
                    "html": f"<p>Hi {{{{first_name|there}}}},</p><p>We help teams like {{{{company}}}} see who is "
                    f'ready to buy. <a href="{pricing}">See pricing</a>.</p><p>{{{{sender_name}}}}</p>',
                },
                "transitions": [
                    {"on": "click", "to": "followup_hot"},
                    {"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing_followup"},
                    {"on": "no_open", "after": "P3D", "to": "bump"},
                    {"on": "timeout", "after": "P7D", "to": "done"},
                ],
            },
            {"id": "bump", "type": "wait", "duration": "PT1H", "next": "bump_send"},
            {
                "id": "bump_send",
                "type": "send",
                "template": {
                    "subject": "Re: {{first_name|Hi}}, a question about {{company|your team}}",
                    "text": "Bumping this up, {{first_name|there}}: worth a 15-minute look? {{tracking_link}}",
                },
                "transitions": [
                    {"on": "click", "to": "followup_hot"},
                    {"on": "page_visit", "page": "pricing", "within": "P4D", "to": "pricing_followup"},
                    {"on": "timeout", "after": "P4D", "to": "done"},
                ],
            },
            {
                "id": "pricing_followup",
                "type": "send",
                "template": {
                    "subject": "Questions about pricing, {{first_name|there}}?",
                    "text": "Hi {{first_name|there}},\n\nSaw you had a look at our plans. Happy to help you pick "
                    "one for {{company|your team}}: {{tracking_link}}\n\n{{sender_name}}",
                },
                "transitions": [{"on": "click", "to": "followup_hot"}, {"on": "timeout", "after": "P4D", "to": "done"}],
            },
            {
                "id": "followup_hot",
                "type": "send",
                "template": {
                    "subject": "Glad you had a look, {{first_name|there}}",
                    "text": f"Want me to walk you through it? Pick a time: {base_url}/demo/product",
                },
            },
            {"id": "done", "type": "stop", "reason": "sequence finished"},
        ],
    }


def seed_demo_sender(app: Container, base_url: str) -> Plan:
    """The demo sender and reply domain (the history seed sends too); the template plan. Idempotent."""
    tenant = app.tenants.get(DEMO_TENANT)
    if tenant is not None and not tenant.reply_domain:
        app.tenants.put(tenant.model_copy(update={"reply_domain": "replies.acme-analytics.example"}))
    app.campaign_senders.put(DEMO_TENANT, DEMO_SENDER)
    return parse_plan(json.dumps(demo_plan(base_url.rstrip("/"))))


def seed_demo_campaign(app: Container, base_url: str) -> StartReport:
    """A sender and the demo plan for tenant `demo`, started on the template for its imported leads (idempotent)."""
    plan = seed_demo_sender(app, base_url)
    service: CampaignService = app.campaign_service
    return service.start_campaign(DEMO_TENANT, to_campaign_id(DEMO_CAMPAIGN), TemplatePlanner(plan))


def plan_demo_campaign(app: Container, base_url: str) -> EnqueueReport:
    """The demo campaign planned per contact by the language model: one planning task per lead (idempotent).

    The tenant's planner settings get the demo's offer and brief unless someone changed them already.
    """
    plan = seed_demo_sender(app, base_url)
    if app.planner_configs.get(DEMO_TENANT) == PlannerConfig():
        app.planner_configs.put(DEMO_TENANT, DEMO_PLANNER)
    report: EnqueueReport = app.planning_tasks.start(DEMO_TENANT, to_campaign_id(DEMO_CAMPAIGN), plan)
    return report


def wait_for_demo_plans(app: Container, seed: DemoSeed, stop: threading.Event, timeout: float) -> int:
    """Wait until every demo contact is planned (started, or waiting for review); how many are not yet."""
    campaign = to_campaign_id(DEMO_CAMPAIGN)
    waiting = {contact_campaign_id(campaign, i.lead_id) for i in seed.leads}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline and not stop.is_set():
        started = {s.contact_campaign_id for s in app.campaign_service.states.in_campaign(DEMO_TENANT, campaign, 100)}
        waiting = {c for c in waiting - started if app.plan_reviews.store.get(DEMO_TENANT, c) is None}
        stop.wait(0.3)
    return len(waiting)
