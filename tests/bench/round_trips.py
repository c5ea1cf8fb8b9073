"""Count Firestore round trips: every RPC the client makes, by method, through one counting wrapper."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

RPCS = ("batch_get_documents", "begin_transaction", "commit", "rollback", "run_query", "run_aggregation_query")


class RoundTrips:
    """Wraps a `google.cloud.firestore.Client`'s API object; `counts` holds calls per RPC."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        api = client._firestore_api  # the GAPIC client every read, write and transaction goes through
        for name in RPCS:
            setattr(api, name, self._counting(name, getattr(api, name)))

    def _counting(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.counts[name] += 1
            return call(*args, **kwargs)

        return counted

    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> dict[str, int]:
        """The counts so far (then zero)."""
        with self._lock:
            seen = dict(self.counts)
            self.counts.clear()
        return seen
