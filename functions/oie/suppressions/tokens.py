"""Unsubscribe tokens: an opaque, signed reference to the outbound message, never the address.

`u2.<tenant>.<message id>.<signature>`: the signature (HMAC-SHA256, 128 bits) is checked
offline, so a forged or altered link is refused before anything is read; the address is
looked up from the message's document only when the person confirms. Tokens of mail sent
before this format (`<base64 JSON with the address>.<signature>`) still verify as
`UnsubscribeClaim`s while the setting `unsubscribe_accept_legacy_links` allows them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from pydantic import BaseModel, ConfigDict

_SIG = 16  # bytes of HMAC-SHA256 kept: 128 bits
_VERSION = "u2"
_PART = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class UnsubscribeRef(BaseModel):
    """What a current link names: one outbound message of one tenant."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    message_id: str


class UnsubscribeClaim(BaseModel):
    """What a legacy link carried: the address itself."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str = "email"
    address: str
    contact_campaign_id: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, material: str) -> str:
    return _b64(hmac.new(key, material.encode("utf-8", "replace"), hashlib.sha256).digest()[:_SIG])


def _same(expected: str, offered: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters, which a URL can carry.
    return hmac.compare_digest(expected.encode(), offered.encode("utf-8", "replace"))


def mint_ref(key: bytes, ref: UnsubscribeRef) -> str:
    """`u2.<tenant>.<message id>.<signature>`, url-safe, for `/webhooks/unsubscribe?t=…`."""
    if not (_PART.match(ref.tenant_id) and _PART.match(ref.message_id)):
        raise ValueError("tenant and message ids must be url-safe")
    body = f"{_VERSION}.{ref.tenant_id}.{ref.message_id}"
    return f"{body}.{_sign(key, body)}"


def mint(key: bytes, claim: UnsubscribeClaim) -> str:
    """A legacy token (it carries the address): kept only to test that old links still work."""
    payload = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(key, payload)}"


def verify(key: bytes, token: str) -> UnsubscribeRef | UnsubscribeClaim | None:
    """What a genuine token names; None for anything forged, truncated or malformed."""
    if token.startswith(_VERSION + "."):
        body, _, signature = token.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or not all(_PART.match(p) for p in parts[1:]):
            return None
        if not _same(_sign(key, body), signature):
            return None
        return UnsubscribeRef(tenant_id=parts[1], message_id=parts[2])
    payload, _, signature = token.partition(".")
    if not payload or not signature or not _same(_sign(key, payload), signature):
        return None
    try:
        return UnsubscribeClaim.model_validate_json(_unb64(payload))
    except ValueError:
        return None
