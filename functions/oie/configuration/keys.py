"""API keys: create (shown once), list (never their secrets), revoke (their sessions end at once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oie.configuration.models import KeyIn
from oie.configuration.ports import KeyAdmin, SessionRevocation
from oie.configuration.service import TenantSettings, require_admin
from oie.errors import InputError, NotFound
from oie.outcomes.auth import Actor, create_key, role_of
from oie.outcomes.ports import ApiKeyStore


@dataclass
class KeySettings(TenantSettings):
    keys: ApiKeyStore
    key_admin: KeyAdmin
    sessions: SessionRevocation

    def api_keys(self, tenant_id: str, actor: Actor) -> list[dict[str, Any]]:
        require_admin(actor)
        self.tenant(tenant_id)
        rows = [
            {
                "key_id": key_id,
                "label": str(record.get("label", "")),
                "role": role_of(record),
                "scopes": list(record.get("scopes", [])),
                "created_at": _iso(record.get("created_at")),
                "revoked": bool(record.get("revoked")),
            }
            for key_id, record in self.key_admin.all(tenant_id)
        ]
        return sorted(rows, key=lambda r: (r["revoked"], str(r["created_at"] or ""), r["key_id"]))

    def create_api_key(self, tenant_id: str, wanted: KeyIn, actor: Actor) -> dict[str, Any]:
        """A new key, its secret shown in this answer only (the store and the log keep its hash / nothing)."""
        require_admin(actor)
        self.tenant(tenant_id)
        key = create_key(self.keys, tenant_id, [], wanted.label, self.clock.now(), role=wanted.role)
        key_id = key.removeprefix("oie_").split(".", 1)[0]
        self._record(tenant_id, actor, f"api_keys.{key_id}", None, {"label": wanted.label, "role": wanted.role})
        return {"key_id": key_id, "label": wanted.label, "role": wanted.role, "key": key}

    def revoke_api_key(self, tenant_id: str, key_id: str, actor: Actor) -> None:
        """Revoke a key: its API calls fail at once, and so do its admin sessions."""
        require_admin(actor)
        self.tenant(tenant_id)
        if not isinstance(key_id, str) or not key_id:
            raise InputError("name the key to revoke", field="key_id")
        before = self.key_admin.revoke(tenant_id, key_id, self.clock.now())
        if before is None:
            raise NotFound(f"no key {key_id!r}", field="key_id")
        self.sessions.forget(tenant_id, key_id)
        if not before.get("revoked"):
            self._record(tenant_id, actor, f"api_keys.{key_id}", {"revoked": False}, {"revoked": True})


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None
