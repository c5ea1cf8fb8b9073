"""ReadThroughCache: hits served without the loader, misses remembered for less time, bounded size."""

from __future__ import annotations

import time

from oie.go.cache import ReadThroughCache


class CountingLoader:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[str] = []

    def __call__(self, key: str) -> str | None:
        self.calls.append(key)
        return self.values.get(key)


def test_a_hit_is_served_without_asking_the_loader_again():
    loader = CountingLoader({"a": "A"})
    cache = ReadThroughCache(loader, 10, 60)
    assert [cache.get("a") for _ in range(3)] == ["A", "A", "A"]
    assert loader.calls == ["a"]


def test_a_miss_is_remembered_but_for_a_sixth_of_the_time_a_hit_is():
    loader = CountingLoader({"a": "A"})
    cache = ReadThroughCache(loader, 10, 0.3)
    assert cache.get("b") is None and cache.get("b") is None
    assert cache.get("a") == "A"
    time.sleep(0.08)  # past the misses' 0.05 s, well inside the hits' 0.3 s
    loader.values["b"] = "B"
    assert cache.get("b") == "B" and cache.get("a") == "A"
    assert loader.calls == ["b", "a", "b"]


def test_an_expired_hit_is_loaded_again():
    loader = CountingLoader({"a": "A"})
    cache = ReadThroughCache(loader, 10, 0.05)
    cache.get("a")
    time.sleep(0.08)
    loader.values["a"] = "A2"
    assert cache.get("a") == "A2" and loader.calls == ["a", "a"]


def test_when_full_the_least_recently_used_entry_goes_first():
    loader = CountingLoader({k: k.upper() for k in "abc"})
    cache = ReadThroughCache(loader, 2, 60)
    cache.get("a")
    cache.get("b")
    cache.get("a")  # a is now the most recently used
    cache.get("c")  # b goes
    cache.get("a")
    assert loader.calls == ["a", "b", "c"]
    cache.get("b")  # loaded again; c goes (a was read after it)
    cache.get("a")
    assert loader.calls == ["a", "b", "c", "b"]
    cache.get("c")
    assert loader.calls == ["a", "b", "c", "b", "c"]


def test_a_cache_of_size_or_ttl_zero_asks_the_loader_every_time():
    for size, ttl in ((0, 60), (10, 0)):
        loader = CountingLoader({"a": "A"})
        cache = ReadThroughCache(loader, size, ttl)
        cache.get("a")
        cache.get("a")
        assert loader.calls == ["a", "a"]
