"""Turning what a client typed (an id or a name, in any case) into an id."""

from __future__ import annotations

from collections import defaultdict

from neo4j import AsyncManagedTransaction

from graph.database import Database
from schema.errors import NotFound, RopaError
from schema.graphql.records import RefKind

# Ids are lower-case slugs, so the id test is exact and uses the unique index; names are
# compared lower-cased, which no index serves, so that part scans the one label only.
_ORGANISATION = """
UNWIND $refs AS ref
MATCH (n:Organisation)
WHERE n.id = toLower(ref) OR toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_ACTIVITY = """
UNWIND $refs AS ref
MATCH (n:ProcessingActivity)
WHERE n.id = toLower(ref) OR toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_DATA_CATEGORY = """
UNWIND $refs AS ref
MATCH (n:DataCategory)
WHERE n.id = toLower(ref) OR toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_LEGAL_BASIS = """
UNWIND $refs AS ref
MATCH (n:LegalBasis)
WHERE n.id = toLower(ref) OR toLower(n.title) = toLower(ref)
RETURN ref, n.id AS id
"""
_QUERIES = {
    RefKind.ORGANISATION: _ORGANISATION,
    RefKind.ACTIVITY: _ACTIVITY,
    RefKind.DATA_CATEGORY: _DATA_CATEGORY,
    RefKind.LEGAL_BASIS: _LEGAL_BASIS,
}


class AmbiguousReference(RopaError):
    """A name that several things of one kind share, and that is no one's id."""

    code = "BAD_USER_INPUT"

    def __init__(self, kind: str, ref: str, ids: list[str]) -> None:
        self.kind = kind
        self.ref = ref
        self.ids = ids
        super().__init__(f"'{ref}' names several of kind {kind}: use one of the ids {ids}")


async def _candidates(
    tx: AsyncManagedTransaction, kind: RefKind, refs: list[str]
) -> dict[str, list[str]]:
    result = await tx.run(_QUERIES[kind], refs=refs)
    found: dict[str, list[str]] = defaultdict(list)
    async for record in result:
        found[record["ref"]].append(record["id"])
    return found


def _pick(kind: RefKind, ref: str, ids: list[str]) -> str | NotFound | AmbiguousReference:
    if ref.lower() in ids:
        return ref.lower()
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return NotFound(kind.value, ref)
    return AmbiguousReference(kind.value, ref, sorted(ids))


async def resolve(
    db: Database, kind: RefKind, refs: list[str]
) -> list[str | NotFound | AmbiguousReference]:
    """The id each ref names, or the error to raise for it, in order (one read transaction).

    An exact id wins over a name; a name must name exactly one thing.
    """
    found = await db.read(_candidates, kind, sorted(set(refs)))
    return [_pick(kind, ref, found.get(ref, [])) for ref in refs]
