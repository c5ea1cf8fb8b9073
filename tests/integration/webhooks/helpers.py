"""Shared pieces of the webhook tests: a recording task queue, a signed tenant, event factories."""

from __future__ import annotations

import json
from typing import Any

from oie.tenants.service import create_tenant
from oie.webhooks.signer import LocalSigner

TENANT = "acme"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
)


def seed_tenant(app: Any, signer: LocalSigner, tenant_id: str = TENANT) -> None:
    create_tenant(
        app.tenants,
        {
            "tenant_id": tenant_id,
            "name": tenant_id.title(),
            "redirect_domains": (f"{tenant_id}.com",),
            "default_landing_url": f"https://www.{tenant_id}.com/",
            "sendgrid_webhook_public_key": signer.public_key_b64,
            "reply_domain": f"reply.{tenant_id}.com",
            "ip_mode": "full",
        },
        allow_local_secret=True,
    )


def event(kind: str, n: int = 1, **extra: Any) -> dict[str, Any]:
    """One SendGrid event of message m<n>, as the Event Webhook posts it."""
    base: dict[str, Any] = {
        "email": f"lead{n}@example.com",
        "timestamp": 1772443000 + n,  # 2026-03-02 09:16:40 UTC + n
        "event": kind,
        "sg_event_id": f"sg-{kind}-{n}",
        "sg_message_id": f"msg{n}.filter0001.1.0",
        "tenant_id": TENANT,
        "contact_campaign_id": f"cc{n}",
        "node_id": "step1",
        "oie_message_id": f"m{n}",
    }
    if kind in ("open", "click"):
        base.update(useragent=CHROME, ip="198.51.100.7", sg_machine_open=False)
    if kind == "click":
        base["url"] = "https://www.acme.com/pricing"
    if kind == "bounce":
        base.update(type="bounce", reason="550 5.1.1 no such user", status="5.1.1")
    base.update(extra)
    return base


def post_events(client: Any, signer: LocalSigner, events: Any, *, at: int, tenant_id: str = TENANT) -> Any:
    body = json.dumps(events).encode() if not isinstance(events, bytes) else events
    return client.post(f"/webhooks/sendgrid/{tenant_id}", data=body, headers=signer.headers(body, at))
