"""CRM sync: level changes (after each score run) and a daily reconciliation -> each tenant's CRM.

Per tenant and batch: find the contacts by email, write the engine's fields (same values
on a retry), create the unknown ones only if the tenant allows it, then one note per
rise to a note level, keyed by its level change and claimed before the CRM is called, so
neither a retried sync nor two syncs at once add a second one (oie.crm.notes).
Each lead's crmContactId, syncedToCRM, lastSyncedAt and last error land in Firestore.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from oie.crm import mapping
from oie.crm.backoff import Deadline, stopped
from oie.crm.facts import Facts, gather
from oie.crm.models import CrmConfig, LeadSyncState
from oie.crm.notes import NoteWriter, wanted_notes
from oie.crm.ports import CrmClient, CrmClients, CrmError, CrmStore
from oie.errors import NotFound, OieError
from oie.jobs.context import EPOCH, JobResult, Window
from oie.logs import get_logger
from oie.ports import Clock, SecretResolver, Warehouse

log = get_logger(__name__)
T = TypeVar("T")
RECONCILE_LIMIT = 5000


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class TenantRun:
    """What one tenant's sync did; `error` is "" when every call went through."""

    synced: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0
    notes: int = 0
    # Notes another run claimed at the same time: left to it, so this run holds its watermark.
    notes_held: int = 0
    error: str = ""
    transient: bool = False


