"""SendGrid Inbound Parse: a reply lands in `inbound_messages` and, when it is a person's reply
to one of the engine's messages, becomes a "reply" EngineEvent.

Who may post: SendGrid with the tenant's own basic-auth credential (oie.webhooks.inbound_auth);
the form is parsed and bounded by oie.webhooks.inbound_form. Matching: the Reply-To token
first (`reply+<token>@<tenant reply_domain>`, found in `to` or the SMTP envelope), then
In-Reply-To / References against the messages' Message-IDs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from email.utils import getaddresses
from typing import Any

from oie.campaigns.contracts import EngineEvent
from oie.errors import BackendUnavailable, OieError, Unauthenticated
from oie.logs import get_logger
from oie.ports import Clock, TaskQueue, TenantStore, Warehouse
from oie.tenants.models import TENANT_ID, Tenant
from oie.webhooks.dedup import KEY_CHARS
from oie.webhooks.effects import engine_task
from oie.webhooks.inbound_auth import BasicCredentials, is_valid
from oie.webhooks.inbound_form import parse_form
from oie.webhooks.store import EventMarkers, OutboundMessages

log = get_logger(__name__)
REFUSED = "Inbound Parse needs the tenant's basic-auth credential in its URL (see `oie webhooks inbound-credential`)"


def reply_tokens(addresses: list[str], reply_domain: str) -> list[str]:
    """Tokens of `reply+<token>@<domain>` addresses (any domain when the tenant names none)."""
    domain = re.escape(reply_domain.lower()) if reply_domain else r"[^@\s>]+"
    pattern = re.compile(rf"^reply\+([A-Za-z0-9_-]{{4,128}})@{domain}$", re.IGNORECASE)
    found = []
    for _, address in getaddresses(addresses):
        if match := pattern.match(address.strip()):
            found.append(match.group(1))
    return list(dict.fromkeys(found))


def sender_address(sender: str) -> str:
    """The bare, lower-cased address of a `From` value ("Ada <Ada@x.com>" -> "ada@x.com")."""
    pairs = getaddresses([sender])
    return pairs[0][1].strip().lower() if pairs and "@" in pairs[0][1] else ""


class InboundReplies:
    def __init__(
        self,
        *,
        tenants: TenantStore,
        outbound: OutboundMessages,
        markers: EventMarkers,
        warehouse: Warehouse,
        tasks: TaskQueue,
        clock: Clock,
        legacy_token: str | None = None,
    ) -> None:
        self.tenants = tenants
        self.outbound = outbound
        self.markers = markers
        self.warehouse = warehouse
        self.tasks = tasks
        self.clock = clock
        # The one shared `?token=` of old, accepted only when a setting says so (README).
        self.legacy_token = legacy_token

    def authorize(self, tenant_id: str, credentials: BasicCredentials | None, token: str | None) -> Tenant:
        """The tenant whose credential this is; Unauthenticated (the same for an unknown tenant) otherwise."""
        tenant = self.tenants.get(tenant_id) if TENANT_ID.fullmatch(tenant_id) else None
        if tenant is not None and is_valid(tenant, credentials):
            return tenant
        if tenant is not None and self._legacy_ok(tenant, token):
            log.warning("inbound parse: the retired shared token was used", extra={"tenant_id": tenant_id})
            return tenant
        raise Unauthenticated(REFUSED, field="authorization")

    def _legacy_ok(self, tenant: Tenant, token: str | None) -> bool:
        if not self.legacy_token or not token or tenant.inbound_parse_credential:
            return False
        return hmac.compare_digest(token.encode(), self.legacy_token.encode())

    def receive(
        self,
        tenant_id: str,
        credentials: BasicCredentials | None,
        form: Mapping[str, str],
        *,
        legacy_token: str | None = None,
    ) -> dict[str, Any]:
        """Store one inbound message; enqueue a reply event when it answers one of ours."""
        tenant = self.authorize(tenant_id, credentials, legacy_token)
        parsed = parse_form(form)
        now = self.clock.now()
        basis = parsed.rfc_message_id or "\x1f".join([parsed.sender, parsed.subject, parsed.text[:2000]])
        inbound_id = hashlib.sha256(f"{tenant_id}\x1f{basis}".encode("utf-8", "replace")).hexdigest()[:KEY_CHARS]

        matched_by, found = None, None
        for reply_token in reply_tokens(list(parsed.recipients), tenant.reply_domain):
            if found := self.outbound.find_by_reply_token(tenant_id, reply_token):
                matched_by = "reply_token"
                break
        if found is None:
            # In-Reply-To, then References nearest first; the engine may keep ids with or without <>.
            ids = list(dict.fromkeys([*parsed.in_reply_to, *reversed(parsed.references)]))
            candidates = [form for i in ids for form in (f"<{i}>", i)]
            if candidates and (found := self.outbound.find_by_rfc_message_ids(tenant_id, candidates)):
                matched_by = "in_reply_to"
        message_id, message = found or (None, {})
        reasons = list(parsed.auto_reply_reasons)
        sender = sender_address(parsed.sender)
        row = {
            "inbound_id": inbound_id,
            "tenant_id": tenant_id,
            "received_at": now,
            "from_address": parsed.sender[:1000],
            "from_email_sha256": hashlib.sha256(sender.encode()).hexdigest() if sender else None,
            "to_address": parsed.to,
            "envelope": json.dumps(parsed.envelope),
            "subject": parsed.subject,
            "text_body": parsed.text,
            "html_body": parsed.html,
            "headers": parsed.headers,
            "rfc_message_id": parsed.rfc_message_id or None,
            "in_reply_to": parsed.in_reply_to[0] if parsed.in_reply_to else None,
            "matched_by": matched_by,
            "oie_message_id": message_id,
            "contact_campaign_id": message.get("contact_campaign_id"),
            "node_id": message.get("node_id"),
            "is_auto_reply": bool(reasons),
            "auto_reply_reasons": reasons,
            "spam_score": parsed.spam_score,
        }
        key = f"in-{inbound_id}"
        owned = bool(self.markers.claim(tenant_id, [key]))
        try:
            self.warehouse.insert_rows("inbound_messages", [row], id_field="inbound_id")
        except Exception as exc:
            if owned:
                self.markers.release(tenant_id, [key])
            if isinstance(exc, OieError) and not isinstance(exc, BackendUnavailable):
                raise
            # Never the driver's message: warehouse errors quote the rows (a reply's sender and text).
            log.error("inbound message not stored", extra={"tenant_id": tenant_id, "error": type(exc).__name__})
            raise BackendUnavailable("the warehouse could not store the inbound message; retry") from None
        enqueued = False
        if owned and message_id and message.get("contact_campaign_id") and not reasons:
            event = EngineEvent(
                event_key=key,
                tenant_id=tenant_id,
                contact_campaign_id=str(message["contact_campaign_id"]),
                message_id=message_id,
                type="reply",
                occurred_at=now,
                details={"matched_by": matched_by, "inbound_id": inbound_id, "node_id": message.get("node_id")},
            )
            try:
                self.tasks.enqueue(engine_task(event))
            except Exception as exc:
                self.markers.release(tenant_id, [key])
                log.error("reply event not enqueued", extra={"tenant_id": tenant_id, "error": type(exc).__name__})
                raise BackendUnavailable("the reply could not be handed to the campaign engine; retry") from None
            enqueued = True
        return {
            "inbound_id": inbound_id,
            "duplicate": not owned,
            "matched_by": matched_by,
            "is_auto_reply": bool(reasons),
            "enqueued": enqueued,
        }
