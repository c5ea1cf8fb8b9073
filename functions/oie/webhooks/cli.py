"""`oie webhooks …`: the local signer and signed demo events for the local stack."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote

import click

DEMO_EVENTS = ("delivered", "open", "click", "bounce", "reply", "machine-open")


@click.group()
def webhooks() -> None:
    """SendGrid webhooks: the local signer and demo events."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart/form-data body as SendGrid Inbound Parse posts it."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


def _local_app() -> Any:
    from oie.wiring import container

    app = container()
    if app.settings.env == "prod":
        raise click.ClickException("the local signer is for local development only")
    return app


@webhooks.command("trust-local-signer")
@click.option("--tenant", "tenant_id", default="demo", show_default=True)
def trust_local_signer(tenant_id: str) -> None:
    """Create the local key pair if missing and make it the tenant's SendGrid verification key."""
    from oie.webhooks.signer import LocalSigner, trust_for_tenant

    app = _local_app()
    signer = LocalSigner.load_or_create(app.settings.duckdb_path.parent)
    trust_for_tenant(app.tenants, tenant_id, signer)
    click.echo(f"tenant {tenant_id} now verifies with {signer.public_key_b64[:24]}…")


@webhooks.command("send-demo-events")
@click.option("--tenant", "tenant_id", default="demo", show_default=True)
@click.option("--base", default="http://127.0.0.1:8080", show_default=True, help="Where the gateway listens.")
@click.option("--event", "kinds", type=click.Choice(DEMO_EVENTS), multiple=True, required=True, help="Repeatable.")
@click.option("--message", "message_id", required=True, help="The oie_message_id (outbound_messages document).")
@click.option("--email", default="", help="Recipient, when the message document does not name one.")
@click.option("--contact-campaign", "contact_campaign_id", default="", help="When the message document is missing.")
@click.option("--url", "click_url", default="", help="The clicked URL (click events).")
def send_demo_events(
    tenant_id: str,
    base: str,
    kinds: tuple[str, ...],
    message_id: str,
    email: str,
    contact_campaign_id: str,
    click_url: str,
) -> None:
    """Post correctly signed SendGrid events (and an Inbound Parse reply) to the local endpoints."""
    from oie.webhooks.signer import LocalSigner, trust_for_tenant

    app = _local_app()
    signer = LocalSigner.load_or_create(app.settings.duckdb_path.parent)
    trust_for_tenant(app.tenants, tenant_id, signer)
    message = app.outbound_messages.get_many(tenant_id, [message_id]).get(message_id, {})
    email = email or str(message.get("to_email") or "")
    contact_campaign_id = contact_campaign_id or str(message.get("contact_campaign_id") or "")
    if not email:
        raise click.ClickException(f"message {message_id!r} not found: give --email and --contact-campaign")
    now = int(time.time())
    base = base.rstrip("/")
    args = {
        "tenant_id": tenant_id,
        "contact_campaign_id": contact_campaign_id,
        "node_id": str(message.get("node_id") or ""),
        "oie_message_id": message_id,
    }
    events = []
    for n, kind in enumerate(k for k in kinds if k != "reply"):
        event: dict[str, Any] = {
            "email": email,
            "timestamp": now - 60 + n,
            "event": "open" if kind == "machine-open" else kind,
            "sg_event_id": uuid.uuid4().hex,
            "sg_message_id": f"demo{message_id}.filter0001",
            **args,
        }
        if kind in ("open", "click", "machine-open"):
            event["useragent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
            event["ip"] = "203.0.113.7"
            event["sg_machine_open"] = kind == "machine-open"
        if kind == "click":
            event["url"] = click_url or f"{base}/demo/pricing"
        if kind == "bounce":
            event.update(type="bounce", reason="550 5.1.1 mailbox does not exist", status="5.1.1")
        events.append(event)
    if events:
        body = json.dumps(events).encode()
        status, answer = _post(f"{base}/webhooks/sendgrid/{tenant_id}", body, signer.headers(body, now))
        click.echo(f"events {', '.join(e['event'] for e in events)}: {status} {answer}")
    if "reply" in kinds:
        tenant = app.tenants.get(tenant_id)
        domain = (tenant.reply_domain if tenant else "") or "reply.localhost"
        token = str(message.get("reply_token") or "")
        rfc_id = str(message.get("rfc_message_id") or "")
        headers = f"Message-ID: <{uuid.uuid4().hex}@demo.example>\nSubject: Re: demo\n"
        if rfc_id:
            headers += f"In-Reply-To: {rfc_id if rfc_id.startswith('<') else f'<{rfc_id}>'}\n"
        body, content_type = _multipart(
            {
                "to": f"reply+{token}@{domain}" if token else f"sales@{domain}",
                "from": email,
                "subject": "Re: demo",
                "text": "Sounds interesting: can we talk on Thursday?",
                "headers": headers,
                "envelope": json.dumps({"to": [f"reply+{token}@{domain}"], "from": email}),
            }
        )
        parse_token = app.settings.inbound_parse_token.get_secret_value()
        status, answer = _post(
            f"{base}/webhooks/inbound/{tenant_id}?token={quote(parse_token)}", body, {"Content-Type": content_type}
        )
        click.echo(f"reply: {status} {answer}")
