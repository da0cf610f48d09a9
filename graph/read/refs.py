"""Turning what a client typed (an id or a name, in any case) into an id."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from graph.database import Database, Runner
from schema.errors import ErrorCode, NotFound, RopaError
from schema.graphql.records import RefKind

# Ids are lower-case slugs, found through the unique index. Names are compared lower-cased,
# which no index serves, so that query scans the labels, and only for refs no id matched. Every
# kind is looked up in the same statement: an operation that names a category and a controller
# costs one read, not one per kind.
_IDS = """
UNWIND $refs AS ref
CALL (ref) {
  MATCH (n:Organisation {id: ref.id}) WHERE ref.kind = 'organisation' RETURN n.id AS id
  UNION ALL
  MATCH (n:ProcessingActivity {id: ref.id}) WHERE ref.kind = 'activity' RETURN n.id AS id
  UNION ALL
  MATCH (n:DataCategory {id: ref.id}) WHERE ref.kind = 'data category' RETURN n.id AS id
  UNION ALL
  MATCH (n:LegalBasis {id: ref.id}) WHERE ref.kind = 'legal basis' RETURN n.id AS id
}
RETURN ref.kind AS kind, id
"""
_NAMES = """
UNWIND $refs AS ref
CALL (ref) {
  MATCH (n:Organisation) WHERE ref.kind = 'organisation' AND toLower(n.name) = toLower(ref.ref)
  RETURN n.id AS id
  UNION ALL
  MATCH (n:ProcessingActivity)
  WHERE ref.kind = 'activity' AND toLower(n.name) = toLower(ref.ref)
  RETURN n.id AS id
  UNION ALL
  MATCH (n:DataCategory)
  WHERE ref.kind = 'data category' AND toLower(n.name) = toLower(ref.ref)
  RETURN n.id AS id
  UNION ALL
  MATCH (n:LegalBasis) WHERE ref.kind = 'legal basis' AND toLower(n.title) = toLower(ref.ref)
  RETURN n.id AS id
}
RETURN ref.kind AS kind, ref.ref AS ref, id
"""
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


class AmbiguousReference(RopaError):
    """A name that several things of one kind share, and that is no one's id."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, kind: str, ref: str, ids: list[str]) -> None:
        self.kind = kind
        self.ref = ref
        self.ids = ids
        super().__init__(f"'{ref}' names several of kind {kind}: use one of the ids {ids}")


async def _ids(tx: Runner, /, wanted: list[tuple[RefKind, str]]) -> set[tuple[RefKind, str]]:
    result = await tx.run(_IDS, refs=[{"kind": k.value, "id": i} for k, i in wanted])
    return {(RefKind(record["kind"]), record["id"]) async for record in result}


async def _names(
    tx: Runner, /, wanted: list[tuple[RefKind, str]]
) -> dict[tuple[RefKind, str], list[str]]:
    result = await tx.run(_NAMES, refs=[{"kind": k.value, "ref": r} for k, r in wanted])
    found: dict[tuple[RefKind, str], list[str]] = defaultdict(list)
    async for record in result:
        found[(RefKind(record["kind"]), record["ref"])].append(record["id"])
    return found


def _pick(kind: RefKind, ref: str, ids: list[str]) -> str | NotFound | AmbiguousReference:
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return NotFound(kind.value, ref)
    return AmbiguousReference(kind.value, ref, sorted(ids))


Answer = str | NotFound | AmbiguousReference


async def resolve_many(db: Database, wanted: list[tuple[RefKind, str]]) -> list[Answer]:
    """The id each (kind, ref) names, or the error to raise for it, in order.

    An exact id (any case) wins over a name; a name must name exactly one thing. One read
    transaction for the refs that look like ids, of whatever kinds, and one more for those that
    matched no id.
    """
    slugs = _slugs(wanted)
    exact = await db.read_one(_ids, slugs) if slugs else set()
    misses = _misses(wanted, exact)
    named = await db.read_one(_names, misses) if misses else {}
    return _answers(wanted, exact, named)


async def resolve_in(tx: Runner, wanted: list[tuple[RefKind, str]]) -> list[Answer]:
    """`resolve_many` inside a transaction the caller goes on reading in, so that resolving a
    ref costs no round trip of its own."""
    slugs = _slugs(wanted)
    exact = await _ids(tx, slugs) if slugs else set()
    misses = _misses(wanted, exact)
    named = await _names(tx, misses) if misses else {}
    return _answers(wanted, exact, named)


def may_be_id(ref: str) -> bool:
    """Whether `ref` could be an id (a slug, in any case), not only a name."""
    return _SLUG.fullmatch(ref.lower()) is not None


def _slugs(wanted: list[tuple[RefKind, str]]) -> list[tuple[RefKind, str]]:
    return sorted({(k, r.lower()) for k, r in wanted if _SLUG.fullmatch(r.lower())})


def _misses(
    wanted: list[tuple[RefKind, str]], exact: set[tuple[RefKind, str]]
) -> list[tuple[RefKind, str]]:
    return sorted({(k, r) for k, r in wanted if (k, r.lower()) not in exact})


def _answers(
    wanted: list[tuple[RefKind, str]],
    exact: set[tuple[RefKind, str]],
    named: dict[tuple[RefKind, str], list[str]],
) -> list[Answer]:
    return [
        r.lower() if (k, r.lower()) in exact else _pick(k, r, named.get((k, r), []))
        for k, r in wanted
    ]


def resolve_among(kind: RefKind, ref: str, known: Iterable[tuple[str, str]]) -> Answer:
    """What `ref` names among `known` (id, name) pairs, by the rules of `resolve_many`: an
    exact id (any case) wins over a name, and a name must name exactly one of them."""
    pairs = list(known)
    lowered = ref.lower()
    if any(key == lowered for key, _ in pairs):
        return lowered
    return _pick(kind, ref, [key for key, name in pairs if name.lower() == lowered])


class NotRecorded(NotFound):
    """A reference that named nothing in the record read (it may name something since)."""

    def __init__(self, kind: str, ref: str, recorded_at: dt.datetime) -> None:
        super().__init__(kind, ref)
        # The message names the record: the name may well be found in today's.
        self.args = (
            f"no {kind} with id or name '{ref}' in the record as recorded at "
            f"{recorded_at.isoformat()}",
        )


def resolve_recorded(
    kind: RefKind, ref: str, known: Iterable[tuple[str, str]], recorded_at: dt.datetime
) -> Answer:
    """`resolve_among` the (id, name) pairs of a record as recorded at `recorded_at`: what is
    not found there is NotRecorded, whose message says which record was read."""
    found = resolve_among(kind, ref, set(known))
    if isinstance(found, NotFound):
        return NotRecorded(kind.value, ref, recorded_at)
    return found


async def resolve(db: Database, kind: RefKind, refs: list[str]) -> list[Answer]:
    """The id each ref of one kind names, or the error to raise for it (see `resolve_many`)."""
    return await resolve_many(db, [(kind, ref) for ref in refs])
