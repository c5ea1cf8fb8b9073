"""Per-tenant API keys (stored hashed, with a role and scopes) and admin sessions (signed cookies, CSRF).

Roles: an `admin` key changes settings and does everything else; a `member` key (an SDR)
sees leads, records outcomes and pauses campaigns. Keys stored before roles existed have no
`role` field and read as `admin`, keeping their scopes: an admin-scope key stays an admin, a
key limited to outcomes scopes stays limited to them (no key gains a right it did not have).
A session is checked against its key on every request (the record is cached for at most
`REVOCATION_TTL` seconds), so revoking a key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from oie import doc_ids
from oie.errors import Forbidden, InputError, Unauthenticated
from oie.outcomes.ports import ApiKeyStore

Scope = Literal["outcomes:read", "outcomes:write", "campaigns:pause", "admin"]
SCOPES: tuple[Scope, ...] = ("outcomes:read", "outcomes:write", "campaigns:pause", "admin")
Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")
# What a key created with a role may do.
ROLE_SCOPES: dict[Role, tuple[Scope, ...]] = {
    "admin": ("admin",),
    "member": ("outcomes:read", "outcomes:write", "campaigns:pause"),
}
SESSION_HOURS = 8
REVOCATION_TTL = 2.0  # seconds a session may trust its key's record before reading it again
_REFUSED = "this key may not do that for this tenant"  # one answer: nothing learned about other tenants
ADMIN_ONLY = "only an admin key may change settings; this key's role is member"


@dataclass(frozen=True)
class Actor:
    """Who is calling: the key (or admin session) and what it may do."""

    key_id: str
    label: str
    scopes: frozenset[str]
    role: Role = "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and "admin" in self.scopes

    @property
    def may_log_in(self) -> bool:
        """Admins and members use the admin pages; a key limited to API scopes does not."""
        return self.is_admin or self.role == "member"

    def may(self, scope: Scope) -> bool:
        return self.is_admin or (scope != "admin" and scope in self.scopes)


def role_of(record: dict[str, Any]) -> Role:
    """A stored key's role; keys stored before roles existed are admins (their scopes still bound them)."""
    return "member" if record.get("role") == "member" else "admin"


def actor_of(key_id: str, record: dict[str, Any]) -> Actor:
    return Actor(
        key_id=key_id,
        label=str(record.get("label", "")),
        scopes=frozenset(record.get("scopes", [])),
        role=role_of(record),
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    store: ApiKeyStore,
    tenant_id: str,
    scopes: list[str],
    label: str,
    now: datetime,
    *,
    role: Role | None = None,
) -> str:
    """A new key; only its hash is stored, so the plaintext is shown this once.

    With a role and no scopes, the role's scopes. Without a role (`oie tenant api-key`, the
    integration keys), the key is stored as keys were before roles: its scopes alone decide.
    """
    if role is not None and role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="role")
    scopes = list(scopes) or list(ROLE_SCOPES[role] if role else ())
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)}", field="scope")
    if role == "member" and "admin" in scopes:
        raise InputError("a member key cannot have the admin scope", field="scope")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    record: dict[str, Any] = {
        "hash": _digest(secret),
        "scopes": sorted(set(scopes)),
        "label": label,
        "created_at": now,
        "revoked": False,
    }
    store.put(tenant_id, key_id, {**record, "role": role} if role else record)
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
    actor = actor_of(key_id, record)
    if not actor.may(scope):
        # The key is this tenant's own: saying why is safe, and tells an SDR what to ask for.
        raise Forbidden(ADMIN_ONLY if scope == "admin" and actor.role == "member" else _REFUSED, field="authorization")
    return actor


class Sessions:
    """Admin sessions: a signed, expiring cookie holding the tenant, the key and a CSRF token.

    With `keys`, each read checks the key's record (cached `ttl` seconds): a revoked or
    deleted key's sessions end, and a changed role counts, within that time.
    """

    COOKIE = "oie_admin"

    def __init__(self, key: bytes, keys: ApiKeyStore | None = None, ttl: float = REVOCATION_TTL) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="oie-admin-session")
        self._keys, self._ttl = keys, ttl
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def forget(self, tenant_id: str, key_id: str) -> None:
        """Drop a key's cached record (after a revocation in this process)."""
        with self._lock:
            self._cache.pop((tenant_id, key_id), None)

    def _record(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        assert self._keys is not None
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((tenant_id, key_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        record = self._keys.get(tenant_id, key_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[(tenant_id, key_id)] = (now + self._ttl, record)
        return record

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
        if self._keys is None:
            return Actor(key_id=data["k"], label=data.get("l", ""), scopes=frozenset({"admin"})), str(data["c"])
        record = self._record(tenant_id, str(data["k"]))
        if record is None or record.get("revoked"):
            return None
        actor = actor_of(str(data["k"]), record)
        return (actor, str(data["c"])) if actor.may_log_in else None
