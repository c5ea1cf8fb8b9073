"""A plan that waits on intent, and the in-memory parts the signal tests share."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.models import Contact, SenderIdentity
from oie.campaigns.plan import Plan, parse_plan
from oie.campaigns.service import CampaignService
from oie.campaigns.watch import WatchEntry
from tests.factories import make_tenant
from tests.fakes import FakeTenantStore, FakeWarehouse
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import make_contact, plan_dict
from tests.unit.campaigns.send_fakes import memory_service

SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", verification="verified")


def intent_plan_dict() -> dict[str, Any]:
    """After the intro: a pricing visit within 7 days -> the pricing follow-up; hot -> the hot follow-up."""
    data = plan_dict()
    data["nodes"][0]["transitions"] = [
        {"on": "page_visit", "page": "pricing", "within": "P7D", "to": "pricing"},
        {"on": "intent_level", "level": "hot", "to": "followup_hot"},
        {"on": "click", "to": "followup_hot"},
        {"on": "no_open", "after": "P3D", "to": "bump"},
        {"on": "reply", "to": "done"},
    ]
    data["nodes"].append(
        {"id": "pricing", "type": "send", "template": {"subject": "Pricing", "text": "Plans {{unsubscribe_link}}"}}
    )
    return data


def intent_plan() -> Plan:
    return parse_plan(intent_plan_dict())


def signal(type_: str, key: str, at: datetime, **fields: Any) -> IntentSignal:
    return IntentSignal.model_validate(
        {"signal_key": key, "tenant_id": "acme", "type": type_, "occurred_at": at, **fields}
    )


class MemoryWatch:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], WatchEntry] = {}

    def add(self, tenant_id: str, tracking_id: str, lead_id: str, ccid: str, at: datetime) -> None:
        old = self.items.get((tenant_id, tracking_id))
        ids = old.contact_campaign_ids if old else ()
        self.items[(tenant_id, tracking_id)] = WatchEntry(
            tenant_id=tenant_id,
            tracking_id=tracking_id,
            lead_id=lead_id,
            contact_campaign_ids=ids if ccid in ids else (*ids, ccid),
            updated_at=at,
        )

    def get(self, tenant_id: str, tracking_id: str) -> WatchEntry | None:
        return self.items.get((tenant_id, tracking_id))

    def drop(self, tenant_id: str, tracking_id: str, ended: Collection[str]) -> None:
        entry = self.items.get((tenant_id, tracking_id))
        if entry is None:
            return
        left = tuple(c for c in entry.contact_campaign_ids if c not in ended)
        if left:
            self.items[(tenant_id, tracking_id)] = entry.model_copy(update={"contact_campaign_ids": left})
        else:
            del self.items[(tenant_id, tracking_id)]


class RulesWarehouse(FakeWarehouse):
    """Answers `page_rules_of` from rows, as the real query does (the tenant's and the defaults)."""

    DEFAULTS = (
        {"tenant_id": "*", "page_class": "pricing", "path_pattern": r"(?i)/(pricing|plans|price)"},
        {"tenant_id": "*", "page_class": "case_study", "path_pattern": r"(?i)/(case-stud|customers|success-stor)"},
        {"tenant_id": "*", "page_class": "product", "path_pattern": r"(?i)/(product|features|platform|solutions)"},
    )

    def __init__(self, *rows: dict[str, str]) -> None:
        super().__init__()
        self.rules = [*self.DEFAULTS, *rows]
        self.queries: list[str] = []

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        assert name == "page_rules_of" and params is not None
        self.queries.append(params["tenant_id"])
        return [dict(r) for r in self.rules if r["tenant_id"] in (params["tenant_id"], "*")]


def watching_service(*contacts: Contact) -> CampaignService:
    """The real CampaignService on in-memory ports with an intent watch, at T0; Ada unless contacts are given."""
    return memory_service(
        senders=fakes.MemorySenders(SENDER),
        contacts=fakes.MemoryContacts(*(contacts or (make_contact(),))),
        tenants=FakeTenantStore(make_tenant()),
        watch=MemoryWatch(),
    )
