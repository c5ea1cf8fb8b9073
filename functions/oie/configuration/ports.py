"""What the settings service needs from the outside world (Firestore, SendGrid, the alert sender)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from oie.campaigns.limits import LimitsConfig, WarmupPool
from oie.campaigns.models import SenderIdentity
from oie.tenants.models import AlertChannel, Tenant


class SenderAdmin(Protocol):
    """`tenants/{t}/senders`, `ip_pools` and `campaign_config/limits` (oie.campaigns.firestore)."""

    def get(self, tenant_id: str, sender_id: str) -> SenderIdentity | None: ...

    def put(self, tenant_id: str, sender: SenderIdentity) -> None: ...

    def remove(self, tenant_id: str, sender_id: str) -> None: ...

    def all(self, tenant_id: str) -> list[SenderIdentity]: ...

    def limits(self, tenant_id: str) -> LimitsConfig: ...

    def put_limits(self, tenant_id: str, config: LimitsConfig) -> None: ...

    def warmup(self, tenant_id: str, pool: str) -> WarmupPool | None: ...

    def put_warmup(self, tenant_id: str, pool: WarmupPool) -> None: ...


class KeyAdmin(Protocol):
    def all(self, tenant_id: str) -> list[tuple[str, dict[str, Any]]]: ...

    def revoke(self, tenant_id: str, key_id: str, at: datetime) -> dict[str, Any] | None:
        """Mark a key revoked; its record before, or None when there is no such key."""
        ...


class AlertTester(Protocol):
    def send_test(self, tenant: Tenant, channel: AlertChannel) -> str:
        """Send one signed test alert; "" when delivered, else why not."""
        ...


class SessionRevocation(Protocol):
    def forget(self, tenant_id: str, key_id: str) -> None: ...


class SenderVerification(Protocol):
    def states(self) -> dict[str, str]:
        """Each sender identity's from address and its state (`verified`, `pending`)."""
        ...
