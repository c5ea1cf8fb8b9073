"""One Cloud Task per intent signal, named by the signal: what every producer enqueues.

Producers (`/track`, the `campaign_signals` job, the outcomes service) build the signal's
key from the happening's own id, so a retried producer creates no second task (Cloud Tasks
refuses the name) and a second delivery changes no state (the engine keeps the key).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from oie import queues
from oie.campaigns.contracts import IntentSignal
from oie.ports import Task

MAX_KEY = 200  # IntentSignal.signal_key's bound


def signal_key(kind: str, happening_id: str) -> str:
    """`kind:id` (a page event id, a level change id, an outcome id); hashed when too long to be a key."""
    key = f"{kind}:{happening_id}"
    return key if len(key) <= MAX_KEY else f"{kind}:h{hashlib.sha256(happening_id.encode()).hexdigest()}"


def task_name(signal: IntentSignal) -> str:
    """The task's name: a hash of tenant and key (task names are per queue, not per tenant)."""
    return "sig-" + hashlib.sha256(f"{signal.tenant_id}|{signal.signal_key}".encode()).hexdigest()[:48]


def signal_task(signal: IntentSignal) -> Task:
    """The `campaign_step` task on INTENT_SIGNALS that hands `signal` to every campaign of its lead."""
    return Task(
        queue=queues.INTENT_SIGNALS,
        function=queues.QUEUES[queues.INTENT_SIGNALS],
        payload={"kind": "signal", "signal": signal.model_dump(mode="json", exclude_none=True)},
        name=task_name(signal),
    )


def outcome_signal(
    tenant_id: str, lead_id: str, outcome_id: str, outcome_type: str, stage: str, occurred_at: datetime
) -> IntentSignal:
    """An outcome sales recorded, keyed by its id (the outcomes service and the job's sweep agree on it)."""
    return IntentSignal(
        signal_key=signal_key("outcome", outcome_id),
        tenant_id=tenant_id,
        type="outcome",
        occurred_at=occurred_at,
        lead_id=lead_id,
        outcome=outcome_type,
        stage=stage,
    )


def level_signal(tenant_id: str, lead_id: str, change_id: str, level: str, changed_at: datetime) -> IntentSignal:
    """A lead's rise to `level`, keyed by the score job's change id."""
    return IntentSignal.model_validate(
        {
            "signal_key": signal_key("level", change_id),
            "tenant_id": tenant_id,
            "type": "intent_level",
            "occurred_at": changed_at,
            "lead_id": lead_id,
            "level": level,
        }
    )
