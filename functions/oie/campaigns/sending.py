"""Turning one send step into one email, sent at most once.

The outbound message document is created (create-if-absent, keyed by a keyed hash of the
de-dup key `tenant:contact:campaign:node:channel`) before the provider is called, so a
retried or duplicated step finds it and never sends twice. Every email carries a visible
unsubscribe link and RFC 8058 one-click `List-Unsubscribe` (an opaque signed reference to
the message, never the address); links to the tenant's own domains are rewritten to the
contact's `/go` tracking link.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from oie.campaigns import templating
from oie.campaigns.models import ContactCampaign, SenderIdentity
from oie.campaigns.plan import EmailTemplate, SendNode, SmsTemplate
from oie.campaigns.ports import OutboundMessages
from oie.errors import BackendUnavailable, InputError
from oie.go.redirect import is_allowed_url
from oie.ports import Mailer, OutboundEmail
from oie.suppressions import tokens
from oie.tenants.models import Tenant

IN_FLIGHT = timedelta(minutes=10)  # a claim younger than this may still be sending
_HREF = re.compile(r"""(href\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"""https?://[^\s<>"'\])]+""")


def dedup_key(state: ContactCampaign, node_id: str) -> str:
    """`tenant:contact:campaign:node:channel`; a node revisited by a loop adds `#visit`."""
    visit = state.visits.get(node_id, 1)
    node = node_id if visit <= 1 else f"{node_id}#{visit}"
    return f"{state.tenant_id}:{state.contact.lead_id}:{state.campaign_id}:{node}:{state.channel}"


def message_id_for(key: bytes, dedup: str) -> str:
    """An unguessable id per de-dup key (also the Reply-To token): lower-case, because some mail
    systems fold the case of an address's local part."""
    return "m" + hmac.new(key, dedup.encode(), hashlib.sha256).hexdigest()[:31]


@dataclass(frozen=True)
class Links:
    """Where an email's links point."""

    go_base_url: str
    functions_base_url: str
    unsubscribe_key: bytes

    def tracking(self, tracking_id: str, to: str | None = None) -> str:
        query = {"i": tracking_id, **({"to": to} if to else {})}
        return f"{self.go_base_url.rstrip('/')}/go?{urlencode(query)}"

    def unsubscribe(self, tenant_id: str, message_id: str) -> str:
        """A link naming the message, never the address (the address is looked up on unsubscribe)."""
        token = tokens.mint_ref(self.unsubscribe_key, tokens.UnsubscribeRef(tenant_id=tenant_id, message_id=message_id))
        return f"{self.functions_base_url.rstrip('/')}/webhooks/unsubscribe?{urlencode({'t': token})}"


def _rewrite(url: str, tenant: Tenant, links: Links, tracking_id: str) -> str:
    """The contact's /go link for a URL on the tenant's domains; any other URL as it was."""
    if url.startswith(links.go_base_url.rstrip("/") + "/go") or "/webhooks/unsubscribe" in url:
        return url
    if not is_allowed_url(url, tenant.redirect_domains):
        return url  # /go would not follow it: a recipient must never land on the wrong page
    return links.tracking(tracking_id, url)


def compose(
    tenant: Tenant,
    sender: SenderIdentity,
    state: ContactCampaign,
    node: SendNode,
    message_id: str,
    links: Links,
    *,
    message_id_header: bool,
    template: EmailTemplate | SmsTemplate | None = None,
    variant_id: str | None = None,
) -> OutboundEmail:
    """The email for one send step: rendered, links tracked, unsubscribe visible and one-click.

    `template` is the contact's variant (oie.campaigns.variants.assign), else the node's own.
    """
    template = template or node.template
    if not isinstance(template, EmailTemplate):
        raise InputError(f"node {node.id!r} has no email template", field="template")
    contact = state.contact
    unsubscribe = links.unsubscribe(state.tenant_id, message_id)
    values = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": " ".join(p for p in (contact.first_name, contact.last_name) if p),
        "company": contact.company,
        "title": contact.title,
        "email": contact.email,
        "tracking_link": links.tracking(contact.tracking_id),
        "unsubscribe_link": unsubscribe,
        "sender_name": sender.from_name,
        "sender_email": sender.from_email,
    }
    subject = templating.render(template.subject, values).replace("\r", " ").replace("\n", " ")
    text = _URL.sub(
        lambda m: _rewrite(m.group(0), tenant, links, contact.tracking_id), templating.render(template.text, values)
    )
    if "unsubscribe_link" not in templating.placeholders(template.text):
        text += f"\n\n--\nUnsubscribe: {unsubscribe}\n"
    if template.html is not None:
        body = templating.render(template.html, values, escape=True)

        def href(match: re.Match[str]) -> str:
            url = _rewrite(html.unescape(match.group(3)), tenant, links, contact.tracking_id)
            return f"{match.group(1)}{match.group(2)}{html.escape(url)}{match.group(2)}"

        body = _HREF.sub(href, body)
        if "unsubscribe_link" not in templating.placeholders(template.html):
            footer = f'<p style="font-size:12px;color:#777"><a href="{html.escape(unsubscribe)}">Unsubscribe</a></p>'
            body = body.replace("</body>", footer + "</body>") if "</body>" in body else body + footer
    else:
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html.escape(text, quote=False))
        body = "<p>" + linked.replace("\n", "<br>\n") + "</p>"

    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if message_id_header:
        headers["Message-ID"] = rfc_message_id(message_id, sender, message_id_header=True)
    reply_to = f"reply+{message_id}@{tenant.reply_domain}" if tenant.reply_domain else None
    return OutboundEmail(
        message_id=message_id,
        to_email=contact.email,
        to_name=values["full_name"],
        from_email=sender.from_email,
        from_name=sender.from_name,
        reply_to=reply_to,
        subject=subject,
        html=body,
        text=text,
        headers=headers,
        # SendGrid takes only string values: variant_id is left out for a node without variants.
        custom_args={
            "tenant_id": state.tenant_id,
            "contact_campaign_id": state.contact_campaign_id,
            "campaign_id": state.campaign_id,
            "node_id": node.id,
            "oie_message_id": message_id,
            **({"variant_id": variant_id} if variant_id else {}),
        },
        ip_pool=sender.ip_pool,
    )


