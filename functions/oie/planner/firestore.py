"""The planner's Firestore documents: config, plan generations, lead summaries, budget and slots.

`tenants/{t}/campaign_config/planner`, `tenants/{t}/plan_generations/{input_hash}`, the
`intent_summary` / `intent_summary_at` fields of `tenants/{t}/leads/{lead}`, the daily budget's
shards `tenants/{t}/planner_usage/{YYYY-MM-DD}.{nn}` and the leases `tenants/{t}/planner_slots/slot-{n}`.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.errors import BackendUnavailable
from oie.planner.budget import SHARDS, Shard, fits_shard, free_slots, partition
from oie.planner.config import PlannerConfig
from oie.planner.records import PlanGeneration


class LeadSummaries(Protocol):
    def put(self, tenant_id: str, lead_id: str, summary: str, at: datetime) -> None:
        """Store the lead analysis on the lead (console, hot-lead alerts)."""
        ...


class FirestorePlannerConfigs:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _ref(self, tenant_id: str) -> Any:
        return self._client.collection("tenants", tenant_id, "campaign_config").document("planner")

    def get(self, tenant_id: str) -> PlannerConfig:
        snap = _guard(lambda: self._ref(tenant_id).get(timeout=READ_TIMEOUT))
        return PlannerConfig.model_validate(snap.to_dict()) if snap.exists else PlannerConfig()

    def put(self, tenant_id: str, config: PlannerConfig) -> None:
        _guard(lambda: self._ref(tenant_id).set(config.model_dump(mode="json")))


class FirestoreGenerationRecords:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _ref(self, tenant_id: str, input_hash: str) -> Any:
        return self._client.collection("tenants", tenant_id, "plan_generations").document(input_hash)

    def get(self, tenant_id: str, input_hash: str) -> PlanGeneration | None:
        snap = _guard(lambda: self._ref(tenant_id, input_hash).get(timeout=READ_TIMEOUT))
        return PlanGeneration.model_validate(snap.to_dict()) if snap.exists else None

    def put(self, record: PlanGeneration) -> None:
        doc = record.model_dump(mode="python")
        _guard(lambda: self._ref(record.tenant_id, record.input_hash).set(doc))


class FirestoreLeadSummaries:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def put(self, tenant_id: str, lead_id: str, summary: str, at: datetime) -> None:
        ref = self._client.collection("tenants", tenant_id, "leads").document(lead_id)
        # A contact that was never imported as a lead has nowhere to show it.
        with contextlib.suppress(gexc.NotFound):
            _guard(lambda: ref.update({"intent_summary": summary, "intent_summary_at": at}))


# Budget and slots use optimistic writes (a precondition on the update time read) rather than
# transactions: a transaction holds read locks, so one that reads every shard stalls every other.
_LOST = (gexc.FailedPrecondition, gexc.AlreadyExists)
ATTEMPTS = 8


def _until_written(step: Callable[[], bool | None], what: str) -> bool | None:
    """Run a read-then-conditional-write `step` again while another writer wins the race."""
    for attempt in range(ATTEMPTS):
        try:
            return _guard(step)
        except _LOST:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # jitter, so racers spread out
    raise BackendUnavailable(f"the planner's {what} is contended; try again shortly")


class FirestoreTokenBudget:
    """The daily token budget as a sharded counter (the rules are in oie.planner.budget)."""

    def __init__(self, client: firestore.Client, shards: int = SHARDS, tries: int = 2) -> None:
        self._client = client
        self._shards = shards
        self._tries = tries  # shards tried alone before reading them all

    def _refs(self, tenant_id: str, day: date) -> list[Any]:
        col = self._client.collection("tenants", tenant_id, "planner_usage")
        return [col.document(f"{day.isoformat()}.{n:02d}") for n in range(self._shards)]

    def reserve(self, tenant_id: str, day: date, tokens: int, limit: int) -> bool:
        refs = self._refs(tenant_id, day)
        for n in random.sample(range(len(refs)), min(self._tries, len(refs))):
            fits = _until_written(partial(self._reserve_on, refs[n], tokens, limit), "token budget")
            if fits is None:  # not shared out for this budget yet: only the day's total can tell
                break
            if fits:
                return True
        return bool(_until_written(lambda: self._reserve_across(refs, day, tokens, limit), "token budget"))

    def _reserve_on(self, ref: Any, tokens: int, limit: int) -> bool | None:
        snap = ref.get(timeout=READ_TIMEOUT)
        shard = _shard(snap.to_dict())
        fits = fits_shard(shard, tokens, limit)
        if fits:
            ref.update({"tokens_reserved": shard.reserved + tokens}, option=self._unchanged(snap))
        return fits

    def _reserve_across(self, refs: list[Any], day: date, tokens: int, limit: int) -> bool:
        # Reads every shard and writes them all only if none changed since: rare by design.
        snaps = {s.id: s for s in self._client.get_all(refs, timeout=READ_TIMEOUT)}
        shards = [_shard(snaps[ref.id].to_dict() if ref.id in snaps else None) for ref in refs]
        target = random.randrange(len(refs))
        caps = partition(limit, [s.spent for s in shards], target, tokens)
        if caps is None:
            return False
        batch = self._client.batch()
        for n, ref in enumerate(refs):
            doc: dict[str, Any] = {"cap": caps[n], "budget": limit, "day": day.isoformat()}
            if n == target:
                doc["tokens_reserved"] = shards[n].reserved + tokens
            snap = snaps.get(ref.id)
            if snap is not None and snap.exists:
                batch.update(ref, doc, option=self._unchanged(snap))
            else:
                batch.create(ref, doc)
        batch.commit(timeout=READ_TIMEOUT)
        return True

    def _unchanged(self, snap: Any) -> Any:
        return self._client.write_option(last_update_time=snap.update_time)

    def settle(self, tenant_id: str, day: date, reserved: int, used: int) -> None:
        # Counters add up across shards, so any shard can take the settlement: a blind
        # increment on a random one, nothing to contend.
        ref = random.choice(self._refs(tenant_id, day))
        change = {
            "tokens_reserved": firestore.Increment(-reserved),
            "tokens_used": firestore.Increment(used),
            "calls": firestore.Increment(1),
            "day": day.isoformat(),
        }
        _guard(lambda: ref.set(change, merge=True))

    def usage(self, tenant_id: str, day: date) -> dict[str, Any]:
        """The day's counters summed over the shards (the console and tests read them)."""
        docs = [s.to_dict() or {} for s in _guard(lambda: list(self._client.get_all(self._refs(tenant_id, day))))]
        totals = {k: sum(int(d.get(k, 0)) for d in docs) for k in ("tokens_used", "tokens_reserved", "calls")}
        return {**totals, "day": day.isoformat()} if any(docs) else {}


