"""The settings change log: who changed which setting when, from what to what; secrets only "changed"."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from oie.outcomes.auth import Actor

CHANGED = "changed"  # what the log holds instead of a secret's old and new value


class Change(BaseModel):
    """One entry of `tenants/{t}/settings_changes/{change_id}`."""

    model_config = ConfigDict(frozen=True)

    change_id: str
    tenant_id: str
    at: datetime
    key_id: str
    key_name: str
    setting: str
    old: Any = None
    new: Any = None


class ChangeLog(Protocol):
    def add(self, change: Change) -> None: ...

    def recent(self, tenant_id: str, limit: int) -> list[Change]:
        """The newest changes first."""
        ...


def change(
    tenant_id: str, actor: Actor, setting: str, old: Any, new: Any, at: datetime, *, secret: bool = False
) -> Change:
    """A log entry; for a secret, neither value, only that it changed."""
    return Change(
        # Sortable by time, unique among writers in the same millisecond.
        change_id=f"{int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}",
        tenant_id=tenant_id,
        at=at,
        key_id=actor.key_id,
        key_name=actor.label,
        setting=setting,
        old=CHANGED if secret else old,
        new=CHANGED if secret else new,
    )
