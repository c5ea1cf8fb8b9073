"""The demo campaign of the local stack (moved from oie.campaigns): a reactive plan and a sender for tenant `demo`."""

from __future__ import annotations

import json
from typing import Any

from oie.campaigns.models import SenderIdentity
from oie.campaigns.plan import parse_plan
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.service import CampaignService, StartReport
from oie.links.ids import campaign_id as to_campaign_id
from oie.wiring import Container

DEMO_TENANT = "demo"
DEMO_CAMPAIGN = "Demo Outreach"  # imported by oie.devstack.demo.seed_demo
DEMO_SENDER = SenderIdentity(
    sender_id="demo-sdr",
    from_email="sam@acme-analytics.example",
    from_name="Sam from Acme Analytics",
    verification="verified",
)


def demo_plan(base_url: str) -> dict[str, Any]:
    """Intro; a click gets the hot follow-up; no open in 3 days gets a bump; a reply ends it."""
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


def seed_demo_campaign(app: Container, base_url: str) -> StartReport:
    """A sender and the demo plan for tenant `demo`, started for its imported leads (idempotent)."""
    tenant = app.tenants.get(DEMO_TENANT)
    if tenant is not None and not tenant.reply_domain:
        app.tenants.put(tenant.model_copy(update={"reply_domain": "replies.acme-analytics.example"}))
    app.campaign_senders.put(DEMO_TENANT, DEMO_SENDER)
    plan = parse_plan(json.dumps(demo_plan(base_url.rstrip("/"))))
    service: CampaignService = app.campaign_service
    return service.start_campaign(DEMO_TENANT, to_campaign_id(DEMO_CAMPAIGN), TemplatePlanner(plan))