def rfc_message_id(message_id: str, sender: SenderIdentity, *, message_id_header: bool) -> str:
    """The Message-ID header replies will quote; the outbox mailer sets its own local one."""
    if not message_id_header:
        return f"<{message_id}@outbox.local>"
    return f"<{message_id}@{sender.from_email.rsplit('@', 1)[-1]}>"


class MaybeSent(BackendUnavailable):
    """The provider was asked but did not answer in time: the message may have gone out.

    A Mailer raises it so the step is retried while the claim stays: after IN_FLIGHT the
    message counts as sent, never as a second copy.
    """


@dataclass(frozen=True)
class SendResult:
    outcome: Literal["sent", "already_sent", "in_flight", "refused"]
    message_id: str
    sent_at: datetime | None = None
    error: str = ""


def deliver(
    messages: OutboundMessages,
    mailer: Mailer,
    email: OutboundEmail,
    state: ContactCampaign,
    node_id: str,
    dedup: str,
    rfc_id: str,
    now: datetime,
    variant_id: str | None = None,
) -> SendResult:
    """Claim the message, call the provider, record the outcome; at most one send per de-dup key."""
    doc: dict[str, Any] = {
        "message_id": email.message_id,
        "tenant_id": state.tenant_id,
        "contact_campaign_id": state.contact_campaign_id,
        "campaign_id": state.campaign_id,
        "lead_id": state.contact.lead_id,
        "node_id": node_id,
        "variant_id": variant_id,
        "channel": state.channel,
        "to_email": email.to_email,
        "status": "queued",
        "provider_message_id": None,
        "reply_token": email.message_id,
        "rfc_message_id": rfc_id,
        "dedup_key": dedup,
        "created_at": now,
        "sent_at": None,
    }
    existing = messages.claim(state.tenant_id, email.message_id, doc)
    if existing is not None:
        status = existing.get("status")
        if status == "sent":
            return SendResult("already_sent", email.message_id, existing.get("sent_at") or now)
        if status in ("failed", "canceled"):
            return SendResult("refused", email.message_id, error=str(existing.get("error", status)))
        created = existing.get("created_at")
        if isinstance(created, datetime) and now - created < IN_FLIGHT:
            return SendResult("in_flight", email.message_id)
        # A claim this old belongs to a process that died mid-send: it may have gone out.
        # At most once: count it as sent rather than risk a second copy.
        messages.update(
            state.tenant_id, email.message_id, {"status": "sent", "sent_at": now, "note": "outcome unknown"}
        )
        return SendResult("already_sent", email.message_id, now)
    try:
        provider_id = mailer.send(email)
    except MaybeSent:
        raise  # the claim stays: a retry finds it in flight and does not send again
    except BackendUnavailable:
        messages.release(state.tenant_id, email.message_id)  # not sent: the retry may send
        raise
    except InputError as exc:
        messages.update(state.tenant_id, email.message_id, {"status": "failed", "error": exc.message[:1000]})
        return SendResult("refused", email.message_id, error=exc.message)
    messages.update(
        state.tenant_id, email.message_id, {"status": "sent", "provider_message_id": provider_id, "sent_at": now}
    )
    return SendResult("sent", email.message_id, now)
