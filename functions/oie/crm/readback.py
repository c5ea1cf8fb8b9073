"""Outcomes read back from the CRM's deal stages (run in crm_reconcile): the one field the engine reads.

The engine writes the intent fields and never a deal; the CRM's deals are read, never
written. For each contact the engine synced, its deals are read; a deal whose stage the
tenant maps to an outcome type (HubSpot `closedwon` -> closed_won, Salesforce
`Closed Won` -> closed_won) becomes that outcome of the lead, recorded through the
outcomes service under an id derived from the deal, so a second read adds nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol

from oie.crm.backoff import Deadline, stopped
from oie.crm.models import CrmConfig, Deal
from oie.crm.ports import CrmClients, CrmError, CrmStore
from oie.crm.sync import chunks
from oie.errors import BackendUnavailable, OieError
from oie.jobs.context import JobResult, Window
from oie.logs import get_logger
from oie.outcomes.auth import Actor
from oie.outcomes.models import Outcome, OutcomeIn
from oie.ports import Clock, SecretResolver

log = get_logger(__name__)
# Leads whose contacts are read per tenant and run; the rest wait for the next day's run.
CONTACT_LIMIT = 5000


class Outcomes(Protocol):
    """The part of oie.outcomes.service.OutcomesService readback uses."""

    def record(self, tenant_id: str, item: OutcomeIn, actor: Actor) -> object: ...


class OutcomeHistory(Protocol):
    def history(self, tenant_id: str, lead_id: str) -> list[Outcome]: ...


def outcome_id(tenant_id: str, provider: str, deal_id: str, lead_id: str, outcome_type: str) -> str:
    """The same id for the same deal, lead and outcome type, read after read."""
    basis = f"crm|{tenant_id}|{provider}|{deal_id}|{lead_id}|{outcome_type}"
    return "oc_crm_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def occurred_at(deal: Deal, now: datetime) -> datetime:
    """When the outcome happened: the deal's close date, else its last change; never in the future."""
    for moment in (deal.closed_at, deal.modified_at):
        if moment is not None and moment <= now:
            return moment
    return now


def outcomes_for(
    tenant_id: str, config: CrmConfig, deals: Sequence[Deal], leads: dict[str, str], now: datetime
) -> list[OutcomeIn]:
    """The outcomes the deals stand for: one per deal, lead and mapped stage (unmapped stages: none)."""
    stages = config.stage_outcomes()
    found: dict[str, OutcomeIn] = {}
    for deal in deals:
        outcome_type, lead_id = stages.get(deal.stage), leads.get(deal.contact_id)
        if outcome_type is None or lead_id is None:
            continue
        oid = outcome_id(tenant_id, config.provider, deal.deal_id, lead_id, outcome_type)
        found[oid] = OutcomeIn(
            lead_id=lead_id,
            outcome_type=outcome_type,
            occurred_at=occurred_at(deal, now),
            outcome_id=oid,
            notes=f"{config.provider} deal {deal.deal_id} at stage {deal.stage}"[:2000],
        )
    return list(found.values())


def reader(provider: str) -> Actor:
    """Who readback records as (`recorded_by`); a member's rights: it never overrides a closed lead."""
    return Actor(key_id="crm", label=f"{provider} deal stages", scopes=frozenset({"outcomes:write"}), role="member")


@dataclass
class TenantRead:
    contacts: int = 0
    deals: int = 0
    recorded: int = 0
    refused: int = 0
    error: str = ""
    transient: bool = False


@dataclass
class CrmReadback:
    store: CrmStore
    secrets: SecretResolver
    clients: CrmClients
    outcomes: Outcomes
    history: OutcomeHistory
    clock: Clock
    deadline_seconds: float = 120.0
    sleep: Callable[[float], None] = time.sleep

    def run(self, window: Window) -> JobResult:
        """Every tenant that reads outcomes back; a CRM that is down holds no other tenant."""
        runs: dict[str, TenantRead] = {}
        for tenant_id in self.store.connected_tenants():
            if (read := self.read_tenant(tenant_id)) is not None:
                runs[tenant_id] = read
        details = {
            "tenants": len(runs),
            "deals": sum(r.deals for r in runs.values()),
            "recorded": sum(r.recorded for r in runs.values()),
            "refused": sum(r.refused for r in runs.values()),
            "errors": {t: r.error for t, r in runs.items() if r.error},
        }
        recorded = sum(r.recorded for r in runs.values())
        return JobResult(rows_written=recorded, watermark=window.until, details=details)

    def read_tenant(self, tenant_id: str) -> TenantRead | None:
        """Read the deals of the tenant's synced contacts and record their outcomes; None when it reads none."""
        config = self.store.get_config(tenant_id)
        if config is None or not config.read_outcomes:
            return None
        read = TenantRead()
        leads = self.store.synced_contacts(tenant_id, CONTACT_LIMIT)
        read.contacts = len(leads)
        deadline = Deadline(self.deadline_seconds, sleep=self.sleep)
        try:
            client = self.clients(config, self.secrets.resolve(config.secret_ref))
            deals: list[Deal] = []
            for batch in chunks(list(leads), client.batch_size):
                deals.extend(deadline.call(partial(client.read_deals, batch)))
            read.deals = len({d.deal_id for d in deals})
            self._record(tenant_id, config, outcomes_for(tenant_id, config, deals, leads, self.clock.now()), read)
        except (CrmError, OieError) as exc:  # OieError: the secret could not be read, Firestore was down
            read.error, read.transient = stopped(exc, tenant_id, "crm readback incomplete")
        self.store.record_readback(tenant_id, self.clock.now(), read.recorded, read.error)
        return read

    def _record(self, tenant_id: str, config: CrmConfig, wanted: list[OutcomeIn], read: TenantRead) -> None:
        actor = reader(config.provider)
        known: dict[str, set[str]] = {}
        for item in wanted:
            if item.lead_id not in known:
                known[item.lead_id] = {o.outcome_id for o in self.history.history(tenant_id, item.lead_id)}
            if item.outcome_id in known[item.lead_id]:
                continue  # read before: recording again would only repeat its hand-off
            try:
                self.outcomes.record(tenant_id, item, actor)
            except BackendUnavailable:
                raise
            except OieError as exc:
                # A lead closed the other way by hand, an unknown outcome type: the person's word stands.
                read.refused += 1
                extra = {"tenant_id": tenant_id, "lead_id": item.lead_id, "error": exc.message}
                log.warning("crm outcome not recorded", extra=extra)
                continue
            read.recorded += 1
            known[item.lead_id].add(str(item.outcome_id))
