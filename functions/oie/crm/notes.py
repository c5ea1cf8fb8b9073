"""The notes step of a CRM sync: one note (task) per rise to a note level, exactly once.

Each note's key is claimed in the store before the CRM is called (oie.crm.claims), so of
two syncs at once only one creates it; a failed call releases the claim for a later run,
which searches the CRM for the key before creating it, since the call may have gone through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from oie import deadlines
from oie.crm import claims, mapping
from oie.crm.backoff import Deadline
from oie.crm.facts import Facts
from oie.crm.models import CrmConfig, NoteWrite
from oie.crm.ports import CrmClient, CrmError, CrmStore
from oie.errors import OieError
from oie.logs import get_logger

log = get_logger(__name__)
CORROBORATED = frozenset({"verified", "corroborated"})


@dataclass
class NotesDone:
    """What the notes step did: notes created, and notes another run held at the same time."""

    created: int = 0
    held: int = 0


def wanted_notes(
    tenant_id: str,
    config: CrmConfig,
    changes: Sequence[dict[str, Any]],
    contacts: dict[str, str],
    facts: Facts,
    now: datetime,
) -> list[NoteWrite]:
    """The notes the changes call for: rises into a note level of corroborated leads with a contact."""
    notes: list[NoteWrite] = []
    for change in changes:
        contact_id = contacts.get(change["lead_id"])
        if contact_id is None or not mapping.is_note_rise(change["from_level"], change["to_level"], config.note_levels):
            continue
        if not {change.get("evidence_level"), change.get("current_evidence_level")} <= CORROBORATED:
            continue  # the trust rule of alerts: an id alone never announces a lead
        key = mapping.note_key(tenant_id, change["change_id"])
        profile = facts.profiles.get(change["lead_id"], {})
        pages = facts.pages.get(change["lead_id"], [])
        notes.append(
            NoteWrite(
                key=key,
                lead_id=change["lead_id"],
                contact_id=contact_id,
                title=mapping.note_title(change),
                body=mapping.note_body(change, profile, pages, now, key),
                at=change["changed_at"],
            )
        )
    return notes


@dataclass
class NoteWriter:
    """One run's notes for one tenant: `holder` names the run in its claims."""

    store: CrmStore
    client: CrmClient
    deadline: Deadline
    tenant_id: str
    holder: str
    now: datetime

    def write(self, notes: Sequence[NoteWrite]) -> NotesDone:
        """Claim, then create the notes this run won; on a failed call release what is unsettled and raise."""
        done = NotesDone()
        # Two http budgets: the client's timeout bounds the connection and the answer separately.
        until = claims.lease_until(self.now, self.deadline.left(), 2 * deadlines.seconds("http"))
        unsettled: list[str] = []
        to_create: list[NoteWrite] = []
        try:
            for note in notes:
                decision = self.store.claim_note(self.tenant_id, note.key, note.lead_id, self.holder, self.now, until)
                done.held += decision == "held"
                if decision not in ("new", "retry"):
                    continue
                unsettled.append(note.key)
                found = self._search(note) if decision == "retry" else None
                if found:
                    self._settle(note.key, found)
                    unsettled.remove(note.key)
                else:
                    to_create.append(note)
            for start in range(0, len(to_create), self.client.batch_size):
                batch = to_create[start : start + self.client.batch_size]
                created = self.deadline.call(partial(self.client.create_notes, batch), retry_unavailable=False)
                for note in batch:
                    self._settle(note.key, created.get(note.key))
                    unsettled.remove(note.key)
                    done.created += note.key in created
        except (CrmError, OieError):
            self._release(unsettled)
            raise
        return done

    def _search(self, note: NoteWrite) -> str | None:
        """A taken-over claim: the call that failed, or the run that stopped, may have created the note."""
        return self.deadline.call(partial(self.client.find_note, note.key, note.contact_id))

    def _settle(self, key: str, note_id: str | None) -> None:
        if not self.store.settle_note(self.tenant_id, key, self.holder, note_id):
            log.warning("crm note claim lapsed before its run settled it", extra={"tenant_id": self.tenant_id})

    def _release(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                self.store.settle_note(self.tenant_id, key, self.holder, None)
            except OieError:
                # The claim lapses at its lease's end, and the next run takes it over then.
                log.warning("crm note claim not released", extra={"tenant_id": self.tenant_id})
