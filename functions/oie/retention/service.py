"""The retention job and erasure requests (GDPR): warehouse deletes plus Firestore documents."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from oie.errors import InputError, NotFound
from oie.jobs.context import JobResult, Window
from oie.links import ids
from oie.links.csv_import import normalise_email
from oie.ports import Clock, SecretResolver, TenantStore, Warehouse
from oie.retention.scrub import address_pattern, scrub_delivery, scrub_text
from oie.suppressions.store import SuppressionStore

# Raw webhook bodies are for auditing and debugging recent deliveries; the counts stay.
RAW_BODY_DAYS = 30
_CUTOFF = ("tenant_id", "cutoff")
# Each statement with the parameters it declares (the warehouse refuses any other).
RETENTION_STATEMENTS: dict[str, tuple[str, ...]] = {
    "retention_events": _CUTOFF,
    "retention_sessions": _CUTOFF,
    # After retention_sessions: the running totals are recounted from the sessions left.
    "retention_lead_aggregates": _CUTOFF,
    "retention_email_clicks": _CUTOFF,
    "retention_level_changes": _CUTOFF,
    "retention_message_events": _CUTOFF,
    "retention_inbound_messages": _CUTOFF,
    "retention_webhook_deliveries": _CUTOFF,
    "retention_webhook_raw_bodies": ("tenant_id", "raw_cutoff"),
    "retention_campaign_transitions": _CUTOFF,
    "retention_score_history": _CUTOFF,
    "retention_plan_generations": _CUTOFF,
}
_LEAD = ("tenant_id", "lead_id")
# Order matters: rows are found through identity_map, visitor_leads and campaign_transitions,
# so those go after the tables they lead to.
ERASE_STATEMENTS: dict[str, tuple[str, ...]] = {
    "erase_events": (*_LEAD, "email_sha256"),
    "erase_message_events": ("tenant_id", "email_sha256"),
    "erase_inbound_messages": (*_LEAD, "email_sha256", "email_pattern"),
    "erase_sessions": _LEAD,
    "erase_email_clicks": _LEAD,
    "erase_lead_profiles": _LEAD,
    "erase_level_changes": _LEAD,
    "erase_score_history": _LEAD,
    "erase_lead_outcomes": _LEAD,
    "erase_campaign_transitions": _LEAD,
    "erase_plan_generations": _LEAD,
    "erase_lead_aggregates": _LEAD,
    "erase_visitor_leads": _LEAD,
    "erase_identity_map": (*_LEAD, "email_sha256"),
}


def _pick(params: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: params[name] for name in names}


Outcome = Literal["erased", "never_imported", "already_erased"]


class PersonData(Protocol):
    def full_name(self, tenant_id: str, lead_id: str) -> str:
        """The lead's "first last" name, "" when unknown or only one part is known."""
        ...

    def forget(self, tenant_id: str, lead_id: str, email: str) -> dict[str, int]:
        """Delete every document about the person; counts by kind, `lead` 1 when the lead existed."""
        ...

    def expire_messages(self, tenant_id: str, before: datetime) -> int:
        """Delete outbound message documents created before `before`."""
        ...


class CrmEraser(Protocol):
    def erase(self, tenant_id: str, lead_id: str) -> dict[str, Any]:
        """Remove what the engine wrote to the tenant's CRM about the lead; what happened (oie.crm.erasure)."""
        ...


class Outbox(Protocol):
    def forget(self, email: str) -> int:
        """Delete the stored copies of messages sent to the address."""
        ...


