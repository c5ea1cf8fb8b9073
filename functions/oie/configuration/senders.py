"""Senders: the mailboxes a tenant sends from, their limits, warm-up pools and verification state."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from oie.campaigns.limits import WarmupPool
from oie.campaigns.models import SenderIdentity
from oie.configuration.models import SenderIn
from oie.configuration.ports import SenderAdmin, SenderVerification
from oie.configuration.service import TenantSettings, require_admin
from oie.errors import InputError, NotFound
from oie.outcomes.auth import Actor

LOCAL_UNVERIFIED = "unverified (local)"
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass
class SenderSettings(TenantSettings):
    senders: SenderAdmin
    verification: SenderVerification | None = None  # None: no SendGrid (the local outbox)

    def _states(self) -> dict[str, str] | None:
        return None if self.verification is None else self.verification.states()

    def senders_of(self, tenant_id: str, actor: Actor) -> list[dict[str, Any]]:
        require_admin(actor)
        self.tenant(tenant_id)
        states = self._states()
        rows = []
        for sender in sorted(self.senders.all(tenant_id), key=lambda s: s.sender_id):
            pool = self.senders.warmup(tenant_id, sender.ip_pool) if sender.ip_pool else None
            today = self.clock.now().date()
            rows.append(
                {
                    **sender.model_dump(mode="json", exclude={"verification"}),
                    "verification": _shown_state(sender, states),
                    "warmup_started_on": pool.started_on.isoformat() if pool else None,
                    "warmup_cap_today": pool.cap_on(today) if pool else None,
                }
            )
        return rows

    def add_sender(
        self, tenant_id: str, sender: SenderIn, actor: Actor, *, assume_verified: bool = False
    ) -> dict[str, Any]:
        """Add or replace a sender; its state comes from SendGrid. Locally (no SendGrid) nothing can
        verify it: `assume_verified` lets the local outbox send from it, and is refused with SendGrid."""
        require_admin(actor)
        self.tenant(tenant_id)
        existing = self.senders.get(tenant_id, sender.sender_id)
        states = self._states()
        if assume_verified and states is not None:
            raise InputError("SendGrid verifies senders here: verify the address in SendGrid", field="assume_verified")
        if states is None:
            kept = existing.verification if existing and existing.from_email == sender.from_email else "pending"
            verification = "verified" if assume_verified else kept
        else:
            verification = "verified" if states.get(sender.from_email) == "verified" else "pending"
        identity = SenderIdentity(
            **sender.model_dump(include={"sender_id", "from_email", "from_name", "daily_limit", "hourly_limit"}),
            ip_pool=sender.ip_pool,
            verification=verification,
        )
        if sender.ip_pool:
            pool = self.senders.warmup(tenant_id, sender.ip_pool)
            started = sender.warmup_started_on or (pool.started_on if pool else self.clock.now().date())
            new_pool = WarmupPool(pool=sender.ip_pool, started_on=started, daily_caps=sender.warmup_daily_caps)
            if new_pool != pool:
                self.senders.put_warmup(tenant_id, new_pool)
                old_pool = pool.model_dump(mode="json") if pool else None
                self._record(tenant_id, actor, f"ip_pools.{sender.ip_pool}", old_pool, new_pool.model_dump(mode="json"))
        self.senders.put(tenant_id, identity)
        old = existing.model_dump(mode="json") if existing else None
        self._record(tenant_id, actor, f"senders.{sender.sender_id}", old, identity.model_dump(mode="json"))
        return {**identity.model_dump(mode="json"), "verification": _shown_state(identity, states)}

    def remove_sender(self, tenant_id: str, sender_id: str, actor: Actor) -> None:
        require_admin(actor)
        self.tenant(tenant_id)
        # The id names a document: only a sender id's own form may reach the store.
        existing = self.senders.get(tenant_id, sender_id) if SENDER_ID.fullmatch(sender_id) else None
        if existing is None:
            raise NotFound(f"no sender {sender_id!r}", field="sender_id")
        self.senders.remove(tenant_id, sender_id)
        self._record(tenant_id, actor, f"senders.{sender_id}", existing.model_dump(mode="json"), None)


def _shown_state(sender: SenderIdentity, states: dict[str, str] | None) -> str:
    """SendGrid's word on the address when it is configured; locally, what the demo or an admin stored."""
    if states is None:
        return "verified (assumed, local)" if sender.verification == "verified" else LOCAL_UNVERIFIED
    return states.get(sender.from_email, "not in SendGrid")
