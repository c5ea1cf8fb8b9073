"""Small in-process caches for `/go`, `/track` and `/personalize`, so a warm instance reads Firestore
once per id."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class ReadThroughCache(Generic[V]):
    """A TTL cache in front of a loader; misses (None) are cached too, for less time.

    A hit is one dict read and one clock read, without a lock (a dict read is atomic): every
    request of the capture functions asks two or three of these. Writes take the lock; when
    full, the oldest entry written goes first.
    """

    def __init__(self, loader: Callable[[str], V | None], size: int, ttl: float) -> None:
        self._loader = loader
        self._size = max(size, 1)
        self._ttl = max(ttl, 0.001)
        self._miss_ttl = max(ttl / 6, 0.001)
        # key -> (value or _MISSING for a cached miss, monotonic expiry)
        self._entries: dict[str, tuple[object, float]] = {}
        self._lock = threading.Lock()
        self._enabled = size > 0 and ttl > 0

    def get(self, key: str) -> V | None:
        if self._enabled:
            entry = self._entries.get(key)
            if entry is not None and entry[1] > time.monotonic():
                value = entry[0]
                return None if value is _MISSING else value  # type: ignore[return-value]
        loaded = self._loader(key)
        if self._enabled:
            ttl = self._miss_ttl if loaded is None else self._ttl
            with self._lock:
                self._entries.pop(key, None)  # re-inserted last: the newest write
                while len(self._entries) >= self._size:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = (_MISSING if loaded is None else loaded, time.monotonic() + ttl)
        return loaded
