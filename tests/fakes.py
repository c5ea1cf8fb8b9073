"""Hand-written fakes that satisfy the ports, for unit tests of services."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from oie.errors import BackendUnavailable
from oie.links.models import Campaign, LeadRecord, Link
from oie.ports import Company, Row, Task
from oie.tenants.models import Tenant


class FakeClock:
    def __init__(self, now: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeTenantStore:
    def __init__(self, *tenants: Tenant) -> None:
        self.items = {t.tenant_id: t for t in tenants}
        self.reads = 0

    def get(self, tenant_id: str) -> Tenant | None:
        self.reads += 1
        return self.items.get(tenant_id)

    def put(self, tenant: Tenant) -> None:
        self.items[tenant.tenant_id] = tenant

    def find_by_go_host(self, host: str) -> Tenant | None:
        return next((t for t in self.items.values() if host in t.go_hosts), None)

    def all(self) -> list[Tenant]:
        return list(self.items.values())

    def find_by_origin(self, origin: str) -> Tenant | None:
        return next((t for t in self.items.values() if origin in t.allowed_origins), None)


class FakeProfileStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        return self.items.get((tenant_id, lead_id))

    def upsert_many(self, tenant_id: str, profiles: Sequence[tuple[str, dict[str, Any]]]) -> None:
        for lead_id, fields in profiles:
            self.items.setdefault((tenant_id, lead_id), {}).update(fields)


class FakeCompanies:
    def __init__(self, table: dict[str, str] | None = None) -> None:
        self.table = table or {}

    def lookup(self, ip: str | None) -> Company | None:
        name = self.table.get(ip or "")
        return Company(name=name, domain=name.lower() + ".example") if name else None


class FakeLinkStore:
    def __init__(self, *links: Link) -> None:
        self.items = {link.tracking_id: link for link in links}
        self.reads = 0

    def get(self, tracking_id: str) -> Link | None:
        self.reads += 1
        return self.items.get(tracking_id)

    def get_many(self, tracking_ids: Sequence[str]) -> dict[str, Link]:
        return {i: self.items[i] for i in tracking_ids if i in self.items}

    def create_many(self, links: Sequence[Link]) -> list[str]:
        existed = [link.tracking_id for link in links if link.tracking_id in self.items]
        for link in links:
            self.items.setdefault(link.tracking_id, link)
        return existed


class FakeLeadStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], LeadRecord] = {}

    def get(self, tenant_id: str, lead_id: str) -> LeadRecord | None:
        return self.items.get((tenant_id, lead_id))

    def upsert_many(self, tenant_id: str, leads: Sequence[tuple[str, LeadRecord]]) -> None:
        for lead_id, lead in leads:
            self.items[(tenant_id, lead_id)] = lead


class FakeCampaignStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Campaign] = {}

    def put(self, campaign: Campaign) -> None:
        self.items[(campaign.tenant_id, campaign.campaign_id)] = campaign

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        return self.items.get((tenant_id, campaign_id))


class FakeWarehouse:
    def __init__(self, down: bool = False) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.down = down

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        if self.down:
            raise BackendUnavailable("warehouse is down")
        stored = self.tables.setdefault(table, [])
        seen = {r[id_field] for r in stored}
        stored.extend(dict(r) for r in rows if r[id_field] not in seen)

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        if self.down:
            raise BackendUnavailable("warehouse is down")
        stored = self.tables.setdefault(table, [])
        keys = {tuple(r[k] for k in key_fields) for r in rows}
        stored[:] = [r for r in stored if tuple(r[k] for k in key_fields) not in keys]
        stored.extend(dict(r) for r in rows)

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError("unit tests do not run SQL; integration tests use DuckDB")

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        raise NotImplementedError("unit tests do not run SQL; integration tests use DuckDB")

    def migrate(self) -> list[str]:
        return []


class FakeSpool:
    def __init__(self, down: bool = False) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.down = down

    def add(self, row: Row, *, row_id: str) -> None:
        if self.down:
            raise BackendUnavailable("firestore is down")
        self.items[row_id] = dict(row)

    def take(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return list(self.items.items())[:limit]

    def remove(self, row_ids: Iterable[str]) -> None:
        for row_id in list(row_ids):
            self.items.pop(row_id, None)


class FakeSecrets:
    def __init__(self, secret: bytes = b"s" * 32) -> None:
        self.secret = secret

    def resolve(self, ref: str) -> bytes:
        return self.secret


class FakeMarkers:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def claim(self, key: str, payload: dict[str, Any]) -> bool:
        if self.items.get(key, {}).get("state") == "sent":
            return False
        attempts = self.items.get(key, {}).get("attempts", 0) + 1
        self.items[key] = {"state": "pending", "payload": payload, "attempts": attempts}
        return True

    def settle(self, key: str, sent: bool, error: str = "") -> None:
        self.items[key]["state"] = "sent" if sent else "failed"

    def failed(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return [(k, v["payload"]) for k, v in self.items.items() if v["state"] == "failed"][:limit]


class FakeSender:
    """Answers with the given statuses in turn (the last one repeats) and records every post."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.posts.append((url, body, headers))
        return self.statuses[min(len(self.posts) - 1, len(self.statuses) - 1)]


class RecordingQueue:
    """Cloud Tasks' contract in memory: a task name is taken once; every task is kept."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.names: set[str] = set()

    def enqueue(self, task: Task) -> bool:
        if task.name in self.names:
            return False
        self.names.add(task.name or "")
        self.tasks.append(task)
        return True

    def events(self) -> list[dict[str, Any]]:
        """The engine events handed over (webhooks' tasks)."""
        return [t.payload["event"] for t in self.tasks]
