"""Inside a write transaction: what the client's names refer to, and fresh ids for new entities.

References are resolved as `graph.read.refs` resolves them for queries (an exact id wins, else a
name in any case that must name one thing), but in the transaction that writes, so that what is
checked is what is written. Problems are collected, not raised, so that a request learns of all
of them at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from neo4j import AsyncManagedTransaction

from graph import model as m
from schema.change_requests import FieldProblem

_ORGANISATIONS = """
UNWIND $refs AS ref
MATCH (n:Organisation)
WHERE n.id = toLower(ref) OR toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""

_CATEGORIES = """
UNWIND $refs AS ref
MATCH (n:DataCategory)
WHERE n.id = toLower(ref) OR toLower(n.name) = toLower(ref)
RETURN ref, n.id AS id
"""

# Ids in use, or used before: a removed entity's id is not given to another, whose history
# would otherwise read as the same entity's.
_TAKEN = """
CALL () {
  MATCH (n:Entity) WHERE n.key STARTS WITH $keyPrefix RETURN n.id AS id
  UNION
  MATCH (c:ChangeEvent) WHERE c.entityType = $kind AND c.entityId STARTS WITH $stem
  RETURN c.entityId AS id
}
RETURN collect(id) AS ids
"""

MAX_ID = 80
# Room for a "-NN" suffix within the document's 80 characters.
_STEM = MAX_ID - 6


def slug(name: str) -> str:
    """A document id made from a name: 'Société Générale Ltd.' -> 'societe-generale-ltd'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:_STEM].strip("-") or "organisation"


async def _candidates(
    tx: AsyncManagedTransaction, query: str, refs: list[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    async for record in await tx.run(query, refs=sorted(set(refs))):
        found[record["ref"]].append(record["id"])
    return found


def _pick(ref: str, ids: list[str]) -> str | None:
    if ref.lower() in ids:
        return ref.lower()
    return ids[0] if len(ids) == 1 else None


async def organisation(
    tx: AsyncManagedTransaction, ref: str, field: str, problems: list[FieldProblem]
) -> tuple[str | None, bool]:
    """(its id, whether it names several) for the organisation `ref` names.

    (None, False) when it names none, which is for the caller to judge (a sub-processor not
    yet known is created); a name that several organisations share is a problem for `field`.
    """
    ids = (await _candidates(tx, _ORGANISATIONS, [ref])).get(ref, [])
    found = _pick(ref, ids)
    if found is None and ids:
        message = f"'{ref}' names several organisations: use one of the ids {sorted(ids)}"
        problems.append(FieldProblem(field, message))
        return None, True
    return found, False


async def categories(
    tx: AsyncManagedTransaction, refs: tuple[str, ...], problems: list[FieldProblem]
) -> list[str]:
    """The ids of the data categories `refs` name, sorted, without repeats; unknown ones are
    problems of the field `categories`."""
    found = await _candidates(tx, _CATEGORIES, list(refs))
    ids: set[str] = set()
    for ref in refs:
        candidates = found.get(ref, [])
        picked = _pick(ref, candidates)
        if picked is not None:
            ids.add(picked)
        elif candidates:
            message = f"'{ref}' names several data categories: use one of the ids {candidates}"
            problems.append(FieldProblem("categories", message))
        else:
            problems.append(FieldProblem("categories", f"no data category with id or name '{ref}'"))
    return sorted(ids)


async def free_id(tx: AsyncManagedTransaction, kind: str, stem: str) -> str:
    """`stem`, or `stem-2`, `stem-3`, ...: the first that no entity of `kind` has ever had."""
    result = await tx.run(_TAKEN, keyPrefix=m.entity_key(kind, stem), kind=kind, stem=stem)
    record = await result.single()
    taken = set(record["ids"]) if record is not None else set()
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"