@dataclass
class Retention:
    warehouse: Warehouse
    tenants: TenantStore
    people: PersonData
    suppressions: SuppressionStore
    secrets: SecretResolver
    clock: Clock
    outbox: Outbox | None = None
    crm: CrmEraser | None = None

    def run(self, window: Window) -> JobResult:
        """Delete each tenant's rows and outbound messages older than its retention; empty raw webhook
        bodies after 30 days."""
        deleted: dict[str, int] = {}
        for tenant in self.tenants.all():
            cutoff = window.now - timedelta(days=tenant.retention_days)
            raw_cutoff = window.now - timedelta(days=min(RAW_BODY_DAYS, tenant.retention_days))
            params = {"tenant_id": tenant.tenant_id, "cutoff": cutoff, "raw_cutoff": raw_cutoff}
            for statement, names in RETENTION_STATEMENTS.items():
                count = self.warehouse.execute(statement, _pick(params, names))
                deleted[statement] = deleted.get(statement, 0) + count
            expired = self.people.expire_messages(tenant.tenant_id, cutoff)
            deleted["outbound_messages"] = deleted.get("outbound_messages", 0) + expired
        return JobResult(rows_written=sum(deleted.values()), watermark=window.until, details=deleted)

    def erase(self, tenant_id: str, email: str) -> dict[str, Any]:
        """Remove one person from Firestore, the warehouse and the outbox; record that it was done.

        An address that was never imported is swept all the same (it may sit in replies,
        webhook bodies or suppressions); `outcome` says which case it was.
        """
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
        params = {
            "tenant_id": tenant_id,
            "lead_id": lead_id,
            "email_sha256": email_sha256,
            "email": normalised,
            "email_pattern": address_pattern(normalised),
        }
        # Read before the lead is deleted: a full name is specific enough to scrub from others' mail.
        full_name = self.people.full_name(tenant_id, lead_id).strip().lower()
        earlier = self.warehouse.query("erasures_for_email", _pick(params, ("tenant_id", "email_sha256")))
        # Before Firestore forgets the lead: its CRM contact id is kept there.
        crm = self.crm.erase(tenant_id, lead_id) if self.crm else None
        documents = self.people.forget(tenant_id, lead_id, normalised)
        counts = {name: self.warehouse.execute(name, _pick(params, keys)) for name, keys in ERASE_STATEMENTS.items()}
        counts["webhook_deliveries_scrubbed"] = self._scrub_deliveries(params)
        counts["inbound_messages_scrubbed"] = self._scrub_inbound(params, full_name)
        counts["firestore_documents"] = sum(documents.values())
        counts["outbox_files"] = self.outbox.forget(normalised) if self.outbox else 0
        counts["suppression_kept_by_hash"] = 1
        self.suppressions.forget_address(tenant_id, "email", normalised, requested)
        imported = documents.get("lead", 0) > 0 or counts["erase_identity_map"] > 0
        outcome: Outcome = "erased" if imported else ("already_erased" if earlier else "never_imported")
        record = {
            "request_id": uuid.uuid4().hex,
            "tenant_id": tenant_id,
            "email_sha256": email_sha256,
            "lead_id": lead_id if imported else None,
            "requested_at": requested,
            "completed_at": self.clock.now(),
            "rows_deleted": {**counts, "crm": crm} if crm else counts,
            "outcome": outcome,
        }
        self.warehouse.insert_rows("erasures", [record], id_field="request_id")
        return record

    def _scrub_deliveries(self, params: dict[str, Any]) -> int:
        """Other people's events in the same deliveries stay; the person's are replaced by markers."""
        rows = self.warehouse.query(
            "erase_webhook_delivery_candidates", _pick(params, ("tenant_id", "lead_id", "email"))
        )
        for row in rows:
            body = scrub_delivery(str(row["raw_body"]), params["email"], params["lead_id"])
            self.warehouse.execute(
                "erase_webhook_delivery_body",
                {"tenant_id": params["tenant_id"], "delivery_id": row["delivery_id"], "raw_body": body},
            )
        return len(rows)

    def _scrub_inbound(self, params: dict[str, Any], full_name: str) -> int:
        """Other people's mail that names the person stays, with the address and name erased."""
        found = {**_pick(params, ("tenant_id", "email")), "full_name": full_name}
        rows = self.warehouse.query("erase_inbound_mention_candidates", found)
        fields = ("from_address", "to_address", "subject", "text_body", "html_body", "headers")
        for row in rows:
            scrubbed = {f: scrub_text(str(row[f] or ""), params["email"], params["lead_id"], full_name) for f in fields}
            self.warehouse.execute(
                "erase_inbound_mention",
                {"tenant_id": params["tenant_id"], "inbound_id": row["inbound_id"], **scrubbed},
            )
        return len(rows)
