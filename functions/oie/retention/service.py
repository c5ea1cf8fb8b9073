"""The retention job and erasure requests (GDPR): warehouse deletes plus Firestore documents."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from oie.errors import InputError, NotFound
from oie.jobs.context import JobResult, Window
from oie.links import ids
from oie.links.csv_import import normalise_email
from oie.ports import Clock, PersonStore, SecretResolver, TenantStore, Warehouse

RETENTION_STATEMENTS = (
    "retention_events",
    "retention_sessions",
    "retention_email_clicks",
    "retention_level_changes",
    "retention_message_events",
    "retention_inbound_messages",
)
# Order matters: rows are found through identity_map and visitor_leads, so those go last.
ERASE_STATEMENTS = (
    "erase_events",
    "erase_message_events",
    "erase_inbound_messages",
    "erase_sessions",
    "erase_email_clicks",
    "erase_lead_profiles",
    "erase_level_changes",
    "erase_visitor_leads",
    "erase_identity_map",
)


@dataclass
class Retention:
    warehouse: Warehouse
    tenants: TenantStore
    people: PersonStore
    secrets: SecretResolver
    clock: Clock

    def run(self, window: Window) -> JobResult:
        """Delete each tenant's rows older than its retention."""
        deleted: dict[str, int] = {}
        for tenant in self.tenants.all():
            cutoff = window.now - timedelta(days=tenant.retention_days)
            for statement in RETENTION_STATEMENTS:
                count = self.warehouse.execute(statement, {"tenant_id": tenant.tenant_id, "cutoff": cutoff})
                deleted[statement] = deleted.get(statement, 0) + count
        return JobResult(rows_written=sum(deleted.values()), watermark=window.until, details=deleted)

    def erase(self, tenant_id: str, email: str) -> dict[str, Any]:
        """Remove one person from Firestore and the warehouse; record that it was done."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        try:
            normalised = normalise_email(email)
        except ValueError as exc:
            raise InputError(str(exc), field="email") from None
        requested = self.clock.now()
        lead_id = ids.lead_id(self.secrets.resolve(tenant.id_secret_ref), tenant_id, normalised)
        email_sha256 = hashlib.sha256(normalised.encode()).hexdigest()
        params = {"tenant_id": tenant_id, "lead_id": lead_id, "email_sha256": email_sha256, "email": normalised}
        counts = {statement: self.warehouse.execute(statement, params) for statement in ERASE_STATEMENTS}
        counts["firestore_documents"] = self.people.forget(tenant_id, lead_id)
        record = {
            "request_id": uuid.uuid4().hex,
            "tenant_id": tenant_id,
            "email_sha256": email_sha256,
            "lead_id": lead_id,
            "requested_at": requested,
            "completed_at": self.clock.now(),
            "rows_deleted": counts,
        }
        self.warehouse.insert_rows("erasures", [record], id_field="request_id")
        return record
