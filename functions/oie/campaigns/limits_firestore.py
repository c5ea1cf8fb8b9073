"""Sending limits in Firestore: windowed counters in top-level `rate_buckets/{rule}-{window}-s{shard}`.

A send takes one from every rule in ONE batched write of atomic increments; the commit
answers each counter's new value. A counter that went over its share is given back (and,
for a sharded rule, another shard tried) in the next write; if any rule stays exhausted,
everything taken is given back and the send defers to the end of that rule's window.
No transaction, so concurrent sends never abort and retry each other, and no over-send:
Firestore applies increments to one document one at a time, so no two sends see the same
value. A give-back that fails only leaves a counter too high (fewer sends, never more).
Documents carry `expires_at` for the TTL policy on `rate_buckets`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.limits import Rule, over
from oie.errors import BackendUnavailable
from oie.logs import get_logger

log = get_logger(__name__)
MAX_SHARD_TRIES = 3  # per exhausted sharded rule: other shards may still hold part of the cap
MAX_KNOWN_FULL = 10_000
Also = Callable[[Any], None]  # adds more writes to the same batch (a send step's claim, undone)


class FirestoreRateLimiter:
    """oie.campaigns.ports.RateLimiter on windowed, sharded counters taken by increments."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._col = client.collection("rate_buckets")
        # Unsharded counters this process saw over their cap, until their window ends: a full
        # window stays full (only an all-or-nothing give-back frees a slot, and then this process
        # sends one fewer, never one more), so later sends defer without a round trip.
        self._full: dict[str, datetime] = {}

    def _write(
        self,
        takes: list[tuple[Rule, int]],
        gives: list[tuple[Rule, int]],
        now: datetime,
        also: Also | None = None,
    ) -> list[int]:
        """One batched write: +1 on each of `takes`, -1 on each of `gives` (and `also`'s writes);
        the new values of `takes`."""
        batch = self._client.batch()
        order = self.add_writes(batch, takes, gives, now)
        if also is not None:
            also(batch)
        results: list[Any] = _guard(lambda: batch.commit(timeout=READ_TIMEOUT))
        return self.values(order, results, len(takes))

    def add_writes(
        self, writer: Any, takes: list[tuple[Rule, int]], gives: list[tuple[Rule, int]], now: datetime
    ) -> list[int]:
        """Add the increments to a batch or transaction; per write, which take (or give) it is."""
        writes = sorted(
            [(rule.doc_id(shard, now), i, 1, rule) for i, (rule, shard) in enumerate(takes)]
            + [(rule.doc_id(shard, now), len(takes) + i, -1, rule) for i, (rule, shard) in enumerate(gives)],
            key=lambda w: w[0],
        )  # always in document order: two batches never wait on each other's documents in a cycle
        for doc_id, _, delta, rule in writes:
            fields = {
                "rule": rule.key,
                "used": firestore.Increment(delta),
                "expires_at": rule.window(now)[1] + rule.period,
            }
            writer.set(self._col.document(doc_id), fields, merge=True)
        return [i for _, i, _, _ in writes]

    @staticmethod
    def values(order: list[int], results: Sequence[Any], takes: int) -> list[int]:
        """The counters' new values, in the order of the takes, from the commit's first write results."""
        found = {i: int(r.transform_results[0].integer_value) for i, r in zip(order, results, strict=False)}
        return [found[i] for i in range(takes)]

    def known_full(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        """A rule this process saw full in its current window: when it reopens, without a round trip."""
        for rule in rules:
            if rule.shard_count() == 1 and self._full.get(rule.doc_id(0, now), now) > now:
                return rule.window(now)[1], rule.key
        return None

    @staticmethod
    def first_takes(rules: Sequence[Rule]) -> list[tuple[Rule, int]]:
        """One shard of each rule, at random: concurrent sends spread over a rule's shards."""
        return [(rule, random.randrange(rule.shard_count())) for rule in rules]

    def acquire(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        full = self.known_full(rules, now)
        if full is not None:
            return full
        takes = self.first_takes(rules)
        return self.settle(takes, self._write(takes, [], now), now)

    def settle(
        self, takes: list[tuple[Rule, int]], values: list[int], now: datetime, undo: Also | None = None
    ) -> tuple[datetime, str] | None:
        """After a write took `takes` and answered `values`: None when every rule fits, else (having
        tried other shards of a sharded rule) give everything back, with `undo`'s writes, and say when."""
        held: list[tuple[Rule, int]] = []
        tried = {rule.key: {shard} for rule, shard in takes}
        while True:
            gives, again = [], []
            exhausted: tuple[datetime, str] | None = None
            for (rule, shard), used in zip(takes, values, strict=True):
                retry_at = over(rule, shard, used, now)
                if retry_at is None:
                    held.append((rule, shard))
                    continue
                gives.append((rule, shard))
                if rule.shard_count() == 1:
                    self._known_full(rule, now)
                left = [s for s in range(rule.shard_count()) if s not in tried[rule.key]]
                if not left or len(tried[rule.key]) >= MAX_SHARD_TRIES:
                    exhausted = exhausted or (retry_at, rule.key)
                    continue
                shard = random.choice(left)
                tried[rule.key].add(shard)
                again.append((rule, shard))
            if exhausted is not None:
                self._give_back([*held, *gives], now, undo)  # all or nothing: the send takes from no rule
                return exhausted
            if not again:
                return None
            takes = again
            try:
                values = self._write(takes, gives, now)
            except BackendUnavailable:
                self._give_back([*held, *gives], now, undo)  # a retry of the step takes them afresh
                raise

    def _known_full(self, rule: Rule, now: datetime) -> None:
        if len(self._full) >= MAX_KNOWN_FULL:
            self._full = {doc: end for doc, end in self._full.items() if end > now}
        if len(self._full) < MAX_KNOWN_FULL:
            self._full[rule.doc_id(0, now)] = rule.window(now)[1]

    def _give_back(self, items: list[tuple[Rule, int]], now: datetime, undo: Also | None = None) -> None:
        """Undo increments; a failure leaves counters high (fewer sends this window, never more)."""
        try:
            self._write([], items, now, undo)
        except BackendUnavailable as exc:
            log.warning("sending-limit counters not given back", extra={"error": exc.message, "count": len(items)})
