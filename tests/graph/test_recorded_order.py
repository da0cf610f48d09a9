"""The record as recorded at a moment is a prefix of the log in its commit order (sequence),
whatever the stamps of what was committed after: a change committed late with an earlier stamp
was not in the record of a moment that a later-stamped change had already passed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from graph import from_document, register
from graph.database import Database
from graph.read import record_cache, recorded, snapshots
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j


def _doc(purpose: str, *extra: str) -> str:
    engagements = [
        {
            "id": eng,
            "processor": "portal-co",
            "sub_processor": "hosting-co",
            "purpose": purpose,
            "data_categories": ["pupil-data"],
            "since": "2022-02-14",
        }
        for eng in ("hosting", *extra)
    ]
    return json.dumps(
        {
            "version": "ropa/v1",
            "register": {"id": "school", "name": "School", "owner": "school"},
            "organisations": [
                {"id": o, "name": o.title(), "kind": "company"}
                for o in ("school", "portal-co", "hosting-co")
            ],
            "data_categories": [{"id": "pupil-data", "name": "Pupil data"}],
            "engagements": engagements,
        }
    )


def _at(day: int) -> dt.datetime:
    return dt.datetime(2025, 1, day, 12, tzinfo=dt.UTC)


async def _apply(db: Database, text: str, when: dt.datetime) -> None:
    doc = parse_document(text)
    await register.apply(db, "school", from_document.entities(doc), "dpo", occurred_at=when)


async def _engagements(db: Database, when: dt.datetime) -> dict[str, Any]:
    found = await recorded.record_at(db, ["school"], when)
    return {k: e.purpose for k, e in found.engagements.items()}


async def _horizon(db: Database, when: dt.datetime) -> snapshots.Horizon:
    return (await db.read(snapshots.covered_each, [when]))[0]


async def test_a_change_committed_late_with_an_earlier_stamp(db: Database) -> None:
    await _apply(db, _doc("Hosting"), _at(10))
    first = await _horizon(db, _at(30))
    await _apply(db, _doc("Hosting, and backups"), _at(20))
    second = await _horizon(db, _at(30))
    # Committed last, stamped the 5th (a writer whose clock is behind; an import's own date).
    await _apply(db, _doc("Hosting, and backups", "mail"), _at(5))
    last = await _horizon(db, _at(30))
    assert first.sequence < second.sequence < last.sequence

    # On the 15th the record held the first apply: the late change came after one stamped
    # the 20th, so it cannot have been seen then; rolling back by stamp kept its new engagement.
    assert await _engagements(db, _at(15)) == {"hosting": "Hosting"}
    assert await _horizon(db, _at(15)) == first
    # Before the first apply: its first state, as for any register (not the late addition).
    assert await _engagements(db, _at(7)) == {"hosting": "Hosting"}
    # After every stamp: the whole log.
    assert await _engagements(db, _at(25)) == {
        "hosting": "Hosting, and backups",
        "mail": "Hosting, and backups",
    }
    assert await _horizon(db, _at(25)) == last
    assert last.hash is not None
    assert last.registers == ("school",)


async def test_a_change_stamped_before_a_moment_extends_its_record_while_it_is_last(
    db: Database,
) -> None:
    """Nothing stamped at or after the moment yet: a change stamped before it, committed now,
    is in its record (the horizon moves, so a cached record at the old one is not used)."""
    await _apply(db, _doc("Hosting"), _at(10))
    before = await _horizon(db, _at(15))
    await _apply(db, _doc("Hosting", "mail"), _at(12))
    after = await _horizon(db, _at(15))
    assert after.sequence > before.sequence
    assert after.hash != before.hash
    assert await _engagements(db, _at(15)) == {"hosting": "Hosting", "mail": "Hosting"}


async def test_a_past_record_is_rebuilt_once_per_horizon(db: Database) -> None:
    cache = record_cache.of(db)
    await _apply(db, _doc("Hosting"), _at(10))
    misses, hits = cache.misses, cache.hits
    first = await recorded.record_at(db, ["school"], _at(15))
    assert (cache.misses - misses, cache.hits - hits) == (1, 0)
    # The same record asked of another moment it covers, and again after a later write.
    assert await recorded.record_at(db, ["school"], _at(16)) is first
    await _apply(db, _doc("Hosting, and backups"), _at(20))
    assert await recorded.record_at(db, ["school"], _at(15)) is first
    assert (cache.misses - misses, cache.hits - hits) == (1, 2)
    # Another scope is another record.
    assert await recorded.record_at(db, None, _at(15)) is not first
    # The part of the log the 21st covers grows with a change stamped before it while that
    # change is the log's last: rebuilt, it holds the change.
    late = await recorded.record_at(db, ["school"], _at(21))
    await _apply(db, _doc("Hosting, and backups", "mail"), _at(20))
    again = await recorded.record_at(db, ["school"], _at(21))
    assert again is not late
    assert set(again.engagements) == {"hosting", "mail"}
    assert set(late.engagements) == {"hosting"}
