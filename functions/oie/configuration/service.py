"""Changing a tenant's settings: validated by the models, done by an admin, each change logged.

The CLI, the JSON API and the admin pages all call these services, so a rule holds everywhere:
this module (the tenant's own settings, sending limits, alert channels, the change log),
senders.py, keys.py and scoring.py, each built on TenantSettings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oie.campaigns.limits import LimitsConfig
from oie.configuration.changelog import Change, ChangeLog, change
from oie.configuration.models import AlertChannelIn, LimitsIn, TenantSettingsIn, channel_id, webhook_key_fingerprint
from oie.configuration.ports import AlertTester, SenderAdmin
from oie.errors import Forbidden, InputError, NotFound
from oie.outcomes.auth import ADMIN_ONLY, Actor
from oie.ports import Clock, TenantStore
from oie.tenants.models import AlertChannel, Tenant
from oie.tenants.service import update_tenant

MAX_LOG = 200


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(ADMIN_ONLY if actor.role == "member" else "this key may not change settings", field="role")


def channel_record(channel: AlertChannel) -> dict[str, Any]:
    """A channel as shown and logged: its host only, since a Slack webhook URL is itself a secret."""
    return {
        "channel_id": channel_id(channel),
        "kind": channel.kind,
        "host": channel.url.host or "",
        "min_level": channel.min_level,
    }


@dataclass
class TenantSettings:
    """What every settings service has: the tenants, the change log, a clock."""

    tenants: TenantStore
    log: ChangeLog
    clock: Clock

    def tenant(self, tenant_id: str) -> Tenant:
        found = self.tenants.get(tenant_id)
        if found is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        return found

    def _record(self, tenant_id: str, actor: Actor, setting: str, old: Any, new: Any, *, secret: bool = False) -> None:
        if old != new:
            self.log.add(change(tenant_id, actor, setting, old, new, self.clock.now(), secret=secret))


@dataclass
class SettingsService(TenantSettings):
    """The tenant's own settings, sending limits, alert channels, and the change log."""

    senders: SenderAdmin
    alerts: AlertTester

    def changes(self, tenant_id: str, actor: Actor, limit: int = 50) -> list[Change]:
        require_admin(actor)
        self.tenant(tenant_id)
        return self.log.recent(tenant_id, max(1, min(limit, MAX_LOG)))

    # -- the tenant's own settings: webhook key, reply domain, origins, privacy mode --

    def tenant_settings(self, tenant_id: str, actor: Actor) -> dict[str, Any]:
        require_admin(actor)
        tenant = self.tenant(tenant_id)
        return {
            "sendgrid_webhook_key": webhook_key_fingerprint(tenant.sendgrid_webhook_public_key),
            "reply_domain": tenant.reply_domain,
            "allowed_origins": list(tenant.allowed_origins),
            "ip_mode": tenant.ip_mode,
        }

    def update_tenant_settings(self, tenant_id: str, changes: TenantSettingsIn, actor: Actor) -> dict[str, Any]:
        require_admin(actor)
        before = self.tenant(tenant_id)
        given = changes.model_dump(exclude_none=True)
        after = update_tenant(self.tenants, tenant_id, given)
        for name in given:
            old, new = getattr(before, name), getattr(after, name)  # as stored: normalised
            if name == "sendgrid_webhook_public_key":
                old, new = webhook_key_fingerprint(old), webhook_key_fingerprint(new)
            self._record(tenant_id, actor, name, _plain(old), _plain(new))
        return self.tenant_settings(tenant_id, actor)

    # -- sending limits --

    def limits(self, tenant_id: str, actor: Actor) -> LimitsConfig:
        require_admin(actor)
        self.tenant(tenant_id)
        return self.senders.limits(tenant_id)

    def set_limits(self, tenant_id: str, limits: LimitsIn, actor: Actor) -> LimitsConfig:
        current = self.limits(tenant_id, actor)
        new = current.model_copy(update=limits.model_dump())
        self.senders.put_limits(tenant_id, new)
        for name in ("tenant_hourly", "domain_hourly"):
            self._record(tenant_id, actor, f"limits.{name}", getattr(current, name), getattr(new, name))
        return new

    # -- alert channels --

    def alert_channels(self, tenant_id: str, actor: Actor) -> list[dict[str, Any]]:
        require_admin(actor)
        return [channel_record(c) for c in self.tenant(tenant_id).alert_channels]

    def add_alert_channel(self, tenant_id: str, channel: AlertChannelIn, actor: Actor) -> dict[str, Any]:
        require_admin(actor)
        tenant = self.tenant(tenant_id)
        plain = AlertChannel.model_validate(channel.model_dump())
        if any(channel_id(c) == channel_id(plain) for c in tenant.alert_channels):
            raise InputError("this tenant already has a channel with that URL", field="url")
        update_tenant(self.tenants, tenant_id, {"alert_channels": (*tenant.alert_channels, plain)})
        # The URL of a webhook carries its credential: logged as "changed", never in the clear.
        self._record(tenant_id, actor, f"alert_channels.{channel_id(plain)}", None, channel_record(plain))
        return channel_record(plain)

    def _channel(self, tenant: Tenant, wanted: str) -> AlertChannel:
        for channel in tenant.alert_channels:
            if channel_id(channel) == wanted:
                return channel
        raise NotFound(f"no alert channel {wanted!r}", field="channel_id")

    def remove_alert_channel(self, tenant_id: str, wanted: str, actor: Actor) -> None:
        require_admin(actor)
        tenant = self.tenant(tenant_id)
        gone = self._channel(tenant, wanted)
        kept = tuple(c for c in tenant.alert_channels if c != gone)
        update_tenant(self.tenants, tenant_id, {"alert_channels": kept})
        self._record(tenant_id, actor, f"alert_channels.{wanted}", channel_record(gone), None)

    def test_alert_channel(self, tenant_id: str, wanted: str, actor: Actor) -> dict[str, Any]:
        """Send one signed test alert to a channel, through the engine's own alert sender."""
        require_admin(actor)
        tenant = self.tenant(tenant_id)
        channel = self._channel(tenant, wanted)
        error = self.alerts.send_test(tenant, channel)
        return {**channel_record(channel), "delivered": not error, "error": error}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
