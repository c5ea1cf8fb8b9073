"""Per-tenant API keys (stored hashed, with scopes) and admin sessions (signed cookies, CSRF)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from oie import doc_ids
from oie.errors import Forbidden, InputError, Unauthenticated
from oie.outcomes.ports import ApiKeyStore

Scope = Literal["outcomes:read", "outcomes:write", "admin"]
SCOPES: tuple[Scope, ...] = ("outcomes:read", "outcomes:write", "admin")
SESSION_HOURS = 8
_REFUSED = "this key may not do that for this tenant"  # one answer: nothing learned about other tenants


@dataclass(frozen=True)
class Actor:
    """Who is calling: the key (or admin session) and what it may do."""

    key_id: str
    label: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def may(self, scope: Scope) -> bool:
        return self.is_admin or scope in self.scopes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: ApiKeyStore, tenant_id: str, scopes: list[str], label: str, now: datetime) -> str:
    """A new key; only its hash is stored, so the plaintext is shown this once."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)}", field="scope")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    store.put(
        tenant_id,
        key_id,
        {"hash": _digest(secret), "scopes": sorted(set(scopes)), "label": label, "created_at": now, "revoked": False},
    )
    return f"oie_{key_id}.{secret}"


def authenticate(store: ApiKeyStore, tenant_id: str, presented: str | None, scope: Scope) -> Actor:
    """The actor behind a key for this tenant's path, or 401 (no key) / 403 (anything else)."""
    if not presented:
        raise Unauthenticated("send an API key: Authorization: Bearer oie_…", field="authorization")
    token = presented.removeprefix("Bearer ").strip()
    key_id, _, secret = token.removeprefix("oie_").partition(".")
    # The key id becomes a document id (`api_keys/{key_id}`): only its own form may reach the store.
    if not token.startswith("oie_") or not doc_ids.is_valid("key_id", key_id) or not secret:
        raise Unauthenticated("malformed API key", field="authorization")
    record = store.get(tenant_id, key_id)
    if record is None or record.get("revoked") or not hmac.compare_digest(record["hash"], _digest(secret)):
        raise Forbidden(_REFUSED, field="authorization")
    actor = Actor(key_id=key_id, label=str(record.get("label", "")), scopes=frozenset(record.get("scopes", [])))
    if not actor.may(scope):
        raise Forbidden(_REFUSED, field="authorization")
    return actor


class Sessions:
    """Admin sessions: a signed, expiring cookie holding the tenant, the key and a CSRF token."""

    COOKIE = "oie_admin"

    def __init__(self, key: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="oie-admin-session")

    def issue(self, tenant_id: str, actor: Actor) -> tuple[str, str]:
        """The cookie value and the CSRF token forms must echo."""
        csrf = secrets.token_urlsafe(18)
        return self._serializer.dumps({"t": tenant_id, "k": actor.key_id, "l": actor.label, "c": csrf}), csrf

    def read(self, tenant_id: str, cookie: str | None) -> tuple[Actor, str] | None:
        """The admin actor and CSRF token of a valid session for this tenant; None otherwise."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        if data.get("t") != tenant_id:
            return None
        return Actor(key_id=data["k"], label=data.get("l", ""), scopes=frozenset({"admin"})), str(data["c"])
