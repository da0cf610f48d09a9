"""The audit chain's canonical form and checks, without a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schema.access.principal import Principal, Role, Via
from schema.audit import (
    GENESIS,
    ChainBreak,
    ChainCheck,
    actor_properties,
    canonical,
    chained,
    event_hash,
)

WHEN = dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)


def _event(sequence: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"e{sequence}",
        "sequence": sequence,
        "occurredAt": WHEN,
        "op": "CREATED",
        **extra,
    }


def _chain(n: int) -> list[dict[str, Any]]:
    out, head = [], GENESIS
    for i in range(1, n + 1):
        out.append(chained(_event(i), head))
        head = out[-1]["hash"]
    return out


def test_canonical_form_ignores_key_order_nulls_and_the_hash_itself() -> None:
    a = {"b": 1, "a": "x", "gone": None, "hash": "whatever"}
    assert canonical(a) == canonical({"a": "x", "b": 1})
    assert canonical(a) == b'["ropa-change/v1",{"a":"x","b":1}]'


def test_date_times_hash_the_same_in_any_time_zone_or_as_naive_utc() -> None:
    paris = WHEN.astimezone(dt.timezone(dt.timedelta(hours=1)))
    naive = WHEN.replace(tzinfo=None)
    assert event_hash({"t": WHEN}) == event_hash({"t": paris}) == event_hash({"t": naive})
    assert event_hash({"t": WHEN}) != event_hash({"t": WHEN + dt.timedelta(microseconds=1)})


def test_every_field_and_the_predecessor_change_the_hash() -> None:
    base = chained(_event(1), GENESIS)
    assert base["prevHash"] == GENESIS
    assert len(base["hash"]) == 64
    assert chained(_event(1), "1" * 64)["hash"] != base["hash"]
    assert chained(_event(1, actor="x"), GENESIS)["hash"] != base["hash"]
    assert chained(_event(2), GENESIS)["hash"] != base["hash"]


def test_an_intact_chain_checks_through_to_the_counter() -> None:
    events = _chain(4)
    check = ChainCheck()
    assert all(check.feed(e) for e in events)
    assert check.finish(4, events[-1]["hash"]) is None
    assert check.checked == 4


@pytest.mark.parametrize(
    ("tamper", "sequence", "reason"),
    [
        (lambda ev: ev[2].update(op="DELETED"), 3, "was edited"),
        (lambda ev: ev.pop(1), 2, "is missing"),
        (lambda ev: ev.insert(1, ev.pop(2)), 2, "is missing"),
        (
            lambda ev: (
                ev[1].update(sequence=3) or ev[2].update(sequence=2) or ev.insert(1, ev.pop(2))
            ),
            2,
            "does not follow",
        ),
        (lambda ev: ev[0].pop("hash"), 1, "is not sealed"),
        (lambda ev: ev.insert(2, dict(ev[1])), 2, "appears twice"),
    ],
)
def test_a_tampered_chain_names_the_first_bad_sequence(
    tamper: Any, sequence: int, reason: str
) -> None:
    events = _chain(4)
    tamper(events)
    check = ChainCheck()
    for e in events:
        if not check.feed(e):
            break
    broken = check.finish(4, None)
    assert broken is not None
    assert broken.sequence == sequence
    assert reason in broken.reason


def test_a_missing_tail_and_a_foreign_head_are_caught_by_the_counter() -> None:
    events = _chain(3)
    check = ChainCheck()
    for e in events[:2]:
        check.feed(e)
    assert check.finish(3, events[-1]["hash"]) == ChainBreak(
        3, "is missing: the log ends at 2 but 3 were recorded"
    )
    check = ChainCheck()
    for e in events:
        check.feed(e)
    broken = check.finish(3, "f" * 64)
    assert broken is not None
    assert broken.sequence == 3


def test_actors_say_how_they_acted() -> None:
    assert actor_properties("alice") == {
        "actor": "alice",
        "actorVia": "cli",
        "actorSubject": None,
        "actorDisplayName": None,
    }
    person = Principal("sub-1", Role.DPO, frozenset({"s"}), Via.SESSION, "sub-1", "Ann Smith")
    assert actor_properties(person)["actorVia"] == "session"
    assert actor_properties(person)["actorDisplayName"] == "Ann Smith"
    token = Principal("dpo-allestree", Role.DPO, frozenset({"s"}))
    assert actor_properties(token)["actorVia"] == "token"
    with pytest.raises(ValueError, match="name"):
        actor_properties(" ")
