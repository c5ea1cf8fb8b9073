"""Verifying SendGrid's signed Event Webhook: ECDSA P-256 over (timestamp + raw body).

SendGrid's helper (`sendgrid.helpers.eventwebhook`) loads the key; the check itself is
the helper's one `cryptography` call, made over the raw bytes, because the helper takes
text and a signed body that is not UTF-8 must still verify (then be stored as unreadable).
This module adds what the helper leaves to the caller: missing headers, stale timestamps
(replays) and keys that are not P-256.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from functools import lru_cache
from typing import Any

from oie.errors import Forbidden, Unauthenticated

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


@lru_cache(maxsize=256)
def _public_key(public_key_b64: str) -> Any:
    """The tenant's key as SendGrid shows it (base64 DER), loaded once per process."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from sendgrid.helpers.eventwebhook import EventWebhook

    try:
        key = EventWebhook().convert_public_key_to_ecdsa(public_key_b64.strip())
    except (ValueError, TypeError) as exc:
        raise Forbidden("the tenant's SendGrid verification key cannot be read") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise Forbidden("the tenant's SendGrid verification key is not an ECDSA P-256 key")
    return key


def verify(
    public_key_b64: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
    max_age_seconds: int,
) -> datetime:
    """Check one delivery; return when SendGrid signed it. Raise 401 (unsigned, stale) or 403 (forged)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    if not signature or not timestamp:
        raise Unauthenticated(
            "the request is not signed", field=SIGNATURE_HEADER if not signature else TIMESTAMP_HEADER
        )
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError) as exc:
        raise Unauthenticated("the signature timestamp is not a unix time", field=TIMESTAMP_HEADER) from exc
    if abs((now - signed_at).total_seconds()) > max_age_seconds:
        raise Unauthenticated(
            f"the signature timestamp is more than {max_age_seconds} s from now", field=TIMESTAMP_HEADER
        )
    if not public_key_b64:
        raise Forbidden("the tenant has no SendGrid verification key")
    key = _public_key(public_key_b64)
    try:
        key.verify(base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        valid = True
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        valid = False
    if not valid:
        raise Forbidden("the signature does not verify", field=SIGNATURE_HEADER)
    return signed_at
