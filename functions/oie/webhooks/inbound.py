"""SendGrid Inbound Parse: a reply lands in `inbound_messages` and, when it is a person's reply
to one of the engine's messages, becomes a "reply" EngineEvent.

Matching: the Reply-To token first (`reply+<token>@<tenant reply_domain>`, found in `to`
or the SMTP envelope), then In-Reply-To / References against the messages' Message-IDs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from email.parser import HeaderParser
from email.utils import getaddresses
from typing import Any

from oie.campaigns.contracts import EngineEvent
from oie.errors import BackendUnavailable, Forbidden, NotFound, OieError
from oie.ports import Clock, Task, TaskQueue, Warehouse
from oie.queues import WEBHOOK_EVENTS
from oie.webhooks.autoreply import auto_reply_reasons
from oie.webhooks.dedup import KEY_CHARS, task_name
from oie.webhooks.events import TenantLookup
from oie.webhooks.store import EventMarkers, OutboundMessages

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
TEXT_LIMIT = 100_000


def reply_tokens(addresses: list[str], reply_domain: str) -> list[str]:
    """Tokens of `reply+<token>@<domain>` addresses (any domain when the tenant names none)."""
    domain = re.escape(reply_domain.lower()) if reply_domain else r"[^@\s>]+"
    pattern = re.compile(rf"^reply\+([A-Za-z0-9_-]{{4,128}})@{domain}$", re.IGNORECASE)
    found = []
    for _, address in getaddresses(addresses):
        if match := pattern.match(address.strip()):
            found.append(match.group(1))
    return list(dict.fromkeys(found))


def _envelope(form: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = json.loads(form.get("envelope") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class InboundReplies:
    def __init__(
        self,
        *,
        tenants: TenantLookup,
        outbound: OutboundMessages,
        markers: EventMarkers,
        warehouse: Warehouse,
        tasks: TaskQueue,
        clock: Clock,
        parse_token: str,
    ) -> None:
        self.tenants = tenants
        self.outbound = outbound
        self.markers = markers
        self.warehouse = warehouse
        self.tasks = tasks
        self.clock = clock
        self.parse_token = parse_token

    def receive(self, tenant_id: str, token: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        """Store one inbound message; enqueue a reply event when it answers one of ours."""
        if not token or not hmac.compare_digest(token.encode(), self.parse_token.encode()):
            raise Forbidden("the inbound parse token is wrong", field="token")
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant_id")
        now = self.clock.now()
        headers = HeaderParser().parsestr(form.get("headers") or "")
        subject = form.get("subject") or headers.get("Subject") or ""
        envelope = _envelope(form)
        to = [form.get("to") or "", *[str(a) for a in envelope.get("to") or []]]
        rfc_id = (headers.get("Message-ID") or "").strip()
        in_reply_to = _MESSAGE_ID.findall(headers.get("In-Reply-To") or "")
        references = _MESSAGE_ID.findall(headers.get("References") or "")
        basis = rfc_id or "\x1f".join([form.get("from") or "", subject, (form.get("text") or "")[:2000]])
        inbound_id = hashlib.sha256(f"{tenant_id}\x1f{basis}".encode()).hexdigest()[:KEY_CHARS]

        matched_by, found = None, None
        for reply_token in reply_tokens(to, tenant.reply_domain):
            if found := self.outbound.find_by_reply_token(tenant_id, reply_token):
                matched_by = "reply_token"
                break
        if found is None:
            # In-Reply-To, then References nearest first; the engine may keep ids with or without <>.
            ids = list(dict.fromkeys([*in_reply_to, *reversed(references)]))
            candidates = [form for i in ids for form in (f"<{i}>", i)]
            if candidates and (found := self.outbound.find_by_rfc_message_ids(tenant_id, candidates)):
                matched_by = "in_reply_to"
        message_id, message = found or (None, {})
        reasons = auto_reply_reasons(headers, subject)
        row = {
            "inbound_id": inbound_id,
            "tenant_id": tenant_id,
            "received_at": now,
            "from_address": (form.get("from") or "")[:1000],
            "to_address": (form.get("to") or "")[:2000],
            "envelope": json.dumps(envelope),
            "subject": subject[:2000],
            "text_body": (form.get("text") or "")[:TEXT_LIMIT],
            "html_body": (form.get("html") or "")[:TEXT_LIMIT],
            "headers": (form.get("headers") or "")[:TEXT_LIMIT],
            "rfc_message_id": rfc_id or None,
            "in_reply_to": in_reply_to[0] if in_reply_to else None,
            "matched_by": matched_by,
            "oie_message_id": message_id,
            "contact_campaign_id": message.get("contact_campaign_id"),
            "node_id": message.get("node_id"),
            "is_auto_reply": bool(reasons),
            "auto_reply_reasons": reasons,
            "spam_score": form.get("spam_score"),
        }
        key = f"in-{inbound_id}"
        owned = bool(self.markers.claim(tenant_id, [key]))
        try:
            self.warehouse.insert_rows("inbound_messages", [row], id_field="inbound_id")
        except Exception as exc:
            if owned:
                self.markers.release(tenant_id, [key])
            if isinstance(exc, OieError):
                raise
            raise BackendUnavailable(f"warehouse: {exc}") from exc
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
                self.tasks.enqueue(
                    Task(
                        queue=WEBHOOK_EVENTS,
                        function="campaign_step",
                        payload={"kind": "event", "event": event.model_dump(mode="json")},
                        name=task_name(key),
                    )
                )
            except Exception as exc:
                self.markers.release(tenant_id, [key])
                raise BackendUnavailable(f"tasks: {exc}") from exc
            enqueued = True
        return {
            "inbound_id": inbound_id,
            "duplicate": not owned,
            "matched_by": matched_by,
            "is_auto_reply": bool(reasons),
            "enqueued": enqueued,
        }
