"""The CRM port the sync talks to, the store it keeps state in, and the errors a CRM call ends in.

CrmError
├── CrmRateLimited   HubSpot 429, Salesforce REQUEST_LIMIT_EXCEEDED: back off, try again
├── CrmAuthFailed    the token or connected app was refused: nothing to retry until reconnected
└── CrmUnavailable   the CRM did not answer (or 5xx): try again on the next run
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from oie.crm.claims import NoteClaim
from oie.crm.mapping import Field
from oie.crm.models import ContactWrite, CrmConfig, Deal, LeadSyncState, NoteWrite


class CrmError(Exception):
    """A CRM call failed; the message names the call and never carries a token."""


class CrmRateLimited(CrmError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CrmAuthFailed(CrmError):
    pass


class CrmUnavailable(CrmError):
    pass


class CrmClient(Protocol):
    """One tenant's CRM, through its official client. Every batch call takes at most `batch_size` items."""

    batch_size: int

    def ensure_schema(self, fields: Sequence[Field]) -> None:
        """Create the engine's property group / custom fields that are missing (idempotent)."""
        ...

    def find_contacts(self, emails: Sequence[str]) -> dict[str, str]:
        """Contact ids by lower-cased email, for the emails the CRM knows."""
        ...

    def update_contacts(self, writes: Sequence[tuple[str, ContactWrite]], fields: Sequence[Field]) -> dict[str, str]:
        """Write `fields` of each `(contact_id, write)`; errors by contact id (absent: written)."""
        ...

    def create_contacts(self, writes: Sequence[ContactWrite], fields: Sequence[Field]) -> dict[str, str]:
        """Create contacts with `fields`; new contact ids by lower-cased email."""
        ...

    def create_notes(self, notes: Sequence[NoteWrite]) -> dict[str, str]:
        """Create each note on its contact's timeline; note ids by note key."""
        ...

    def find_note(self, key: str, contact_id: str) -> str | None:
        """The note carrying `key` on the contact, if one was created before (a crashed run)."""
        ...

    def clear_contacts(self, contact_ids: Sequence[str], fields: Sequence[Field]) -> None:
        """Empty the engine's fields on these contacts (erasure)."""
        ...

    def delete_notes(self, note_ids: Sequence[str]) -> None:
        """Delete notes the engine created (erasure)."""
        ...

    def delete_contacts(self, contact_ids: Sequence[str]) -> None:
        """Delete contacts the engine created (erasure)."""
        ...

    def read_deals(self, contact_ids: Sequence[str]) -> list[Deal]:
        """The deals (opportunities) of these contacts with their stage: one Deal per deal and contact."""
        ...


class CrmClients(Protocol):
    def __call__(self, config: CrmConfig, credentials: bytes) -> CrmClient:
        """A client for one tenant's CRM from its stored config and resolved credentials."""
        ...


class CrmStore(Protocol):
    """Firestore: configs, each lead's sync state, and the notes created (keyed by change)."""

    def get_config(self, tenant_id: str) -> CrmConfig | None: ...

    def put_config(self, tenant_id: str, config: CrmConfig) -> None: ...

    def update_config(self, tenant_id: str, config: CrmConfig) -> None:
        """Replace the connection's options, keeping its schema fields and run status (same CRM, same token)."""
        ...

    def delete_config(self, tenant_id: str) -> None: ...

    def connected_tenants(self) -> list[str]: ...

    def mark_schema(self, tenant_id: str, fields: Sequence[str]) -> None:
        """Remember that these fields exist in the tenant's CRM."""
        ...

    def schema_fields(self, tenant_id: str) -> tuple[str, ...]: ...

    def record_run(self, tenant_id: str, at: datetime, error: str) -> None:
        """The tenant's latest sync time and error ("" when it went well)."""
        ...

    def run_status(self, tenant_id: str) -> tuple[datetime | None, str]: ...

    def lead_emails(self, tenant_id: str, lead_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """Each known lead's email and names (Firestore is the only place the email lives)."""
        ...

    def lead_state(self, tenant_id: str, lead_id: str) -> LeadSyncState: ...

    def set_lead_states(self, tenant_id: str, states: Sequence[tuple[str, LeadSyncState]]) -> None: ...

    def claim_note(
        self, tenant_id: str, key: str, lead_id: str, holder: str, at: datetime, until: datetime
    ) -> NoteClaim:
        """Atomically take a note key for `holder` until `until`, unless created or held (`claims.decide`)."""
        ...

    def settle_note(self, tenant_id: str, key: str, holder: str, note_id: str | None) -> bool:
        """Record the created note's id, or (None) release the holder's claim so a later run tries again.

        False when the claim was no longer the holder's (its lease ran out and another run took it).
        """
        ...

    def lead_notes(self, tenant_id: str, lead_id: str) -> list[tuple[str, str]]:
        """`(key, note_id)` of every note created for the lead."""
        ...

    def forget_lead_notes(self, tenant_id: str, lead_id: str) -> None: ...

    def synced_contacts(self, tenant_id: str, limit: int) -> dict[str, str]:
        """Lead ids by CRM contact id, for the leads synced to a contact (readback reads their deals)."""
        ...

    def record_readback(self, tenant_id: str, at: datetime, recorded: int, error: str) -> None:
        """The tenant's latest read of deal stages: when, how many outcomes it added, its error."""
        ...

    def readback_status(self, tenant_id: str) -> tuple[datetime | None, int, str]: ...