@dataclass
class CrmSync:
    warehouse: Warehouse
    store: CrmStore
    secrets: SecretResolver
    clients: CrmClients
    clock: Clock
    deadline_seconds: float = 240.0
    sleep: Callable[[float], None] = time.sleep

    def run(self, window: Window) -> JobResult:
        """The crm_sync job: the level changes in the window, per connected tenant.

        A CRM that was down or rate-limited past the deadline holds the watermark, so the
        next run repeats the window (idempotent); a refused token does not hold the others.
        """
        changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for change in self.warehouse.query("crm_level_changes", window.params()):
            changes[change["tenant_id"]].append(change)
        return self._result(window, {t: self.sync_tenant(t, None, rows) for t, rows in changes.items()})

    def reconcile(self, window: Window) -> JobResult:
        """The daily crm_reconcile job: every warm+ lead scored in the window, and the window's notes."""
        changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for change in self.warehouse.query("crm_level_changes", window.params()):
            changes[change["tenant_id"]].append(change)
        runs: dict[str, TenantRun] = {}
        for tenant_id in self.store.connected_tenants():
            params = {
                "tenant_id": tenant_id,
                "since": window.since,
                "until": window.until,
                "limit_rows": RECONCILE_LIMIT,
            }
            lead_ids = [r["lead_id"] for r in self.warehouse.query("crm_profiles_scored", params)]
            runs[tenant_id] = self.sync_tenant(tenant_id, lead_ids, changes.get(tenant_id, []))
        return self._result(window, runs)

    def sync_now(self, tenant_id: str, lead_ids: Sequence[str] | None = None) -> TenantRun:
        """`oie crm sync`: these leads, or every warm+ lead of the tenant, now."""
        if self.store.get_config(tenant_id) is None:
            raise NotFound(f"tenant {tenant_id!r} has no CRM connected", field="tenant")
        if lead_ids is None:
            params = {"tenant_id": tenant_id, "since": EPOCH, "until": self.clock.now(), "limit_rows": RECONCILE_LIMIT}
            lead_ids = [r["lead_id"] for r in self.warehouse.query("crm_profiles_scored", params)]
        return self.sync_tenant(tenant_id, lead_ids, [])

    def _result(self, window: Window, runs: dict[str, TenantRun]) -> JobResult:
        # A note held by another run may still fail there: repeat the window until it is settled.
        held = any(r.transient or r.notes_held for r in runs.values())
        details: dict[str, Any] = {
            "tenants": len(runs),
            "synced": sum(r.synced for r in runs.values()),
            "created": sum(r.created for r in runs.values()),
            "skipped": sum(r.skipped for r in runs.values()),
            "failed": sum(r.failed for r in runs.values()),
            "notes": sum(r.notes for r in runs.values()),
            "notes_held": sum(r.notes_held for r in runs.values()),
            "errors": {t: r.error for t, r in runs.items() if r.error},
        }
        return JobResult(
            rows_written=details["synced"] + details["notes"],
            watermark=window.since if held else window.until,
            details=details,
        )

    def sync_tenant(
        self, tenant_id: str, lead_ids: Sequence[str] | None, changes: Sequence[dict[str, Any]]
    ) -> TenantRun:
        """Sync the leads (those of `changes` when `lead_ids` is None) and the notes of `changes`."""
        run = TenantRun()
        config = self.store.get_config(tenant_id)
        if config is None:
            return run
        wanted = list(dict.fromkeys([*(lead_ids or []), *(c["lead_id"] for c in changes)]))
        facts = gather(self.warehouse, self.store, self.clock, tenant_id, config, wanted)
        # No email in Firestore (an erased lead): nothing to match a contact by.
        run.skipped += len(wanted) - len(facts.people)
        deadline = Deadline(self.deadline_seconds, sleep=self.sleep)
        states: dict[str, LeadSyncState] = {}
        try:
            client = self.clients(config, self.secrets.resolve(config.secret_ref))
            self._ensure_schema(tenant_id, config, client, deadline)
            contacts = self._write_contacts(config, client, facts, deadline, states, run)
            now = self.clock.now()
            # A holder per run: its claims are its own to settle or release, never another run's.
            writer = NoteWriter(self.store, client, deadline, tenant_id, uuid.uuid4().hex, now)
            done = writer.write(wanted_notes(tenant_id, config, changes, contacts, facts, now))
            run.notes, run.notes_held = done.created, done.held
        except (CrmError, OieError) as exc:  # OieError: the secret could not be read
            run.error, run.transient = stopped(exc, tenant_id, "crm sync incomplete")
            for lead_id in facts.people:
                if lead_id not in states:
                    states[lead_id] = LeadSyncState(synced_to_crm=False, last_error=run.error)
                    run.failed += 1
        self.store.set_lead_states(tenant_id, list(states.items()))
        self.store.record_run(tenant_id, self.clock.now(), run.error)
        return run

    def _ensure_schema(self, tenant_id: str, config: CrmConfig, client: CrmClient, deadline: Deadline) -> None:
        written = config.written_fields()
        if set(written) <= set(self.store.schema_fields(tenant_id)):
            return
        deadline.call(lambda: client.ensure_schema(mapping.fields_for(written)))
        self.store.mark_schema(tenant_id, written)

    def _write_contacts(
        self,
        config: CrmConfig,
        client: CrmClient,
        facts: Facts,
        deadline: Deadline,
        states: dict[str, LeadSyncState],
        run: TenantRun,
    ) -> dict[str, str]:
        """Write every lead's fields; contact ids by lead id."""
        fields = mapping.fields_for(config.written_fields())
        contacts: dict[str, str] = {}
        for batch in chunks(facts.writes, client.batch_size):
            now = self.clock.now()
            found = deadline.call(partial(client.find_contacts, [w.email for w in batch]))
            known = [(found[w.email.lower()], w) for w in batch if w.email.lower() in found]
            unknown = [w for w in batch if w.email.lower() not in found]
            errors = deadline.call(partial(client.update_contacts, known, fields)) if known else {}
            for contact_id, w in known:
                ok = contact_id not in errors
                states[w.lead_id] = LeadSyncState(
                    crm_contact_id=contact_id,
                    synced_to_crm=ok,
                    last_synced_at=now if ok else None,
                    last_error=errors.get(contact_id, ""),
                )
                contacts[w.lead_id] = contact_id
                run.synced, run.failed = run.synced + ok, run.failed + (not ok)
            if unknown and config.allow_create:
                created = deadline.call(partial(client.create_contacts, unknown, fields))
                for w in unknown:
                    new_id = created.get(w.email.lower())
                    states[w.lead_id] = LeadSyncState(
                        crm_contact_id=new_id,
                        synced_to_crm=new_id is not None,
                        last_synced_at=now if new_id else None,
                        last_error="" if new_id else "the CRM refused to create the contact",
                        created_by_engine=new_id is not None,
                    )
                    if new_id:
                        contacts[w.lead_id] = new_id
                        run.created += 1
                    else:
                        run.failed += 1
            else:
                for w in unknown:
                    states[w.lead_id] = LeadSyncState(
                        synced_to_crm=False, last_error="no CRM contact with this email; creating contacts is off"
                    )
                    run.skipped += 1
        return contacts
