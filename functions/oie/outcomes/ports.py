"""What the outcomes service needs from a document store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from oie.outcomes.models import LeadState, Outcome, OutcomeConfig

Build = Callable[[LeadState, dict[str, Any]], tuple[Outcome, LeadState]]


class OutcomeStore(Protocol):
    def record(self, tenant_id: str, lead_id: str, outcome_id: str, build: Build) -> tuple[Outcome, bool]:
        """In one transaction with the lead: return the stored outcome of that id (False), or
        `build` it from the lead's state and attributes and store both (True)."""
        ...

    def history(self, tenant_id: str, lead_id: str) -> list[Outcome]: ...

    def lead(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        """The lead document: names, `attributes`, `state`; None when the tenant has no such lead."""
        ...

    def set_attributes(self, tenant_id: str, lead_id: str, attributes: dict[str, Any]) -> bool: ...

    def leads(self, tenant_id: str, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """Leads whose attributes match every filter (exact values)."""
        ...

    def stage_counts(self, tenant_id: str) -> dict[str, int]:
        """How many leads are in each current stage; `none` for leads without an outcome."""
        ...

    def search_leads(self, tenant_id: str, text: str, limit: int) -> list[dict[str, Any]]:
        """Leads whose id or email is `text`, or whose email, name or company contains it."""
        ...

    def config(self, tenant_id: str) -> OutcomeConfig: ...

    def save_nudge(self, tenant_id: str, nudge_id: str, nudge: dict[str, Any]) -> bool:
        """Store a nudge unless one with that id exists; True when stored."""
        ...

    def nudges(self, tenant_id: str, limit: int) -> list[dict[str, Any]]: ...

    def dismiss_nudge(self, tenant_id: str, nudge_id: str, by: str, at: datetime) -> bool: ...


class ApiKeyStore(Protocol):
    def get(self, tenant_id: str, key_id: str) -> dict[str, Any] | None: ...

    def put(self, tenant_id: str, key_id: str, record: dict[str, Any]) -> None: ...


LeadRows = Sequence[dict[str, Any]]
