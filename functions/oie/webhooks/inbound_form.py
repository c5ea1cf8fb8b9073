"""The Inbound Parse form (SendGrid's multipart post of one received email), parsed and bounded.

`parse_form` accepts any mapping of field names to strings: it returns an `InboundForm`
or raises `InputError`, nothing else. Unknown fields (attachments, dkim, SPF …) are
ignored; text is capped; malformed headers or envelope never fail a reply, they only
match less.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oie.errors import InputError
from oie.webhooks.autoreply import auto_reply_reasons

TEXT_LIMIT = 100_000
ADDRESS_LIMIT = 2000
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_IDS_KEPT = 20  # In-Reply-To / References ids looked up at most


class InboundForm(BaseModel):
    """One inbound email as the engine keeps it."""

    model_config = ConfigDict(frozen=True)

    sender: str = Field(min_length=1, max_length=ADDRESS_LIMIT)
    to: str = Field(max_length=ADDRESS_LIMIT)
    recipients: tuple[str, ...]  # `to` and the SMTP envelope's recipients
    subject: str = Field(max_length=ADDRESS_LIMIT)
    text: str = Field(max_length=TEXT_LIMIT)
    html: str = Field(max_length=TEXT_LIMIT)
    headers: str = Field(max_length=TEXT_LIMIT)
    envelope: dict[str, Any]
    rfc_message_id: str = Field(max_length=1000)
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    auto_reply_reasons: tuple[str, ...]
    spam_score: str | None = Field(default=None, max_length=100)


def _clean(value: object, limit: int) -> str:
    """A field as text: at most `limit` characters, valid UTF-8 (a lone surrogate from a JSON
    escape is not), without NUL: what every warehouse stores."""
    text = value if isinstance(value, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")[:limit]


def _envelope(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        return {"to": [], "from": None}
    recipients = value.get("to")
    sender = value.get("from")
    # Only the two fields SendGrid documents, in the shapes it documents: nothing else is kept.
    return {
        "to": [_clean(r, ADDRESS_LIMIT) for r in recipients[:50] if isinstance(r, str)]
        if isinstance(recipients, list)
        else [],
        "from": _clean(sender, ADDRESS_LIMIT) if isinstance(sender, str) else None,
    }


def _header(headers: Any, name: str) -> str:
    value = headers.get(name)
    return str(value) if value is not None else ""


def parse_form(form: Mapping[str, str]) -> InboundForm:
    """The form as an `InboundForm`; `InputError` when it is not an email (no sender)."""
    sender = _clean(form.get("from"), ADDRESS_LIMIT).strip()
    if not sender:
        raise InputError("an Inbound Parse post names its sender in `from`", field="from")
    raw_headers = _clean(form.get("headers"), TEXT_LIMIT)
    headers = HeaderParser(policy=compat32).parsestr(raw_headers)
    subject = _clean(form.get("subject"), ADDRESS_LIMIT) or _clean(_header(headers, "Subject"), ADDRESS_LIMIT)
    envelope = _envelope(_clean(form.get("envelope"), TEXT_LIMIT))
    to = _clean(form.get("to"), ADDRESS_LIMIT)
    spam = _clean(form.get("spam_score"), 100) or None
    return InboundForm(
        sender=sender,
        to=to,
        recipients=(to, *envelope["to"]),
        subject=subject,
        text=_clean(form.get("text"), TEXT_LIMIT),
        html=_clean(form.get("html"), TEXT_LIMIT),
        headers=raw_headers,
        envelope=envelope,
        rfc_message_id=_header(headers, "Message-ID").strip()[:1000],
        in_reply_to=tuple(_MESSAGE_ID.findall(_header(headers, "In-Reply-To")))[:_IDS_KEPT],
        references=tuple(_MESSAGE_ID.findall(_header(headers, "References")))[-_IDS_KEPT:],
        auto_reply_reasons=tuple(auto_reply_reasons(headers, subject)),
        spam_score=spam,
    )
