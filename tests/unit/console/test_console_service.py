"""The console service's rules with hand-written fakes: what it asks the warehouse, and how it merges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie.alerts.service import alert_key
from oie.console.models import HotLeadsQuery
from oie.console.service import EVENT_SESSIONS, SESSIONS_LIMIT, ConsoleService
from oie.errors import NotFound
from oie.tenants.models import AlertChannel
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeTenantStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CHANNEL = AlertChannel(kind="generic", url="https://hooks.example/a")


class CannedWarehouse:
    """Answers each named query with canned rows and records what it was asked."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        self.asked.append((name, dict(params or {})))
        return [dict(r) for r in self.answers.get(name, [])]

    def params(self, name: str) -> dict[str, Any]:
        return next(p for n, p in self.asked if n == name)

    def insert_rows(self, table: str, rows: Sequence[Any], *, id_field: str) -> None: ...

    def upsert_rows(self, table: str, rows: Sequence[Any], *, key_fields: Sequence[str]) -> None: ...

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        return 0

    def migrate(self) -> list[str]:
        return []


class FakeLeads:
    def __init__(self, leads: list[dict[str, Any]]) -> None:
        self.items = {lead["lead_id"]: lead for lead in leads}

    def search_leads(self, tenant_id: str, text: str, limit: int) -> list[dict[str, Any]]:
        return [lead for lead in self.items.values() if text.casefold() in str(lead).casefold()][:limit]

    def leads(self, tenant_id: str, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        owner = filters["assigned_partner"]
        return [lead for lead in self.items.values() if lead.get("attributes", {}).get("assigned_partner") == owner]

    def lead(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        return self.items.get(lead_id)

    def history(self, tenant_id: str, lead_id: str) -> list[Any]:
        return []

    def get_many(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {i: self.items[i] for i in lead_ids if i in self.items}


class FakeReads:
    def __init__(self, sent: set[str] | None = None) -> None:
        self.sent_keys = sent or set()

    def states(self, tenant_id: str, contact_campaign_ids: Sequence[str]) -> list[Any]:
        return []

    def plan_nodes(self, tenant_id: str, plan_version: str) -> list[str]:
        return []

    def sent(self, keys: Sequence[str]) -> set[str]:
        return {k for k in keys if k in self.sent_keys}


LEADS = [
    {"lead_id": "ld_ada", "email": "ada@example.com", "first_name": "Ada", "company": "Engines"},
    {"lead_id": "ld_bob", "email": "bob@example.com", "first_name": "Bob", "attributes": {"assigned_partner": "sam"}},
]


def service(warehouse: CannedWarehouse, sent: set[str] | None = None) -> ConsoleService:
    leads = FakeLeads(LEADS)
    reads = FakeReads(sent)
    tenants = FakeTenantStore(make_tenant(tenant_id="acme", alert_channels=(CHANNEL,)))
    return ConsoleService(
        warehouse=warehouse,  # type: ignore[arg-type]
        leads=leads,  # type: ignore[arg-type]
        lead_docs=leads,
        campaigns=reads,
        alerts=reads,
        tenants=tenants,
        clock=FakeClock(NOW),
    )


def test_a_search_that_matches_nobody_asks_the_warehouse_nothing():
    warehouse = CannedWarehouse()
    assert service(warehouse).hot_leads("acme", HotLeadsQuery(q="nobody")).leads == []
    assert warehouse.asked == []


def test_the_list_alone_shows_warm_and_above_a_search_every_level():
    warehouse = CannedWarehouse()
    service(warehouse).hot_leads("acme", HotLeadsQuery())
    listed = warehouse.params("console_hot_leads")
    assert (listed["levels"], listed["filter_by_ids"]) == (["burning", "hot", "warm"], False)
    assert listed["present_since"] == NOW - timedelta(minutes=10)
    warehouse = CannedWarehouse()
    service(warehouse).hot_leads("acme", HotLeadsQuery(q="ada"))
    searched = warehouse.params("console_hot_leads")
    assert (searched["levels"], searched["lead_ids"]) == (["burning", "hot", "warm", "cold"], ["ld_ada"])
    warehouse = CannedWarehouse()
    service(warehouse).hot_leads("acme", HotLeadsQuery(q="example.com", level=["hot"]))
    assert warehouse.params("console_hot_leads")["levels"] == ["hot"]


def test_an_owner_and_a_search_must_both_match():
    warehouse = CannedWarehouse()
    service(warehouse).hot_leads("acme", HotLeadsQuery(q="example.com", owner="sam"))
    assert warehouse.params("console_hot_leads")["lead_ids"] == ["ld_bob"]


def test_rows_get_names_from_firestore_and_reasons_from_their_components():
    row = {
        "lead_id": "ld_ada",
        "level": "hot",
        "score": 64.0,
        "high_intent_points": 16.0,
        "pricing_views": 2,
        "last_seen_at": NOW,
        "on_site_now": True,
        "campaign_id": "q1",
        "evidence_level": "verified",
    }
    history = [{"lead_id": "ld_ada", "day": NOW.date() - timedelta(days=1), "score": 50.0, "level": "warm"}]
    warehouse = CannedWarehouse({"console_hot_leads": [row], "console_score_history": history})
    (lead,) = service(warehouse).hot_leads("acme", HotLeadsQuery()).leads
    assert (lead.name, lead.email, lead.company) == ("Ada", "ada@example.com", "Engines")
    assert lead.reason == "pricing page 2\N{MULTIPLICATION SIGN}"
    assert [p.score for p in lead.trend][-2:] == [50.0, 50.0] and lead.trend_change == 0.0
    # The trend reads the page's leads only, with room to carry the score in from before the window.
    asked = warehouse.params("console_score_history")
    assert asked["lead_ids"] == ["ld_ada"] and asked["from_day"] < NOW.date() - timedelta(days=6)


def session(n: int, visitor: str) -> dict[str, Any]:
    start = NOW - timedelta(hours=n)
    return {
        "session_id": f"s{n}",
        "visitor_id": visitor,
        "session_start": start,
        "session_end": start + timedelta(minutes=5),
    }


def test_the_timeline_reads_events_of_the_latest_sessions_only_and_says_what_was_cut():
    sessions = [session(n, f"v{n}") for n in range(SESSIONS_LIMIT + 1)]
    warehouse = CannedWarehouse({"console_lead_sessions": sessions})
    timeline = service(warehouse).timeline("acme", "ld_ada")
    assert timeline.truncated == ["sessions"]
    assert len([i for i in timeline.items if i.kind == "session"]) == SESSIONS_LIMIT
    assert warehouse.params("console_session_events")["visitor_ids"] == sorted(f"v{n}" for n in range(EVENT_SESSIONS))


def test_a_level_change_is_flagged_only_when_its_alert_reached_a_channel():
    changes = [
        {"change_id": "c1", "to_level": "hot", "score": 61.0, "changed_at": NOW},
        {"change_id": "c2", "to_level": "burning", "score": 81.0, "changed_at": NOW + timedelta(minutes=15)},
    ]
    warehouse = CannedWarehouse({"console_lead_changes": changes})
    timeline = service(warehouse, sent={alert_key("c2", CHANNEL)}).timeline("acme", "ld_ada")
    assert [(i.item_id, i.flags) for i in timeline.items] == [("c1", []), ("c2", ["alert sent"])]


def test_a_visitor_linked_to_other_leads_is_one_identity_item_with_the_conflict():
    rows = [
        {"visitor_id": "v1", "source": "tracking_id", "first_seen_at": NOW, "other_lead_id": "ld_x"},
        {"visitor_id": "v1", "source": "tracking_id", "first_seen_at": NOW, "other_lead_id": "ld_y"},
        {"visitor_id": "v2", "source": "email", "first_seen_at": NOW, "other_lead_id": None},
    ]
    timeline = service(CannedWarehouse({"console_lead_identity": rows})).timeline("acme", "ld_ada")
    assert [(i.title, i.flags, i.facts["also_linked_to"]) for i in timeline.items] == [
        ("browser linked by a tracking link", ["conflict"], "ld_x, ld_y"),
        ("browser linked by an email typed into a form", [], None),
    ]


def test_a_lead_the_tenant_does_not_have_is_not_found():
    with pytest.raises(NotFound):
        service(CannedWarehouse()).timeline("acme", "ld_nobody")
