"""The interfaces services depend on. Adapters implement them; services never see a client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from oie.links.models import Campaign, LeadRecord, Link
from oie.tenants.models import Tenant

Row = Mapping[str, Any]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class TenantStore(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...

    def put(self, tenant: Tenant) -> None: ...

    def find_by_go_host(self, host: str) -> Tenant | None:
        """The tenant whose `go_hosts` include `host`, if any."""
        ...

    def find_by_origin(self, origin: str) -> Tenant | None:
        """A tenant whose `allowed_origins` include `origin` (for CORS preflights)."""
        ...

    def all(self) -> list[Tenant]: ...


class LinkStore(Protocol):
    def get(self, tracking_id: str) -> Link | None: ...

    def get_many(self, tracking_ids: Sequence[str]) -> dict[str, Link]: ...

    def create_many(self, links: Sequence[Link]) -> list[str]:
        """Create links that do not exist yet; return the ids that already existed."""
        ...


class LeadStore(Protocol):
    def upsert_many(self, tenant_id: str, leads: Sequence[tuple[str, LeadRecord]]) -> None:
        """Create or merge `(lead_id, lead)` pairs under the tenant."""
        ...

    def get(self, tenant_id: str, lead_id: str) -> LeadRecord | None: ...


class CampaignStore(Protocol):
    def put(self, campaign: Campaign) -> None: ...

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None: ...


class ClickSpool(Protocol):
    """Durable fallback for clicks the warehouse could not take."""

    def add(self, row: Row, *, row_id: str) -> None: ...

    def take(self, limit: int) -> list[tuple[str, dict[str, Any]]]: ...

    def remove(self, row_ids: Iterable[str]) -> None: ...


class Warehouse(Protocol):
    """BigQuery in production, DuckDB locally; both run the SQL in `sql/`."""

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        """Append rows; a row whose `id_field` value was already written is not written twice."""
        ...

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        """Insert rows, replacing any existing row with the same key."""
        ...

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run the named query from `sql/queries` with parameters."""
        ...

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a named data-changing statement (MERGE, UPDATE, DELETE); return rows affected."""
        ...

    def migrate(self) -> list[str]:
        """Apply `sql/schema` (idempotent); return the statements' short descriptions."""
        ...


class Task(BaseModel):
    """One HTTP task for a function, as Cloud Tasks would deliver it."""

    model_config = ConfigDict(frozen=True)

    queue: str
    function: str
    payload: dict[str, Any]
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,500}$")
    schedule_at: datetime | None = None


class TaskQueue(Protocol):
    def enqueue(self, task: Task) -> bool:
        """Enqueue a task; False when a task of that name was already enqueued."""
        ...


class OutboundEmail(BaseModel):
    """One email to send, with everything a provider needs to map events back."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    to_email: str
    to_name: str = ""
    from_email: str
    from_name: str = ""
    reply_to: str | None = None
    subject: str
    html: str
    text: str
    headers: dict[str, str] = Field(default_factory=dict)
    custom_args: dict[str, str] = Field(default_factory=dict)
    ip_pool: str | None = None


class Mailer(Protocol):
    def send(self, email: OutboundEmail) -> str:
        """Send one email; return the provider's message id."""
        ...


class Company(BaseModel):
    """An organisation an IP address belongs to."""

    model_config = ConfigDict(frozen=True)

    name: str
    domain: str = ""


class CompanyLookup(Protocol):
    def lookup(self, ip: str | None) -> Company | None:
        """The company behind an address, when known."""
        ...


class ProfileStore(Protocol):
    """Personalization profiles per lead: the fields a page may show, camelCase."""

    def get(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None: ...

    def upsert_many(self, tenant_id: str, profiles: Sequence[tuple[str, dict[str, Any]]]) -> None: ...


class AlertMarkers(Protocol):
    """Durable marks that an alert was (being) sent, so a crossing is announced once."""

    def claim(self, key: str, payload: dict[str, Any]) -> bool:
        """Mark `key` as being sent; False when it was already sent."""
        ...

    def settle(self, key: str, sent: bool, error: str = "") -> None: ...

    def failed(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Alerts whose sending failed and may be retried, with what was to be sent."""
        ...


class PersonStore(Protocol):
    def forget(self, tenant_id: str, lead_id: str) -> int:
        """Delete a lead's documents (lead, profile, tracking links); return how many."""
        ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the status; raise BackendUnavailable when unreachable."""
        ...


class SecretResolver(Protocol):
    def resolve(self, ref: str) -> bytes:
        """The secret bytes a reference (`sm://…` or `local:…`) points at."""
        ...
