"""Small in-process caches for `/go`, so a warm instance reads Firestore once per id."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")
_MISSING = object()


class ReadThroughCache(Generic[V]):
    """A TTL cache in front of a loader; misses (None) are cached too, for less time."""

    def __init__(self, loader: Callable[[str], V | None], size: int, ttl: float) -> None:
        self._loader = loader
        self._hits: TTLCache[str, V] = TTLCache(maxsize=max(size, 1), ttl=max(ttl, 0.001))
        self._misses: TTLCache[str, bool] = TTLCache(maxsize=max(size, 1), ttl=max(ttl / 6, 0.001))
        self._lock = threading.Lock()
        self._enabled = size > 0 and ttl > 0

    def get(self, key: str) -> V | None:
        if self._enabled:
            with self._lock:
                value = self._hits.get(key, _MISSING)
                if value is not _MISSING:
                    return value  # type: ignore[return-value]
                if key in self._misses:
                    return None
        loaded = self._loader(key)
        if self._enabled:
            with self._lock:
                if loaded is None:
                    self._misses[key] = True
                else:
                    self._hits[key] = loaded
        return loaded
