"""Small in-process caches for `/go`, `/track` and `/personalize`, so a warm instance reads Firestore
once per id."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import TLRUCache

V = TypeVar("V")
_MISSING = object()  # a cached miss: the loader said None
_ABSENT = object()  # nothing cached


class ReadThroughCache(Generic[V]):
    """A TTL cache in front of a loader; misses (None) are cached too, for a sixth of the time.

    cachetools' TLRUCache (each entry expires at its own time; when full, the least recently
    used goes first) under a lock, since it reorders itself on every read.
    """

    def __init__(self, loader: Callable[[str], V | None], size: int, ttl: float) -> None:
        self._loader = loader
        self._ttl = max(ttl, 0.001)
        self._miss_ttl = max(ttl / 6, 0.001)
        self._entries: TLRUCache[str, object] = TLRUCache(max(size, 1), ttu=self._expiry, timer=time.monotonic)
        self._lock = threading.Lock()
        self._enabled = size > 0 and ttl > 0

    def _expiry(self, _key: str, value: object, now: float) -> float:
        return now + (self._miss_ttl if value is _MISSING else self._ttl)

    def get(self, key: str) -> V | None:
        """The cached value of `key`, or the loader's answer (then cached)."""
        if self._enabled:
            with self._lock:
                value = self._entries.get(key, _ABSENT)
            if value is not _ABSENT:
                return None if value is _MISSING else value  # type: ignore[return-value]
        loaded = self._loader(key)
        if self._enabled:
            with self._lock:
                self._entries[key] = _MISSING if loaded is None else loaded
        return loaded
