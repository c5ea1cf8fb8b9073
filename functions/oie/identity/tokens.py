"""Identity tokens: `<vid>.<tracking id>.<expiry>.<signature>`, an HMAC minted by /go.

The pixel adopts the first segment as its visitor id. /track and /personalize recompute
the HMAC over (tenant, tracking id, visitor id, expiry), so an event claiming a lead
can be told apart from a guess, and a page can be given a name only with proof.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from oie.links.models import TRACKING_ID

VISITOR_ID = re.compile(r"^[0-9A-Za-z_-]{8,64}$")
_EXPIRY = re.compile(r"[0-9]{1,12}")
TOKEN_LIFETIME = timedelta(days=90)
_SIG_LENGTH = 22  # 132 bits of HMAC-SHA256, base64url

Status = Literal["verified", "forged", "expired", "unverified", "anonymous"]


def new_visitor_id() -> str:
    """A random visitor id: 16 url-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def _signature(key: bytes, tenant_id: str, tracking_id: str, visitor_id: str, expires: int) -> str:
    message = f"oie-id|{tenant_id}|{tracking_id}|{visitor_id}|{expires}".encode()
    mac = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:_SIG_LENGTH]


# Every batch and page of a visitor carries the same token: what it must be signed with is computed
# once per token (a forged one only takes a slot; the comparison below is unchanged).
_expected_signature = lru_cache(maxsize=4096)(_signature)


def mint(key: bytes, tenant_id: str, tracking_id: str, visitor_id: str, now: datetime) -> str:
    """A token binding a visitor to the tracking link it arrived through."""
    expires = int((now + TOKEN_LIFETIME).timestamp())
    sig = _signature(key, tenant_id, tracking_id, visitor_id, expires)
    return f"{visitor_id}.{tracking_id}.{expires}.{sig}"


@dataclass(frozen=True)
class Identity:
    """What a request proves about who is behind it."""

    status: Status
    tracking_id: str | None = None
    visitor_id: str | None = None


def check(
    key: bytes, tenant_id: str, token: str | None, tracking_id: str | None, visitor_id: str | None, now: datetime
) -> Identity:
    """Judge a request's identity claims; a bad token is reported as forged, never trusted."""
    if not token:
        return Identity("unverified" if tracking_id else "anonymous", tracking_id, visitor_id)
    parts = token.split(".")
    # fullmatch and ASCII digits only: `$` lets a trailing newline through, and str.isdigit()
    # accepts digits int() cannot read ("²"); a non-ASCII signature cannot be compared.
    if (
        len(parts) != 4
        or not VISITOR_ID.fullmatch(parts[0])
        or not TRACKING_ID.fullmatch(parts[1])
        or not _EXPIRY.fullmatch(parts[2])
        or not parts[3].isascii()
    ):
        return Identity("forged", tracking_id, visitor_id)
    token_vid, token_i, expires, sig = parts
    expected = _expected_signature(key, tenant_id, token_i, token_vid, int(expires))
    if not hmac.compare_digest(sig, expected):
        return Identity("forged", tracking_id, visitor_id)
    if (tracking_id and tracking_id != token_i) or (visitor_id and visitor_id != token_vid):
        # A valid token for another link or visitor: the claim in this request is not proven.
        return Identity("forged", tracking_id, visitor_id)
    if int(expires) < now.timestamp():
        return Identity("expired", token_i, token_vid)
    return Identity("verified", token_i, token_vid)
