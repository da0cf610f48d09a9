"""`subProcessorChanges` over graphql-transport-ws with a real client (gql): live delivery, the
processor filter, replay from an event id then live with no gap and no duplicate at the seam,
and clear errors for what names nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.services.subscriptions.conftest import (
    Listener,
    MakeRegistry,
    Register,
    Registry,
    listening,
)
from tests.support.examples import apply_one, apply_the_move, stl_changed
from tests.waiting import eventually

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


@pytest.fixture(scope="module")
def registry(school: Register, registries: MakeRegistry) -> Registry:
    """One registry process for the module, started after the graph was wiped."""
    return registries()


async def test_live_changes_arrive_in_order(school: Register, registry: Registry) -> None:
    async with listening(Listener(registry.ws)) as (listener,):
        before = (await school.changes())[-1].sequence
        for _ in range(5):
            await school.change()
        recorded = await school.changes(after=before)
        events = await listener.wait_for(5)
    assert [e["id"] for e in events] == [c.id for c in recorded]
    first = events[0]
    change = recorded[0]
    assert first == {
        "id": change.id,
        "sequence": change.sequence,
        "type": "CHANGED",
        "processor": {"id": "portal-co"},
        "subProcessor": {"id": "hosting-co"},
        "occurredAt": change.occurred_at.isoformat(),
        "effectiveFrom": "2022-02-14",
        # An anonymous subscriber: the list is public, the actor (a person) is not.
        "actor": None,
        "before": {"purpose": (change.before or {})["purpose"], "status": "ACTIVE"},
        "after": {"purpose": (change.after or {})["purpose"], "status": "ACTIVE"},
    }


async def test_a_processor_filter_by_name_or_id(school: Register, registry: Registry) -> None:
    by_name = Listener(registry.ws, processor="OTHER CO")
    by_id = Listener(registry.ws, processor="other-co")
    everything = Listener(registry.ws)
    async with listening(by_name, by_id, everything):
        before = (await school.changes())[-1].sequence
        for processor in ("portal-co", "other-co", "portal-co", "other-co", "other-co"):
            await school.change(processor)
        await everything.wait_for(5)
        # Nothing else comes to the filtered ones: a later change of theirs arrives next.
        await school.change("other-co")
        await by_name.wait_for(4)
        await by_id.wait_for(4)
        await everything.wait_for(6)
    theirs = await school.changes(after=before, processor="other-co")
    assert len(theirs) == 4
    assert by_name.ids == by_id.ids == [c.id for c in theirs]
    assert {e["processor"]["id"] for e in by_name.events} == {"other-co"}
    assert everything.ids == [c.id for c in await school.changes(after=before)]


async def test_after_replays_then_goes_live(school: Register, registry: Registry) -> None:
    for _ in range(3):
        await school.change()
    recorded = await school.changes()
    start = recorded[-4]
    async with listening(Listener(registry.ws, after=start.id)) as (listener,):
        await school.change("other-co")
        events = await listener.wait_for(4)
    assert listener.ids == [c.id for c in (await school.changes(after=start.sequence))]
    assert len(events) == 4


async def test_no_gap_and_no_duplicate_at_the_seam_under_concurrent_writes(
    school: Register, registry: Registry
) -> None:
    writes = 80
    base = (await school.changes())[-1]
    listeners: list[tuple[Listener, int]] = []

    async def write() -> None:
        for n in range(writes):
            await school.change(("portal-co", "other-co")[n % 3 == 0])

    async def subscribe_meanwhile() -> None:
        # While the writer runs, subscribers join from a recent event: the replay races writes.
        for n in range(8):
            # Each joins once the writer has gone on a few changes since the last one.
            async def written(at_least: int = n * 6 + 1) -> bool:
                return len(await school.changes(after=base.sequence)) >= at_least

            await eventually(written, within=60, message="the writer going on", every=0.02)
            recorded = await school.changes(after=base.sequence)
            start = recorded[max(0, len(recorded) - 1 - n * 2)]
            listener = Listener(
                registry.ws, processor="portal-co" if n % 4 == 3 else None, after=start.id
            )
            await listener.__aenter__()
            listeners.append((listener, start.sequence))

    try:
        await asyncio.gather(write(), subscribe_meanwhile())
        # A last change every listener wants: what arrives before it is all they get.
        await school.change("portal-co")
        for listener, after in listeners:
            expected = await school.changes(after=after, processor=listener.processor)
            await listener.wait_for(len(expected))
            assert listener.errors == []
            assert listener.ids == [c.id for c in expected], (after, listener.sequences)
    finally:
        for listener, _ in listeners:
            await listener.__aexit__(None, None, None)


async def test_an_unknown_processor_is_an_error_quoting_it(registry: Registry) -> None:
    listener = Listener(registry.ws, processor="Nobody Ltd")
    async with listener:
        errors = await listener.wait_error()
    assert errors[0]["message"] == "no organisation with id or name 'Nobody Ltd'"
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_unknown_event_id_is_an_error(registry: Registry) -> None:
    listener = Listener(registry.ws, after="no-such-event")
    async with listener:
        errors = await listener.wait_error()
    assert errors[0]["message"] == "after: no change event with id 'no-such-event'"
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_registry_starts_without_warnings(registry: Registry) -> None:
    # uvicorn warns at every start when told its deprecated "websockets" implementation.
    assert "Warning" not in registry.tail(400)


async def test_the_copies_moving_to_stls_register_are_not_told(
    school: Register, registry: Registry
) -> None:
    """The old school file, STL's register, the new school file (each applied on its own),
    then a real change: the three additions and the change, nothing between (DECLARED and
    RELEASED events are no sub-processor change: graph.subprocessor_changes)."""
    async with listening(Listener(registry.ws)) as (live,):
        await apply_the_move(school.db)
        await apply_one(school.db, stl_changed("stl-link-ict", "Hosting, and backups"))
        events = await live.wait_for(4)
    assert [(e["type"], e["subProcessor"]["id"]) for e in events][3:] == [("CHANGED", "link-ict")]
    assert sorted((e["type"], e["subProcessor"]["id"]) for e in events[:3]) == [
        ("ADDED", sub)
        for sub in ("derby-city-council", "link-ict", "school-development-support-agency")
    ]
    # A subscriber replaying the log from its start is told the same.
    first = events[0]["id"]
    async with listening(Listener(registry.ws, after=first)) as (replay,):
        replayed = await replay.wait_for(3)
    assert replayed == events[1:]
