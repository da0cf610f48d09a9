"""Organisations and systems, by id or all of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from graph.database import Database, Runner
from graph.read.properties import light_fields, own_fields
from graph.read.values import first
from schema import document as d
from schema.graphql.records import (
    OrganisationRecord,
    OrganisationRole,
    SystemRecord,
)
from schema.node_properties import node_properties

# The registers declaring a node `n`: who may read it (schema.access.policy).
_REGISTERS_OF_N = "COLLECT { MATCH (reg:Register)-[:DECLARES]->(n) RETURN reg.id } AS registers"
_ORGANISATIONS_BY_ID = (
    """
UNWIND $ids AS id
MATCH (n:Organisation {id: id})
RETURN n {.*} AS props, """
    + _REGISTERS_OF_N
)
_ALL_ORGANISATIONS = "MATCH (n:Organisation) RETURN n {.*} AS props, " + _REGISTERS_OF_N
# Only the values of `$keys`, in their order, for a list whose selection asks no more: each
# value the driver decodes costs the registry's CPU, which a list of hundreds multiplies.
_ALL_ORGANISATION_PROPERTIES = (
    "MATCH (n:Organisation) RETURN [key IN $keys | n[key]] AS values, " + _REGISTERS_OF_N
)
# The node properties behind each field of OrganisationRecord.
PROPERTY_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    **{prop.field: prop.stored_keys() for prop in node_properties(d.Organisation)},
}

# The roles each organisation plays: they live on the relationships around it.
_ROLES = """
MATCH (o:Organisation)
WITH o, [
  CASE WHEN EXISTS { (o)<-[:CONTROLLED_BY]-(:ProcessingActivity) } THEN 'controller' END,
  CASE WHEN EXISTS { (o)<-[:JOINT_CONTROLLER]-(:ProcessingActivity) } THEN 'joint-controller' END,
  CASE WHEN EXISTS { (o)<-[:PROCESSOR]-(:ProcessingActivity) }
         OR EXISTS { (o)<-[:TO]-(d:Disclosure) WHERE d.recipientRole = 'processor' }
       THEN 'processor' END,
  CASE WHEN EXISTS { (o)<-[:SUB_PROCESSOR]-(:Engagement) } THEN 'sub-processor' END,
  CASE WHEN EXISTS { (o)<-[:TO]-(:Disclosure) } THEN 'recipient' END
] AS found
RETURN o.id AS id, [role IN found WHERE role IS NOT NULL] AS roles
"""

_SYSTEM_FIELDS = """
RETURN s {.*} AS props,
       COLLECT { MATCH (s)-[:OPERATED_BY]->(o:Organisation) RETURN o.id } AS operator,
       COLLECT { MATCH (reg:Register)-[:DECLARES]->(s) RETURN reg.id } AS registers
"""
_SYSTEMS_BY_ID = "UNWIND $ids AS id MATCH (s:System {id: id})" + _SYSTEM_FIELDS
_ALL_SYSTEMS = "MATCH (s:System)" + _SYSTEM_FIELDS


def organisation(props: Mapping[str, Any], registers: Iterable[str] = ()) -> OrganisationRecord:
    """The record of an Organisation node's properties, declared by `registers`."""
    fields = own_fields(OrganisationRecord, d.Organisation, props)
    return OrganisationRecord(**fields, registers=tuple(sorted(registers)))


def system(record: Mapping[str, Any]) -> SystemRecord:
    """The record of a System read as _SYSTEM_FIELDS returns it ({props, operator, registers})."""
    return SystemRecord(
        **own_fields(SystemRecord, d.System, record["props"]),
        operator_id=first(record["operator"]),
        registers=tuple(sorted(record["registers"])),
    )


async def _organisations(tx: Runner, /, ids: list[str] | None) -> list[OrganisationRecord]:
    if ids is None:
        result = await tx.run(_ALL_ORGANISATIONS)
    else:
        result = await tx.run(_ORGANISATIONS_BY_ID, ids=ids)
    return [organisation(record["props"], record["registers"]) async for record in result]


def _property_row(keys: list[str], record: Sequence[Any]) -> OrganisationRecord:
    # An _ALL_ORGANISATION_PROPERTIES row: what `organisation` makes of the same properties.
    values, registers = record
    props = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
    return OrganisationRecord(
        **light_fields(OrganisationRecord, d.Organisation, keys)(props),
        registers=tuple(sorted(registers)),
    )


async def _property_rows(tx: Runner, /, keys: list[str]) -> list[OrganisationRecord]:
    result = await tx.run(_ALL_ORGANISATION_PROPERTIES, keys=keys)
    return [_property_row(keys, record) async for record in result]


async def _systems(tx: Runner, /, ids: list[str] | None) -> list[SystemRecord]:
    if ids is None:
        result = await tx.run(_ALL_SYSTEMS)
    else:
        result = await tx.run(_SYSTEMS_BY_ID, ids=ids)
    return [system(record) async for record in result]


async def organisations_by_id(db: Database, ids: list[str]) -> dict[str, OrganisationRecord]:
    """The organisations with these ids (one read transaction)."""
    return await db.read_one(organisations_in, ids)


async def organisations_in(tx: Runner, ids: list[str]) -> dict[str, OrganisationRecord]:
    """The organisations with these ids, by id (in a read transaction)."""
    return {o.id: o for o in await _organisations(tx, ids)}


async def all_organisations(
    db: Database, *, fields: Collection[str] | None = None
) -> list[OrganisationRecord]:
    """Every organisation, by name (one read transaction). With `fields` (of
    OrganisationRecord), the records hold only those (and the id, name, kind and registers),
    for a caller that needs no more; the rest is left empty."""
    if fields is None:
        found = await db.read_one(_organisations, None)
    else:
        keys = sorted({"id", "name", "kind"}.union(*(PROPERTY_KEYS[f] for f in fields)))
        found = await db.read_one(_property_rows, keys)
    return sorted(found, key=lambda o: (o.name.lower(), o.id))


async def systems_by_id(db: Database, ids: list[str]) -> dict[str, SystemRecord]:
    """The systems with these ids (one read transaction)."""
    return {s.id: s for s in await db.read_one(_systems, ids)}


async def all_systems(db: Database) -> list[SystemRecord]:
    """Every system, by name (one read transaction)."""
    return sorted(await db.read_one(_systems, None), key=lambda s: (s.name.lower(), s.id))


async def _roles(tx: Runner, /) -> dict[str, frozenset[OrganisationRole]]:
    result = await tx.run(_ROLES)
    return {
        record["id"]: frozenset(OrganisationRole(r) for r in record["roles"])
        async for record in result
    }


async def organisation_roles(db: Database) -> dict[str, frozenset[OrganisationRole]]:
    """The roles each organisation plays anywhere in the graph (one read transaction)."""
    return await db.read_one(_roles)
