"""Handing a watched visitor's page visits, form submits and return visits to their plans.

Only a batch with a tracking id and a triggering event asks the watch (one cached lookup,
hits and misses both cached); only a watched visitor's events become tasks, one per event,
named from the tenant and the event id, so a retried batch creates no second task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oie.campaigns.contracts import IntentSignal, SignalType
from oie.campaigns.signal_tasks import signal_key, signal_task
from oie.campaigns.watch import WatchEntry, watch_key
from oie.go.cache import ReadThroughCache
from oie.ports import TaskQueue

SIGNAL_OF: dict[str, SignalType] = {
    "pageview": "page_visit",
    "form_submit": "form_submit",
    "return_visit": "return_visit",
}


def signals_of(tenant_id: str, tracking_id: str, rows: Sequence[Mapping[str, Any]]) -> list[IntentSignal]:
    """The signals a batch's stored rows carry: its triggering events, bots' left out."""
    return [
        IntentSignal(
            signal_key=signal_key("event", row["event_id"]),
            tenant_id=tenant_id,
            type=SIGNAL_OF[row["event_type"]],
            occurred_at=row["occurred_at"],
            tracking_id=tracking_id,
            url=row["page_url"] if row["event_type"] == "pageview" else None,
        )
        for row in rows
        if row["event_type"] in SIGNAL_OF and not row.get("is_bot")
    ]


@dataclass
class IntentHandoff:
    watched: ReadThroughCache[WatchEntry]
    # Built on the first hand-off: an instance that serves only unwatched visitors never builds a client.
    tasks: Callable[[], TaskQueue]

    def hand_over(self, tenant_id: str, tracking_id: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Enqueue one signal task per triggering event of a watched visitor; how many tasks were new.

        BackendUnavailable (the watch or the queue) propagates: /track answers 503 and the pixel retries.
        """
        triggering = [row for row in rows if row["event_type"] in SIGNAL_OF and not row.get("is_bot")]
        if not triggering or self.watched.get(watch_key(tenant_id, tracking_id)) is None:
            return 0
        queue = self.tasks()
        return sum(queue.enqueue(signal_task(s)) for s in signals_of(tenant_id, tracking_id, triggering))
