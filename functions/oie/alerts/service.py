"""hot_lead_alerts: upward level changes -> each tenant channel that wants them, exactly once."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from oie.alerts.payload import render, signature_headers
from oie.errors import BackendUnavailable, InputError
from oie.jobs.context import JobResult, Window
from oie.logs import get_logger
from oie.ports import AlertMarkers, Clock, LeadStore, SecretResolver, TenantStore, Warehouse, WebhookSender
from oie.tenants.models import LEVEL_RANK, AlertChannel, Tenant

log = get_logger(__name__)
ATTEMPTS = 3
# Evidence that lets a lead be announced (README, "Trust"); an id alone never is.
CORROBORATED = frozenset({"verified", "corroborated"})
ANALYSIS_DAYS = 90  # how far back an alert looks for the lead analysis (oie.planner)


def is_rise(from_level: str | None, to_level: str, channel: AlertChannel) -> bool:
    """Whether a change crosses up into the channel's level or above."""
    before = LEVEL_RANK[from_level or "cold"]
    after = LEVEL_RANK[to_level]
    return after > before and after >= LEVEL_RANK[channel.min_level]


def is_corroborated(change: dict[str, Any]) -> bool:
    """Whether the lead behind a change has more than an id to show, then and now."""
    return change.get("evidence_level") in CORROBORATED and change.get("current_evidence_level") in CORROBORATED


def alert_signing_key(secrets: SecretResolver, tenant: Tenant) -> bytes:
    """The key a tenant's receivers check alerts with, derived from its own secret."""
    return hashlib.sha256(b"alerts|" + secrets.resolve(tenant.id_secret_ref)).digest()


def alert_key(change_id: str, channel: AlertChannel) -> str:
    return hashlib.sha256(f"{change_id}|{channel.url}".encode()).hexdigest()[:40]


@dataclass
class HotLeadAlerts:
    warehouse: Warehouse
    tenants: TenantStore
    leads: LeadStore
    markers: AlertMarkers
    sender: WebhookSender
    secrets: SecretResolver
    clock: Clock
    backoff: float = 0.5

    def run(self, window: Window) -> JobResult:
        """Send new crossings, retry earlier failures; the watermark moves on either way."""
        sent = failed = 0
        tried: set[str] = set()
        tenants: dict[str, Tenant | None] = {}
        for change in self.warehouse.query("level_changes_to_alert", window.params()):
            if not is_corroborated(change):
                # The query leaves these out already; a signed alert is too costly to trust one filter.
                log.warning("id-only lead not alerted", extra={"change_id": change["change_id"]})
                continue
            tenant = tenants.setdefault(change["tenant_id"], self.tenants.get(change["tenant_id"]))
            if tenant is None:
                continue
            for channel in tenant.alert_channels:
                if not is_rise(change["from_level"], change["to_level"], channel):
                    continue
                payload = {
                    "tenant_id": tenant.tenant_id,
                    "channel": channel.model_dump(mode="json"),
                    "alert": self._alert(change),
                }
                key = alert_key(change["change_id"], channel)
                tried.add(key)
                if self.markers.claim(key, payload):
                    ok = self._deliver(key, payload)
                    sent, failed = sent + ok, failed + (not ok)
        # Failures of earlier runs get another try; this run's own failures wait for the next.
        for key, payload in self.markers.failed(limit=100):
            if key not in tried and self.markers.claim(key, payload):
                ok = self._deliver(key, payload)
                sent, failed = sent + ok, failed + (not ok)
        return JobResult(rows_written=sent, watermark=window.until, details={"sent": sent, "failed": failed})

    def _analysis(self, tenant_id: str, lead_id: str) -> str:
        """The planner's latest lead analysis of this lead (what it read, how it engaged), if any."""
        since = self.clock.now() - timedelta(days=ANALYSIS_DAYS)
        rows = self.warehouse.query(
            "alert_lead_analyses", {"tenant_id": tenant_id, "lead_ids": [lead_id], "since": since}
        )
        return str(rows[0]["lead_analysis"]) if rows else ""

    def _alert(self, change: dict[str, Any]) -> dict[str, Any]:
        lead = self.leads.get(change["tenant_id"], change["lead_id"])
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p) if lead else ""
        return {
            "id": change["change_id"],
            "tenant_id": change["tenant_id"],
            "lead": {
                "id": change["lead_id"],
                "name": name,
                "email": lead.email if lead else "",
                "company": lead.company if lead else "",
                "analysis": self._analysis(change["tenant_id"], change["lead_id"]),
            },
            "from_level": change["from_level"] or "cold",
            "to_level": change["to_level"],
            "score": float(change["score"]),
            "components": {
                "recency": float(change["recency_points"]),
                "frequency": float(change["frequency_points"]),
                "engagement": float(change["engagement_points"]),
                "high-intent pages": float(change["high_intent_points"]),
                "conversions": float(change["conversion_points"]),
            },
            "evidence": {
                "level": change["evidence_level"],
                "verified_sessions": int(change["verified_sessions"] or 0),
                "corroborated_sessions": int(change["corroborated_sessions"] or 0),
                "id_only_sessions": int(change["id_only_sessions"] or 0),
            },
            "changed_at": change["changed_at"].isoformat(),
        }

    def _deliver(self, key: str, payload: dict[str, Any]) -> bool:
        """POST with retries and back-off; settle the marker with the outcome."""
        tenant = self.tenants.get(payload["tenant_id"])
        channel = AlertChannel.model_validate(payload["channel"])
        if tenant is None:
            self.markers.settle(key, sent=False, error="tenant gone")
            return False
        error = self.post_signed(tenant, channel, payload["alert"])
        if not error:
            self.markers.settle(key, sent=True)
            return True
        log.warning("alert not delivered", extra={"alert_key": key, "error": error})
        self.markers.settle(key, sent=False, error=error)
        return False

    def post_signed(self, tenant: Tenant, channel: AlertChannel, alert: dict[str, Any]) -> str:
        """POST one signed alert with retries and back-off; "" when delivered, else why not."""
        signing_key = alert_signing_key(self.secrets, tenant)
        body = render(channel, alert)
        error = ""
        for attempt in range(ATTEMPTS):
            headers = signature_headers(signing_key, alert["id"], body, int(self.clock.now().timestamp()))
            try:
                status = self.sender.post(str(channel.url), body, headers)
            except InputError as exc:
                return exc.message  # a bad URL will not get better
            except BackendUnavailable as exc:
                status, error = 0, exc.message
            if 200 <= status < 300:
                return ""
            error = error or f"status {status}"
            if 400 <= status < 500 and status != 429:
                break
            time.sleep(self.backoff * 2**attempt)
        return error

    def send_test(self, tenant: Tenant, channel: AlertChannel) -> str:
        """Send one signed test alert (marked `test`, no lead behind it); "" when delivered."""
        now = self.clock.now()
        alert = {
            "id": f"test-{int(now.timestamp())}-{hashlib.sha256(str(channel.url).encode()).hexdigest()[:8]}",
            "test": True,
            "tenant_id": tenant.tenant_id,
            "lead": {"id": "test", "name": "Test alert from the Outbound Intent Engine", "email": "", "company": ""},
            "from_level": "warm",
            "to_level": channel.min_level,
            "score": 0.0,
            "components": {},
            "evidence": {"level": "test", "verified_sessions": 0, "corroborated_sessions": 0, "id_only_sessions": 0},
            "changed_at": now.isoformat(),
        }
        return self.post_signed(tenant, channel, alert)
