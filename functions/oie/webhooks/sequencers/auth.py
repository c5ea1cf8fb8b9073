"""Who may post a sequencer's events to a tenant's path: that sequencer, with the tenant's secret.

Neither Smartlead nor Instantly signs its webhooks in a way documented for every plan, so each
tenant gets one random secret per sequencer (256 bits, `oie webhooks sequencer-secret`), and
it comes back in the way each tool supports:

- Instantly lets a webhook carry custom headers (`headers` on its webhook API and settings):
  `X-OIE-Webhook-Secret: <secret>`.
- Smartlead lets you set only the webhook URL, so the secret is the password of that URL
  (`https://smartlead:<secret>@host/webhooks/smartlead/<tenant>`), which HTTP clients send as
  an `Authorization: Basic` header: never in the request line, so never in request logs.
  The header above works too, where a Smartlead plan lets you set one.

`Authorization: Bearer <secret>` is accepted as well. Only a hash is stored (bound to the tenant
and the sequencer, so a secret never works on another path); comparisons run in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from oie.webhooks.sequencers.models import Sequencer

SECRET_HEADER = "X-OIE-Webhook-Secret"
_PREFIX = "sha256:"
# Compared against when a tenant has no secret, so every refusal costs the same.
_NOTHING = _PREFIX + "0" * 64
MAX_SECRET_CHARS = 512


def secret_hash(tenant_id: str, sequencer: Sequencer, secret: str) -> str:
    """`sha256:<hex>` of the secret, bound to the tenant and the sequencer."""
    material = "\x1f".join(("oie-sequencer-webhook", tenant_id, sequencer, secret))
    return _PREFIX + hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(tenant_id: str, sequencer: Sequencer) -> tuple[str, str]:
    """A fresh secret (shown once) and the hash the tenant keeps."""
    secret = secrets.token_urlsafe(32)
    return secret, secret_hash(tenant_id, sequencer, secret)


def offered_secret(headers: Mapping[str, str]) -> str | None:
    """The secret a request offers: our header, a bearer token or a basic-auth password."""
    named = {k.lower(): v for k, v in headers.items()}  # header names are case-insensitive
    if value := named.get(SECRET_HEADER.lower(), "").strip():
        return value[:MAX_SECRET_CHARS]
    scheme, _, credential = named.get("authorization", "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return credential[:MAX_SECRET_CHARS]
    if scheme.lower() == "basic" and credential:
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        password = decoded.partition(":")[2]
        return password[:MAX_SECRET_CHARS] or None
    return None


def matches(stored_hash: str | None, tenant_id: str, sequencer: Sequencer, secret: str) -> bool:
    """Whether the secret is the one stored, compared in constant time (also when none is stored)."""
    expected = stored_hash or _NOTHING
    offered = secret_hash(tenant_id, sequencer, secret)
    return hmac.compare_digest(expected.encode(), offered.encode()) and bool(stored_hash)


def webhook_url(base_url: str, sequencer: Sequencer, tenant_id: str, secret: str | None = None) -> str:
    """The URL to paste into the sequencer; with the secret as its password for Smartlead."""
    scheme, _, rest = base_url.rstrip("/").partition("://")
    userinfo = f"{sequencer}:{secret}@" if secret else ""
    return f"{scheme}://{userinfo}{rest}/webhooks/{sequencer}/{tenant_id}"
