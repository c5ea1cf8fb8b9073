"""`oie webhooks …`: a tenant's Inbound Parse credential, the local signer and signed demo events."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import click

from oie.cli.output import OieGroup, emit, json_option

DEMO_EVENTS = ("delivered", "open", "click", "bounce", "reply", "machine-open")


@click.group(cls=OieGroup)
def webhooks() -> None:
    """SendGrid, Smartlead and Instantly webhooks: credentials, the local signer and demo events."""


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
    from oie.cli.context import app as connect

    app = connect()
    if app.settings.env == "prod":
        raise click.ClickException("the local signer is for local development only")
    return app


def _new_inbound_credential(app: Any, tenant_id: str) -> Any:
    """Give the tenant a fresh Inbound Parse credential (the previous one stops working); return it."""
    from oie.errors import NotFound
    from oie.tenants.models import Tenant
    from oie.webhooks.inbound_auth import new_credential

    tenant = app.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    credentials, stored = new_credential(tenant_id)
    app.tenants.put(Tenant.model_validate({**tenant.model_dump(), "inbound_parse_credential": stored}))
    return credentials


@webhooks.command("inbound-credential")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--base", default="", help="Public base URL of the functions (default: OIE_FUNCTIONS_BASE_URL).")
@json_option
def inbound_credential(tenant_id: str, base: str) -> None:
    """Create (or replace) the tenant's Inbound Parse credential; print the URL for SendGrid, once."""
    from oie.cli.context import app as connect
    from oie.webhooks.inbound_auth import url_with_credentials

    app = connect()
    credentials = _new_inbound_credential(app, tenant_id)
    url = url_with_credentials(base or str(app.settings.functions_base_url), tenant_id, credentials)
    emit(
        {"tenant_id": tenant_id, "url": url},
        summary="Paste the url as the Destination URL of the tenant's SendGrid Inbound Parse host. It is shown "
        "once: only a hash is stored, and the previous credential no longer works.",
    )


@webhooks.command("sequencer-secret")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--sequencer", type=click.Choice(["smartlead", "instantly"]), required=True)
@click.option("--base", default="", help="Public base URL of the functions (default: OIE_FUNCTIONS_BASE_URL).")
@json_option
def sequencer_secret(tenant_id: str, sequencer: str, base: str) -> None:
    """Create (or replace) the tenant's webhook secret for Smartlead or Instantly; print it, once."""
    from oie.cli.context import app as connect
    from oie.errors import NotFound
    from oie.webhooks.sequencers.auth import SECRET_HEADER, new_secret, webhook_url
    from oie.webhooks.sequencers.models import SEQUENCERS

    app = connect()
    if app.tenants.get(tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    kind = next(s for s in SEQUENCERS if s == sequencer)
    secret, stored = new_secret(tenant_id, kind)
    app.sequencer_secrets.put(tenant_id, kind, stored, app.clock.now())
    base_url = base or str(app.settings.functions_base_url)
    url = webhook_url(base_url, kind, tenant_id, secret if kind == "smartlead" else None)
    how = (
        "Paste the url as the Smartlead webhook URL (the secret is its password)."
        if kind == "smartlead"
        else f"Create the Instantly webhook with this url and the header {SECRET_HEADER}: <secret>."
    )
    emit(
        {"tenant_id": tenant_id, "sequencer": kind, "url": url, "header": SECRET_HEADER, "secret": secret},
        summary=f"{how} It is shown once: only a hash is stored, and the previous secret no longer works.",
    )


@webhooks.command("trust-local-signer")
@click.option("--tenant", "tenant_id", default="demo", show_default=True)
@json_option
def trust_local_signer(tenant_id: str) -> None:
    """Create the local key pair if missing and make it the tenant's SendGrid verification key."""
    app = _local_app()
    signer = _trusted_signer(app, tenant_id)
    emit(
        {"tenant_id": tenant_id, "public_key": signer.public_key_b64},
        columns=(),
        summary=f"tenant {tenant_id} now verifies with {signer.public_key_b64[:24]}…",
    )


def _trusted_signer(app: Any, tenant_id: str) -> Any:
    """The local signer (kept in the data folder), made the tenant's verification key."""
    from oie.errors import NotFound
    from oie.webhooks.signer import LocalSigner, trust_for_tenant

    signer = LocalSigner.load_or_create(app.settings.data_dir)
    try:
        trust_for_tenant(app.tenants, tenant_id, signer)
    except LookupError:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant") from None
    return signer


@webhooks.command("send-demo-events")
@click.option("--tenant", "tenant_id", default="demo", show_default=True)
@click.option("--base", default=None, help="Where the gateway listens; default: the running local stack's.")
@click.option("--event", "kinds", type=click.Choice(DEMO_EVENTS), multiple=True, required=True, help="Repeatable.")
@click.option("--message", "message_id", required=True, help="The oie_message_id (outbound_messages document).")
@click.option("--email", default="", help="Recipient, when the message document does not name one.")
@click.option("--contact-campaign", "contact_campaign_id", default="", help="When the message document is missing.")
@click.option("--url", "click_url", default="", help="The clicked URL (click events).")
@json_option
def send_demo_events(
    tenant_id: str,
    base: str | None,
    kinds: tuple[str, ...],
    message_id: str,
    email: str,
    contact_campaign_id: str,
    click_url: str,
) -> None:
    """Post correctly signed SendGrid events (and an Inbound Parse reply) to the local endpoints."""
    app = _local_app()
    signer = _trusted_signer(app, tenant_id)
    message = app.outbound_messages.get_many(tenant_id, [message_id]).get(message_id, {})
    email = email or str(message.get("to_email") or "")
    contact_campaign_id = contact_campaign_id or str(message.get("contact_campaign_id") or "")
    if not email:
        raise click.ClickException(f"message {message_id!r} not found: give --email and --contact-campaign")
    now = int(time.time())
    base = (base or str(app.settings.functions_base_url)).rstrip("/")
    answers: list[dict[str, Any]] = []
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
        answers.append({"sent": ", ".join(e["event"] for e in events), "status": status, "answer": answer})
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
        credentials = _new_inbound_credential(app, tenant_id)  # local stack only (see _local_app)
        basic = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
        status, answer = _post(
            f"{base}/webhooks/inbound/{tenant_id}",
            body,
            {"Content-Type": content_type, "Authorization": f"Basic {basic}"},
        )
        answers.append({"sent": "reply", "status": status, "answer": answer})
    emit(answers)
