"""Erasure in the CRM: remove what the engine wrote about one lead, or say why it could not."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from oie.crm import mapping
from oie.crm.backoff import Deadline
from oie.crm.ports import CrmClients, CrmError, CrmStore
from oie.errors import OieError
from oie.logs import get_logger
from oie.ports import SecretResolver

log = get_logger(__name__)


@dataclass
class CrmErasure:
    store: CrmStore
    secrets: SecretResolver
    clients: CrmClients
    deadline_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def erase(self, tenant_id: str, lead_id: str) -> dict[str, Any]:
        """Delete the engine's notes and its fields (the contact itself when the engine created it).

        Runs before the lead's Firestore documents go, since they hold the contact id. The
        result goes into the erasure record: `outcome` removed, nothing_written,
        not_connected or failed (with `reason`), so an erasure the CRM refused is on record.
        """
        state = self.store.lead_state(tenant_id, lead_id)
        claimed = self.store.lead_notes(tenant_id, lead_id)
        notes = [note_id for _, note_id in claimed if note_id]
        # A claim without an id: a create that failed or lost its answer may still have made the note.
        unsettled = [key for key, note_id in claimed if not note_id] if state.crm_contact_id else []
        config = self.store.get_config(tenant_id)
        result: dict[str, Any] = {"outcome": "nothing_written", "notes_deleted": 0, "contact": "untouched"}
        if not state.crm_contact_id and not notes:
            return result
        if config is None:
            reason = "the CRM was disconnected; its contact keeps the engine's fields until removed there"
            result.update(outcome="not_connected", reason=reason)
            return result
        try:
            client = self.clients(config, self.secrets.resolve(config.secret_ref))
            deadline = Deadline(self.deadline_seconds, sleep=self.sleep)
            for key in unsettled:
                found = deadline.call(partial(client.find_note, key, str(state.crm_contact_id)))
                notes += [found] if found else []
            for batch in (notes[i : i + client.batch_size] for i in range(0, len(notes), client.batch_size)):
                deadline.call(partial(client.delete_notes, batch))
            result["notes_deleted"] = len(notes)
            if state.crm_contact_id and state.created_by_engine:
                deadline.call(lambda: client.delete_contacts([str(state.crm_contact_id)]))
                result["contact"] = "deleted"
            elif state.crm_contact_id:
                fields = mapping.fields_for(config.written_fields())
                deadline.call(lambda: client.clear_contacts([str(state.crm_contact_id)], fields))
                result["contact"] = "fields_cleared"
            result["outcome"] = "removed"
        except (CrmError, OieError) as exc:  # OieError: the secret could not be read
            log.warning("crm erasure incomplete", extra={"tenant_id": tenant_id, "error": str(exc)})
            result.update(outcome="failed", reason=str(exc)[:500])
        self.store.forget_lead_notes(tenant_id, lead_id)
        return result
