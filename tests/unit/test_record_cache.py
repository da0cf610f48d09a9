"""The past-record cache's bound: least recently used out first, 0 keeps nothing."""

from __future__ import annotations

import pytest

from graph.read.record_cache import RecordCache


def test_the_least_recently_used_goes_first() -> None:
    cache: RecordCache[str] = RecordCache(entries=2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # now b is the least recently used
    cache.put("c", "C")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == ("A", "C")
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)


def test_resizing_drops_the_oldest_and_zero_keeps_nothing() -> None:
    cache: RecordCache[int] = RecordCache(entries=3)
    for i in range(3):
        cache.put(i, i)
    cache.resize(1)
    assert [cache.get(i) for i in range(3)] == [None, None, 2]
    cache.resize(0)
    cache.put(9, 9)
    assert len(cache) == 0
    with pytest.raises(ValueError, match="0 or more"):
        RecordCache(entries=-1)
