"""Smartlead and Instantly posts in each documented shape, and the service's parts, as small factories."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from oie.suppressions.store import MemorySuppressions
from oie.tenants.models import Tenant
from oie.webhooks.sequencers.auth import secret_hash
from oie.webhooks.sequencers.normalise import LeadRef
from oie.webhooks.sequencers.store import MemoryLeads, MemorySecretHashes
from oie.webhooks.store import MemoryEventMarkers
from tests.fakes import FakeClock, FakeTenantStore, FakeWarehouse, RecordingQueue

# Each tenant's secret is these plus its id: a secret of one tenant never opens another's path.
SECRET = {"smartlead": "sl-secret-0123456789abcdef", "instantly": "in-secret-0123456789abcdef"}

SMARTLEAD_TIME_FIELD = {
    "EMAIL_SENT": "time_sent",
    "EMAIL_OPEN": "time_opened",
    "EMAIL_LINK_CLICK": "time_clicked",
    "EMAIL_REPLY": "time_replied",
    "EMAIL_BOUNCE": "time_sent",
}


def smartlead(kind: str, *, email: str = "ada@example.com", at: str = "2026-03-02T09:10:00.125+00:00", **extra: Any):
    """Smartlead's flat webhook form (its help center's "Response Structure"), new field names."""
    body: dict[str, Any] = {
        "webhook_id": 812,
        "webhook_name": "oie",
        "webhook_url": "https://functions.example/webhooks/smartlead/acme",
        "sl_email_lead_id": 5501,
        "sl_email_lead_map_id": 9901,
        "sl_lead_email": email,
        "stats_id": "st-77",
        "event_type": kind,
        "event_timestamp": at,
        "from_email": "sam@acme.com",
        "to_email": email,
        "to_name": "Ada",
        "subject": "Engines",
        "campaign_id": 4711,
        "campaign_name": "Q1 Enterprise",
        "campaign_status": "ACTIVE",
        "sequence_number": 1,
        "sent_message": {"message_id": "<sl-1@acme.com>", "html": "<p>Hi</p>", "text": "Hi", "time": at},
        "client_id": None,
        "app_url": "https://app.smartlead.ai/app/master-inbox",
        "secret_key": "their-own-webhook-key",
        "description": "",
        "metadata": {"webhook_created_at": "2026-01-05T08:00:00Z"},
    }
    if kind == "EMAIL_LINK_CLICK":
        body["link_details"] = ["https://links.acme.com/go?i=Tr4ck1ng"]
    if kind == "EMAIL_REPLY":
        body["reply_message"] = {"message_id": "<re-1@example.com>", "html": "", "text": "Thursday works", "time": at}
    if kind == "EMAIL_BOUNCE":
        body["bounce_message"] = {"message_id": "<b-1@mx>", "html": "", "text": "550 5.1.1 no such user", "time": at}
    body.update(extra)
    return body


def smartlead_deprecated(kind: str, *, email: str = "ada@example.com", at: str = "2026-03-02T09:10:00Z"):
    """The same form with the pre-2024 names (`time_*`, a top-level `message_id`)."""
    body = smartlead(kind, email=email, at=at)
    for key in ("event_timestamp", "sent_message", "sl_lead_email"):
        body.pop(key)
    body[SMARTLEAD_TIME_FIELD.get(kind, "time_sent")] = at
    body["message_id"] = "<sl-1@acme.com>"
    return body


def smartlead_nested(kind: str, *, email: str = "ada@example.com", tracking_id: str | None = None, **extra: Any):
    """The form Smartlead's API reference shows: `event`, `timestamp` and a nested `lead`."""
    fields = {"tracking_id": tracking_id} if tracking_id else {"job_title": "CTO"}
    body: dict[str, Any] = {
        "event": kind,
        "timestamp": "2026-03-02T09:12:00Z",
        "campaign_id": 4711,
        "campaign_name": "Q1 Enterprise",
        "lead_id": 789,
        "email_account_id": 456,
        "lead": {"email": email, "first_name": "Ada", "company_name": "Engines", "custom_fields": fields},
        "sequence_number": 2,
        "email": {"subject": "Engines", "message_id": "sl-2@smartlead.ai"},
    }
    if kind == "EMAIL_CLICKED":
        body["link"] = {"url": "https://www.acme.com/pricing", "clicked_at": body["timestamp"]}
    body.update(extra)
    return body


def instantly(kind: str, *, email: str = "ada@example.com", at: str = "2026-03-02T09:14:00.000Z", **extra: Any):
    """Instantly's documented webhook schema; the lead's custom variables come as extra keys."""
    body: dict[str, Any] = {
        "timestamp": at,
        "event_type": kind,
        "workspace": "0192f0c4-0000-7000-8000-00000000a1a1",
        "campaign_id": "0192f0c4-0000-7000-8000-00000000c4c4",
        "campaign_name": "Q1 Enterprise",
        "lead_email": email,
        "email_account": "sam@acme.com",
        "step": 1,
        "variant": 1,
        "is_first": True,
        "email_id": "0192f0c4-0000-7000-8000-00000000e1e1",
        "email_subject": "Engines",
        "firstName": "Ada",
        "companyName": "Engines",
    }
    if kind == "reply_received":
        body.update(
            reply_text_snippet="Thursday works",
            reply_subject="Re: Engines",
            reply_text="Thursday works for me.",
            unibox_url="https://app.instantly.ai/app/unibox",
        )
    if kind == "email_link_clicked":
        body["link_url"] = "https://www.acme.com/pricing"
    body.update(extra)
    return body


def encoded(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _tenant(tenant_id: str) -> Tenant:
    return Tenant(
        tenant_id=tenant_id,
        name=tenant_id,
        redirect_domains=(f"{tenant_id}.com",),
        default_landing_url=f"https://www.{tenant_id}.com/",
        id_secret_ref="local:c2VjcmV0",
    )


def make_parts() -> dict[str, Any]:
    """The service's collaborators as fakes: tenants acme and globex; ada@example.com is in q1 (by email)
    and tracking id Tr4ck1ng is hers in q2."""
    secrets = MemorySecretHashes()
    for tenant in ("acme", "globex"):
        for sequencer in ("smartlead", "instantly"):
            secrets.put(tenant, sequencer, secret_hash(tenant, sequencer, SECRET[sequencer] + tenant), None)
    ada = hashlib.sha256(b"ada@example.com").hexdigest()
    return {
        "tenants": FakeTenantStore(_tenant("acme"), _tenant("globex")),
        "secrets": secrets,
        "leads": MemoryLeads(
            {("acme", "Tr4ck1ng"): LeadRef("ld_ada", "q2", "tracking_id")},
            {("acme", ada): LeadRef("ld_ada", "q1", "email")},
        ),
        "markers": MemoryEventMarkers(),
        "warehouse": FakeWarehouse(),
        "tasks": RecordingQueue(),
        "suppressions": MemorySuppressions(),
        "clock": FakeClock(),
    }
