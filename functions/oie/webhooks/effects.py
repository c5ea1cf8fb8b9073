"""What every webhook does once it owns an event: hand it to the engine, and act on a delivery at once.

Shared by SendGrid's events, replies, unsubscribes and the sequencers' webhooks, so that an
engine event is always the same named task and a failed effect is always released for retry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from oie.campaigns.contracts import EngineEvent
from oie.errors import BackendUnavailable
from oie.logs import get_logger
from oie.ports import Task
from oie.queues import WEBHOOK_EVENTS
from oie.webhooks.dedup import task_name
from oie.webhooks.store import EventMarkers

log = get_logger(__name__)
EFFECT_WORKERS = 16


def engine_task(event: EngineEvent) -> Task:
    """The Cloud Task handing one engine event to `campaign_step`, named by its key so a copy is refused."""
    return Task(
        queue=WEBHOOK_EVENTS,
        function="campaign_step",
        payload={"kind": "event", "event": event.model_dump(mode="json")},
        name=task_name(event.event_key),
    )


def run_all(calls: Sequence[Callable[[], object]]) -> list[BaseException | None]:
    """Run independent calls concurrently (task creation is one RPC each); the error of each, or None."""

    def guarded(call: Callable[[], object]) -> BaseException | None:
        try:
            call()
        except Exception as exc:
            return exc
        return None

    if len(calls) <= 1:
        return [guarded(c) for c in calls]
    with ThreadPoolExecutor(min(EFFECT_WORKERS, len(calls))) as pool:
        return list(pool.map(guarded, calls))


def act_or_release(
    calls: Sequence[Callable[[], object]],
    keys: Sequence[str],
    markers: EventMarkers,
    tenant_id: str,
    log_extra: dict[str, Any],
) -> None:
    """Run a delivery's effects (`keys[i]` owns `calls[i]`); release the keys whose effect failed, then 503."""
    errors = run_all(calls)
    failed = {key for key, error in zip(keys, errors, strict=True) if error is not None}
    if not failed:
        return
    markers.release(tenant_id, failed)
    first = next(e for e in errors if e is not None)
    log.error(
        "webhook effects failed; released for retry",
        extra={"tenant_id": tenant_id, "failed": len(failed), "error": type(first).__name__, **log_extra},
    )
    raise BackendUnavailable(f"{len(failed)} event(s) could not be acted on ({type(first).__name__})")
