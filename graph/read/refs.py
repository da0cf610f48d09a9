"""Turning what a client typed (an id or a name, in any case) into an id."""

from __future__ import annotations

import re
from collections import defaultdict

from neo4j import AsyncManagedTransaction

from graph.database import Database
from schema.errors import NotFound, RopaError
from schema.graphql.records import RefKind

# Ids are lower-case slugs, found through the unique index. Names are compared lower-cased,
# which no index serves, so that query scans the one label, and only for refs no id matched.
_ORGANISATION_IDS = "UNWIND $ids AS id MATCH (n:Organisation {id: id}) RETURN n.id AS id"
_ACTIVITY_IDS = "UNWIND $ids AS id MATCH (n:ProcessingActivity {id: id}) RETURN n.id AS id"
_DATA_CATEGORY_IDS = "UNWIND $ids AS id MATCH (n:DataCategory {id: id}) RETURN n.id AS id"
_LEGAL_BASIS_IDS = "UNWIND $ids AS id MATCH (n:LegalBasis {id: id}) RETURN n.id AS id"
_ORGANISATION_NAMES = """
UNWIND $refs AS ref
MATCH (n:Organisation) WHERE toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_ACTIVITY_NAMES = """
UNWIND $refs AS ref
MATCH (n:ProcessingActivity) WHERE toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_DATA_CATEGORY_NAMES = """
UNWIND $refs AS ref
MATCH (n:DataCategory) WHERE toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""
_LEGAL_BASIS_NAMES = """
UNWIND $refs AS ref
MATCH (n:LegalBasis) WHERE toLower(n.title) = toLower(ref)
RETURN ref, n.id AS id
"""
_QUERIES = {
    RefKind.ORGANISATION: (_ORGANISATION_IDS, _ORGANISATION_NAMES),
    RefKind.ACTIVITY: (_ACTIVITY_IDS, _ACTIVITY_NAMES),
    RefKind.DATA_CATEGORY: (_DATA_CATEGORY_IDS, _DATA_CATEGORY_NAMES),
    RefKind.LEGAL_BASIS: (_LEGAL_BASIS_IDS, _LEGAL_BASIS_NAMES),
}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


class AmbiguousReference(RopaError):
    """A name that several things of one kind share, and that is no one's id."""

    code = "BAD_USER_INPUT"

    def __init__(self, kind: str, ref: str, ids: list[str]) -> None:
        self.kind = kind
        self.ref = ref
        self.ids = ids
        super().__init__(f"'{ref}' names several of kind {kind}: use one of the ids {ids}")


async def _ids(tx: AsyncManagedTransaction, /, kind: RefKind, ids: list[str]) -> set[str]:
    result = await tx.run(_QUERIES[kind][0], ids=ids)
    return {record["id"] async for record in result}


async def _names(
    tx: AsyncManagedTransaction, /, kind: RefKind, refs: list[str]
) -> dict[str, list[str]]:
    result = await tx.run(_QUERIES[kind][1], refs=refs)
    found: dict[str, list[str]] = defaultdict(list)
    async for record in result:
        found[record["ref"]].append(record["id"])
    return found


def _pick(kind: RefKind, ref: str, ids: list[str]) -> str | NotFound | AmbiguousReference:
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return NotFound(kind.value, ref)
    return AmbiguousReference(kind.value, ref, sorted(ids))


async def resolve(
    db: Database, kind: RefKind, refs: list[str]
) -> list[str | NotFound | AmbiguousReference]:
    """The id each ref names, or the error to raise for it, in order.

    An exact id (any case) wins over a name; a name must name exactly one thing. One read
    transaction for the refs that look like ids, one more for those that matched no id.
    """
    slugs = sorted({ref.lower() for ref in refs if _SLUG.fullmatch(ref.lower())})
    exact = await db.read(_ids, kind, slugs) if slugs else set()
    misses = sorted({ref for ref in refs if ref.lower() not in exact})
    named = await db.read(_names, kind, misses) if misses else {}
    return [
        ref.lower() if ref.lower() in exact else _pick(kind, ref, named.get(ref, []))
        for ref in refs
    ]
