"""What the registry's change follower reads each time the log's head moves: a page of
sub-processor changes and the organisations it names, in one read transaction (one round trip
less than two, on every change, before any subscriber is served)."""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

from graph import subprocessor_changes as spc
from graph.read.organisations import organisations_in
from schema.graphql.records import OrganisationRecord

Page = spc.ChangePage[spc.SubProcessorChange]


def named_in(changes: list[spc.SubProcessorChange]) -> list[str]:
    """The ids of the organisations these changes name, in them or in their before/after."""
    named: set[str] = set()
    for change in changes:
        named.update((change.processor, change.sub_processor))
        for view in (change.before or {}, change.after or {}):
            named.update(v for k in ("processor", "subProcessor") if (v := view.get(k)))
    return sorted(named)


async def changes_and_organisations(
    tx: AsyncManagedTransaction, after: int, limit: int
) -> tuple[Page, dict[str, OrganisationRecord]]:
    """Up to `limit` changes after the sequence `after`, oldest first, and the organisations
    they name, by id (read transaction)."""
    page = await spc.changes_page(tx, after, None, limit)
    named = named_in(page.changes)
    return page, (await organisations_in(tx, named) if named else {})
