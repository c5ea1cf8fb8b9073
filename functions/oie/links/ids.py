"""Tracking ids and lead ids: keyed hashes, so ids repeat per person and cannot be guessed."""

from __future__ import annotations

import hashlib
import hmac
import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TRACKING_ID_LENGTH = 8
MAX_TRACKING_ID_LENGTH = 16
_SEP = "\x1f"  # a separator no normalised field can contain


def base62(data: bytes) -> str:
    """Encode bytes as base62, most significant digit first, without padding."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)) or "0"


def _keyed_digest(secret: bytes, *parts: str) -> str:
    mac = hmac.new(secret, _SEP.join(parts).encode("utf-8"), hashlib.sha256).digest()
    # 32 bytes give 43 base62 digits; left-pad so every prefix length is available.
    return base62(mac).rjust(43, "0")


def tracking_id_candidates(secret: bytes, tenant_id: str, campaign_id: str, email: str) -> list[str]:
    """The ids a (tenant, campaign, email) may take, shortest first.

    The first is used unless another person already holds it; each next one is one
    character longer, so a collision resolves to a longer id, deterministically.
    """
    digest = _keyed_digest(secret, "link", tenant_id, campaign_id, email)
    return [digest[:n] for n in range(TRACKING_ID_LENGTH, MAX_TRACKING_ID_LENGTH + 1)]


def lead_id(secret: bytes, tenant_id: str, email: str) -> str:
    """A stable lead id per (tenant, email) that does not reveal the email."""
    return "ld_" + _keyed_digest(secret, "lead", tenant_id, email)[:16]


def campaign_id(name: str) -> str:
    """A readable campaign id from its name: `Q1 Enterprise!` becomes `q1-enterprise`."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError("a campaign name needs at least one letter or digit")
    return slug[:60]