def _shard(doc: dict[str, Any] | None) -> Shard:
    doc = doc or {}
    cap, budget = doc.get("cap"), doc.get("budget")
    return Shard(
        used=int(doc.get("tokens_used", 0)),
        reserved=int(doc.get("tokens_reserved", 0)),
        cap=None if cap is None else int(cap),
        budget=None if budget is None else int(budget),
    )


class FirestoreSlots:
    """Concurrency slots, one lease document each; a worker tries random free ones, one at a time."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _col(self, tenant_id: str) -> Any:
        return self._client.collection("tenants", tenant_id, "planner_slots")

    def acquire(self, tenant_id: str, slots: int, holder: str, now: datetime, lease: timedelta) -> str | None:
        live = self._col(tenant_id).where(filter=FieldFilter("expires_at", ">", now))  # type: ignore[no-untyped-call]
        held = {snap.id for snap in _guard(lambda: list(live.stream(timeout=READ_TIMEOUT)))}
        candidates = free_slots(slots, held)
        random.shuffle(candidates)  # workers that read the same free slots spread over them
        for slot in candidates:
            if self._take(self._col(tenant_id).document(slot), holder, now, lease):
                return slot
        return None

    def _take(self, ref: Any, holder: str, now: datetime, lease: timedelta) -> bool:
        lease_doc = {"holder": holder, "acquired_at": now, "expires_at": now + lease}
        snap = _guard(lambda: ref.get(timeout=READ_TIMEOUT))
        expires_at = (snap.to_dict() or {}).get("expires_at") if snap.exists else None
        if expires_at is not None and expires_at > now:
            return False  # another worker took it since the query
        try:
            if snap.exists:
                option = self._client.write_option(last_update_time=snap.update_time)
                _guard(lambda: ref.update(lease_doc, option=option))
            else:
                _guard(lambda: ref.create(lease_doc))
        except _LOST:
            return False  # another worker took it between the read and the write
        return True

    def release(self, tenant_id: str, slot_id: str, holder: str) -> None:
        ref = self._col(tenant_id).document(slot_id)
        snap = _guard(lambda: ref.get(timeout=READ_TIMEOUT))
        # A lease that expired and was taken by another worker is theirs now.
        if not snap.exists or (snap.to_dict() or {}).get("holder") != holder:
            return
        option = self._client.write_option(last_update_time=snap.update_time)
        with contextlib.suppress(*_LOST):
            _guard(lambda: ref.delete(option=option))
