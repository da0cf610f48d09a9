"""Past records kept once rebuilt: a record at a horizon never changes, so it is never stale.

A past record (graph.read.recorded) is rebuilt from the change log, which costs several times
reading today's record. What it is made of is named exactly by its `Horizon` (the part of the
log it covers, that part's last hash, the registers in the graph) with the registers read and
whether the public lists were: the log is append-only, so the same key always gives the same
record, and nothing is ever invalidated. Later writes only make new keys; a change committed
with an earlier stamp moves the horizon of the moments it falls in (graph.read.snapshots).
The cache is bounded (least recently used first out) and kept per `Database`, so the registry,
its portal pages and the CLI share it in one process, and a test's wiped database is another
log (other hashes), never a stale hit.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from graph.database import Database

# About a dozen scopes asking of a few moments; each record holds its registers' entities.
DEFAULT_ENTRIES = 32

V = TypeVar("V")


class RecordCache(Generic[V]):
    """At most `entries` values by key, the least recently used dropped first."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        if entries < 0:
            raise ValueError(f"entries must be 0 or more, not {entries}")
        self._entries = entries
        self._kept: OrderedDict[Hashable, V] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        found = self._kept.get(key)
        if found is None:
            self.misses += 1
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: Hashable, value: V) -> None:
        """Keep `value` for `key`, dropping the least recently used past the bound."""
        if not self._entries:
            return
        self._kept[key] = value
        self._kept.move_to_end(key)
        while len(self._kept) > self._entries:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        """Drop everything kept."""
        self._kept.clear()

    def resize(self, entries: int) -> None:
        """Bound it to `entries` (0 turns it off), dropping the least recently used."""
        if entries < 0:
            raise ValueError(f"entries must be 0 or more, not {entries}")
        self._entries = entries
        while len(self._kept) > entries:
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


_BY_DATABASE: weakref.WeakKeyDictionary[Database, RecordCache[object]] = weakref.WeakKeyDictionary()


def of(db: Database) -> RecordCache[object]:
    """The past records kept for this database (made on first use)."""
    found = _BY_DATABASE.get(db)
    if found is None:
        found = _BY_DATABASE[db] = RecordCache()
    return found
