"""De-duplication keys for SendGrid events.

SendGrid delivers at least once: the same event arrives again in later batches for
hours, and `sg_event_id` has been seen to change between those retries. So the key is
built from what describes the event itself and cannot change on a retry: the tenant,
`sg_message_id` (one per message and recipient), the recipient, the event type, the
event's own `timestamp` (when it happened, in whole seconds, not when it was posted)
and, for clicks, the URL. Two opens of one message in the same second collapse into one,
which loses nothing a person did. `sg_event_id` stands in only when `sg_message_id` is
missing, and a hash of the whole event (without `sg_event_id`) when both are.
"""

from __future__ import annotations

import hashlib
import json

from oie.webhooks.models import SendGridEvent

KEY_CHARS = 40  # hex: 160 bits, valid in a Firestore document id and a Cloud Tasks task name


def event_key(tenant_id: str, event: SendGridEvent) -> str:
    """The stable de-dup key of one event (hex)."""
    if event.sg_message_id or event.sg_event_id:
        parts = [
            tenant_id,
            event.sg_message_id or f"event:{event.sg_event_id}",
            event.email.lower(),
            event.event,
            str(event.timestamp),
            (event.url or "") if event.event == "click" else "",
        ]
        material = "\x1f".join(parts)
    else:
        body = event.model_dump(exclude={"sg_event_id"}, exclude_none=True)
        material = tenant_id + "\x1f" + json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:KEY_CHARS]


def task_name(key: str) -> str:
    """The Cloud Tasks name of the task an event becomes: the same event, the same name."""
    return f"ev-{key}"
