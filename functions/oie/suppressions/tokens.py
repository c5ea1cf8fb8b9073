"""Unsubscribe tokens: signed (tenant, channel, address, contact campaign), so a link in an
email unsubscribes exactly that address and cannot be forged or pointed at another."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from pydantic import BaseModel, ConfigDict

_SIG = 16  # bytes of HMAC-SHA256 kept: 128 bits


class UnsubscribeClaim(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: str = "email"
    address: str
    contact_campaign_id: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(key: bytes, claim: UnsubscribeClaim) -> str:
    """`<payload>.<signature>`, url-safe, for `/webhooks/unsubscribe?t=…` and List-Unsubscribe."""
    payload = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIG])
    return f"{payload}.{signature}"


def verify(key: bytes, token: str) -> UnsubscribeClaim | None:
    """The claim of a genuine token; None for anything forged, truncated or malformed."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        return None
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:_SIG])
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        return UnsubscribeClaim.model_validate_json(_unb64(payload))
    except ValueError:
        return None
