"""Hand-written fakes for CRM sync's ports, and rows as the crm.sql queries return them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from oie.crm import claims
from oie.crm.claims import NoteClaim
from oie.crm.mapping import Field
from oie.crm.models import ContactWrite, CrmConfig, Deal, LeadSyncState, NoteWrite
from oie.crm.ports import CrmError, CrmUnavailable

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class FakeCrm:
    """A CRM in memory that records every call; `fail` raises the queued errors first.

    `fail_on[name]` raises its queued errors on that call only; `lost_answers[name]` makes that
    many of those calls go through and then raise (an answer lost on the way back).
    """

    def __init__(self, batch_size: int = 100, known: Mapping[str, str] | None = None) -> None:
        self.batch_size = batch_size
        self.contacts: dict[str, dict[str, Any]] = {cid: {"email": e} for e, cid in (known or {}).items()}
        self.notes: dict[str, NoteWrite] = {}
        self.calls: list[tuple[str, int]] = []
        self.fail: list[CrmError] = []
        self.fail_on: dict[str, list[CrmError]] = {}
        self.lost_answers: dict[str, int] = {}
        self.schema: list[str] = []
        self.deals: list[Deal] = []

    def _call(self, name: str, size: int) -> None:
        self.calls.append((name, size))
        if self.fail:
            raise self.fail.pop(0)
        if self.fail_on.get(name):
            raise self.fail_on[name].pop(0)

    def ensure_schema(self, fields: Sequence[Field]) -> None:
        self._call("ensure_schema", len(fields))
        self.schema = [f.name for f in fields]

    def find_contacts(self, emails: Sequence[str]) -> dict[str, str]:
        self._call("find_contacts", len(emails))
        wanted = {e.lower() for e in emails}
        return {c["email"]: cid for cid, c in self.contacts.items() if c["email"] in wanted}

    def update_contacts(self, writes: Sequence[tuple[str, ContactWrite]], fields: Sequence[Field]) -> dict[str, str]:
        self._call("update_contacts", len(writes))
        for cid, write in writes:
            self.contacts[cid].update({f.name: write.values.get(f.name) for f in fields})
        return {}

    def create_contacts(self, writes: Sequence[ContactWrite], fields: Sequence[Field]) -> dict[str, str]:
        self._call("create_contacts", len(writes))
        created = {}
        for write in writes:
            cid = f"new-{len(self.contacts)}"
            self.contacts[cid] = {"email": write.email.lower(), **{f.name: write.values.get(f.name) for f in fields}}
            created[write.email.lower()] = cid
        return created

    def create_notes(self, notes: Sequence[NoteWrite]) -> dict[str, str]:
        self._call("create_notes", len(notes))
        ids = {}
        for note in notes:
            nid = f"note-{len(self.notes)}"
            self.notes[nid] = note
            ids[note.key] = nid
        if self.lost_answers.get("create_notes"):
            self.lost_answers["create_notes"] -= 1
            raise CrmUnavailable("HubSpot create notes: unreachable (ReadTimeoutError)")
        return ids

    def find_note(self, key: str, contact_id: str) -> str | None:
        self._call("find_note", 1)
        return next((nid for nid, n in self.notes.items() if n.key == key and n.contact_id == contact_id), None)

    def clear_contacts(self, contact_ids: Sequence[str], fields: Sequence[Field]) -> None:
        self._call("clear_contacts", len(contact_ids))
        for cid in contact_ids:
            self.contacts[cid].update({f.name: None for f in fields})

    def delete_notes(self, note_ids: Sequence[str]) -> None:
        self._call("delete_notes", len(note_ids))
        for nid in note_ids:
            self.notes.pop(nid, None)

    def delete_contacts(self, contact_ids: Sequence[str]) -> None:
        self._call("delete_contacts", len(contact_ids))
        for cid in contact_ids:
            self.contacts.pop(cid, None)

    def read_deals(self, contact_ids: Sequence[str]) -> list[Deal]:
        self._call("read_deals", len(contact_ids))
        return [d for d in self.deals if d.contact_id in contact_ids]


class FakeCrmStore:
    def __init__(self, configs: Mapping[str, CrmConfig] | None = None) -> None:
        self.configs: dict[str, CrmConfig] = dict(configs or {})
        self.schema: dict[str, tuple[str, ...]] = {}
        self.runs: dict[str, tuple[datetime | None, str]] = {}
        self.people: dict[str, dict[str, dict[str, str]]] = {}
        self.states: dict[tuple[str, str], LeadSyncState] = {}
        self.notes: dict[tuple[str, str], dict[str, Any]] = {}
        self.readbacks: dict[str, tuple[datetime | None, int, str]] = {}

    def get_config(self, tenant_id: str) -> CrmConfig | None:
        return self.configs.get(tenant_id)

    def put_config(self, tenant_id: str, config: CrmConfig) -> None:
        self.configs[tenant_id], self.schema[tenant_id] = config, ()

    def update_config(self, tenant_id: str, config: CrmConfig) -> None:
        self.configs[tenant_id] = config

    def delete_config(self, tenant_id: str) -> None:
        self.configs.pop(tenant_id, None)

    def synced_contacts(self, tenant_id: str, limit: int) -> dict[str, str]:
        found = {s.crm_contact_id: lead for (t, lead), s in self.states.items() if t == tenant_id and s.crm_contact_id}
        return dict(list(found.items())[:limit])

    def record_readback(self, tenant_id: str, at: datetime, recorded: int, error: str) -> None:
        self.readbacks[tenant_id] = (at, recorded, error)

    def readback_status(self, tenant_id: str) -> tuple[datetime | None, int, str]:
        return self.readbacks.get(tenant_id, (None, 0, ""))

    def connected_tenants(self) -> list[str]:
        return sorted(self.configs)

    def mark_schema(self, tenant_id: str, fields: Sequence[str]) -> None:
        self.schema[tenant_id] = tuple(fields)

    def schema_fields(self, tenant_id: str) -> tuple[str, ...]:
        return self.schema.get(tenant_id, ())

    def record_run(self, tenant_id: str, at: datetime, error: str) -> None:
        self.runs[tenant_id] = (at, error)

    def run_status(self, tenant_id: str) -> tuple[datetime | None, str]:
        return self.runs.get(tenant_id, (None, ""))

    def lead_emails(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        known = self.people.get(tenant_id, {})
        return {i: known[i] for i in lead_ids if i in known}

    def lead_state(self, tenant_id: str, lead_id: str) -> LeadSyncState:
        return self.states.get((tenant_id, lead_id), LeadSyncState())

    def set_lead_states(self, tenant_id: str, states: Sequence[tuple[str, LeadSyncState]]) -> None:
        for lead_id, state in states:
            before = self.lead_state(tenant_id, lead_id)
            self.states[(tenant_id, lead_id)] = state.model_copy(
                update={
                    "last_synced_at": state.last_synced_at or before.last_synced_at,
                    "crm_contact_id": state.crm_contact_id or before.crm_contact_id,
                    "created_by_engine": state.created_by_engine or before.created_by_engine,
                }
            )

    def claim_note(
        self, tenant_id: str, key: str, lead_id: str, holder: str, at: datetime, until: datetime
    ) -> NoteClaim:
        found = self.notes.get((tenant_id, key))
        decision = claims.decide(found, at)
        if decision in ("new", "retry"):
            attempts = int((found or {}).get("attempts", 0)) + 1
            self.notes[(tenant_id, key)] = claims.claimed(lead_id, holder, at, until, attempts)
        return decision

    def settle_note(self, tenant_id: str, key: str, holder: str, note_id: str | None) -> bool:
        found = self.notes[(tenant_id, key)]
        ours = found.get("holder") == holder
        if note_id is None:
            if ours and found["state"] == "pending":
                found["state"] = "released"
            return ours
        if found["state"] == "created":
            return False
        found.update(state="created", note_id=note_id)
        return ours

    def lead_notes(self, tenant_id: str, lead_id: str) -> list[tuple[str, str]]:
        return [
            (k, str(v.get("note_id", "")))
            for (t, k), v in self.notes.items()
            if t == tenant_id and v["lead_id"] == lead_id
        ]

    def forget_lead_notes(self, tenant_id: str, lead_id: str) -> None:
        for key, _ in self.lead_notes(tenant_id, lead_id):
            self.notes.pop((tenant_id, key))


class CrmWarehouse:
    """Answers the crm.sql queries from canned rows (the SQL itself runs in the integration tests)."""

    def __init__(self) -> None:
        self.changes: list[dict[str, Any]] = []
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.pages: dict[str, list[str]] = {}
        self.tracking: dict[str, str] = {}

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        p = dict(params or {})
        if name == "crm_level_changes":
            return [c for c in self.changes if p["since"] < c["changed_at"] <= p["until"]]
        if name == "crm_profiles":
            return [self.profiles[(p["tenant_id"], i)] for i in p["lead_ids"] if (p["tenant_id"], i) in self.profiles]
        if name == "crm_profiles_scored":
            return [{"lead_id": lead} for (t, lead) in self.profiles if t == p["tenant_id"]]
        if name == "crm_top_pages":
            return [{"lead_id": i, "page_path": path} for i in p["lead_ids"] for path in self.pages.get(i, [])]
        if name == "crm_tracking_ids":
            return [{"lead_id": i, "tracking_id": self.tracking[i]} for i in p["lead_ids"] if i in self.tracking]
        raise AssertionError(f"unexpected query {name}")


def profile(lead_id: str, score: float = 72.0, level: str = "hot") -> dict[str, Any]:
    """One crm_profiles row."""
    return {
        "lead_id": lead_id,
        "score": score,
        "level": level,
        "last_activity_at": NOW,
        "frequency_points": 10.0,
        "engagement_points": 5.0,
        "high_intent_points": 30.0,
        "conversion_points": 0.0,
        "sessions": 3,
        "sessions_7d": 3,
        "pageviews": 9,
        "active_minutes": 7.0,
        "pricing_views": 3,
        "case_study_views": 0,
        "product_views": 0,
        "forms_submitted": 0,
        "videos_completed": 0,
        "level_cap_reason": None,
    }


def change(
    tenant_id: str, lead_id: str, to_level: str = "hot", from_level: str | None = "warm", n: int = 1
) -> dict[str, Any]:
    """One crm_level_changes row of a corroborated lead."""
    return {
        "change_id": f"{tenant_id}:{lead_id}:{to_level}:{n}",
        "tenant_id": tenant_id,
        "lead_id": lead_id,
        "from_level": from_level,
        "to_level": to_level,
        "score": 72.0,
        "changed_at": NOW,
        "evidence_level": "corroborated",
        "current_evidence_level": "corroborated",
        "verified_sessions": 1,
        "corroborated_sessions": 2,
        "id_only_sessions": 0,
    }
