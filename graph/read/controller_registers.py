"""Which registers make up a controller's record, now or as recorded at a past moment.

A controller's record is read from the registers it owns and those declaring an activity it
(jointly) controls, in the caller's scope, and the sub-processors of its processing from the
registers its processors keep themselves (Article 30(2)), in scope or not.

Now, the graph answers these questions (an id or a name is resolved as the API resolves it).
At a past moment T, every one of them is answered in the record as recorded at T, never in
today's graph: the name is one an organisation had then (a controller renamed or removed since
is found by its name at T; a name given only since is NotRecorded), and the owners, the
activities and their processors are those recorded then. `graph.read.snapshots` rebuilds each
register; those in scope are rebuilt to find the name and the registers, and of the others
only those that could have been kept by one of its processors then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from neo4j import AsyncManagedTransaction

from graph import model as m
from graph.read import refs
from graph.read.snapshots import Horizon, Snapshot, covered, register_snapshots
from schema.errors import ErrorCode, NotFound, RopaError
from schema.graphql.records import RefKind


class ControllerAmbiguous(RopaError):
    """No controller was named and the graph holds registers of several (or none)."""

    code = ErrorCode.CONTROLLER_AMBIGUOUS

    def __init__(self, owners: list[str]) -> None:
        self.owners = owners
        found = ", ".join(owners) if owners else "none"
        super().__init__(f"name a controller: the registers have several owners ({found})")


@dataclass(frozen=True)
class ControllerRegisters:
    """The controller's id; its registers read, each with its entities (its own node among
    them); and the entities of each register its processors keep."""

    controller: str
    own: dict[str, dict[str, Snapshot]]
    kept: list[dict[str, Snapshot]]


# The owners of the given registers (a principal's scope), and whether each controls an
# activity (a processor keeping its own Article 30(2) register controls none).
_OWNERS_OF = """
UNWIND $registers AS id
MATCH (:Register {id: id})-[:OWNED_BY]->(o:Organisation)
WITH DISTINCT o
RETURN o.id AS id,
       EXISTS { (:ProcessingActivity)-[:CONTROLLED_BY|JOINT_CONTROLLER]->(o) } AS controls
ORDER BY id
"""

# Registers the controller owns, and registers that declare an activity it (jointly) controls.
_CONTROLLER_REGISTERS = """
MATCH (org:Organisation {id: $controller})
OPTIONAL MATCH (owned:Register)-[:OWNED_BY]->(org)
WITH org, collect(owned.id) AS owned
OPTIONAL MATCH (reg:Register)-[:DECLARES]->(:ProcessingActivity)
               -[:CONTROLLED_BY|JOINT_CONTROLLER]->(org)
WITH owned, collect(DISTINCT reg.id) AS declaring
RETURN owned + declaring AS registers
"""

# The registers kept by the processors of the activities the controller (jointly) controls
# (a processor's own Article 30(2) register): they declare the sub-processors of its
# processing, which its record reads from there.
_PROCESSOR_REGISTERS = """
MATCH (a:ProcessingActivity)-[:CONTROLLED_BY|JOINT_CONTROLLER]->(:Organisation {id: $controller})
MATCH (a)-[:PROCESSOR]->(:Organisation)<-[:OWNED_BY]-(reg:Register)
RETURN collect(DISTINCT reg.id) AS registers
"""

_OWNERS = """
MATCH (:Register)-[:OWNED_BY]->(org:Organisation)
WITH DISTINCT org
RETURN org.id AS id,
       EXISTS { (:ProcessingActivity)-[:CONTROLLED_BY|JOINT_CONTROLLER]->(org) } AS controls
ORDER BY id
"""

_REGISTER_IDS = "MATCH (reg:Register) RETURN reg.id AS id ORDER BY id"

# Of the given registers, those that may have been kept in the record up to sequence `$upto`
# by one of `$owners`: owned by one of them now, or whose own node has changed since (its
# owner may have).
_MAYBE_OWNED_THEN = """
UNWIND $registers AS id
MATCH (reg:Register {id: id})
WHERE EXISTS { (reg)-[:OWNED_BY]->(o:Organisation) WHERE o.id IN $owners }
   OR EXISTS { MATCH (c:ChangeEvent {entityType: 'Register', entityId: id})
               WHERE c.sequence > $upto }
RETURN collect(reg.id) AS registers
"""


def _pick_controller(rows: list[tuple[str, bool]]) -> str:
    """The one controller among the register owners (id, controls an activity); a processor's
    own register (School Transition Limited's beside the school's) does not make the school's
    record ambiguous."""
    owners = sorted({owner for owner, _ in rows})
    controllers = sorted({owner for owner, controls in rows if controls})
    if len(controllers) == 1:
        return controllers[0]
    if len(owners) != 1:
        raise ControllerAmbiguous(owners)
    return owners[0]


async def _controller_now(
    tx: AsyncManagedTransaction, controller: str | None, scope: frozenset[str] | None
) -> str:
    if controller is not None:
        # An id or a name, any case, as the API resolves it, in this same transaction.
        (answer,) = await refs.resolve_in(tx, [(RefKind.ORGANISATION, controller)])
        if isinstance(answer, NotFound):
            raise NotFound("controller", controller)
        if isinstance(answer, refs.AmbiguousReference):
            raise answer
        return answer
    if scope is None:
        result = await tx.run(_OWNERS)
    else:
        result = await tx.run(_OWNERS_OF, registers=sorted(scope))
    return _pick_controller([(str(r["id"]), bool(r["controls"])) async for r in result])


async def now(
    tx: AsyncManagedTransaction, controller: str | None, scope: frozenset[str] | None
) -> ControllerRegisters:
    """The controller's registers in the graph as it is (see the module's docstring)."""
    org = await _controller_now(tx, controller, scope)
    record = await (await tx.run(_CONTROLLER_REGISTERS, controller=org)).single()
    registers = sorted(set(record["registers"])) if record is not None else []
    registers = [r for r in registers if scope is None or r in scope]
    if not registers:
        raise NotFound("controller", org)
    kept = await (await tx.run(_PROCESSOR_REGISTERS, controller=org)).single()
    extra = sorted(set(kept["registers"]) - set(registers)) if kept is not None else []
    own = {r: await register_snapshots(tx, r) for r in registers}
    return ControllerRegisters(org, own, [await register_snapshots(tx, r) for r in extra])


def _target(link: dict[str, object]) -> str:
    return str(link["to"]).partition(":")[2]


def _owner(register: str, state: dict[str, Snapshot]) -> str:
    """Who kept the register (its node's OWNED_BY), in a state with its node in it."""
    node = state[m.entity_key(m.REGISTER, register)]
    owners = [_target(link) for link in node.get("links", []) if link["type"] == "OWNED_BY"]
    return owners[0] if owners else register


def _activities(state: dict[str, Snapshot], org: str) -> list[Snapshot]:
    """The activities of a register's state that `org` (jointly) controls."""
    key = m.entity_key(m.ORGANISATION, org)
    return [
        snap
        for snap in state.values()
        if snap["kind"] == m.ACTIVITY
        and any(
            link["type"] in ("CONTROLLED_BY", "JOINT_CONTROLLER") and link["to"] == key
            for link in snap.get("links", [])
        )
    ]


def _organisations(states: Iterable[dict[str, Snapshot]]) -> set[tuple[str, str]]:
    return {
        (snap["id"], str(snap["props"].get("name") or ""))
        for state in states
        for snap in state.values()
        if snap["kind"] == m.ORGANISATION
    }


async def _rebuilt(
    tx: AsyncManagedTransaction, registers: Iterable[str], upto: Horizon
) -> dict[str, dict[str, Snapshot]]:
    """Each register's entities in the record `upto` names, for those recorded by then."""
    out: dict[str, dict[str, Snapshot]] = {}
    for register in registers:
        state = await register_snapshots(tx, register, upto=upto)
        if m.entity_key(m.REGISTER, register) in state:
            out[register] = state
    return out


async def recorded(
    tx: AsyncManagedTransaction,
    controller: str | None,
    at: dt.datetime,
    scope: frozenset[str] | None,
) -> ControllerRegisters:
    """The controller's registers in the record as recorded at `at` (see the module's
    docstring): NotRecorded for a name or id that named no organisation then."""
    every = [str(r["id"]) async for r in await tx.run(_REGISTER_IDS)]
    upto = await covered(tx, at)
    states = await _rebuilt(tx, [r for r in every if scope is None or r in scope], upto)
    if controller is not None:
        answer = refs.resolve_recorded(
            RefKind.ORGANISATION, controller, _organisations(states.values()), at
        )
        if isinstance(answer, Exception):
            raise answer
        org = answer
    else:
        owners = {_owner(r, s) for r, s in states.items()}
        org = _pick_controller(
            [(o, any(_activities(s, o) for s in states.values())) for o in sorted(owners)]
        )
    own = {r: s for r, s in states.items() if _owner(r, s) == org or _activities(s, org)}
    if not own:
        raise refs.NotRecorded("controller", org, at)
    processors = processors_of(own.values(), org)
    others = [r for r in every if r not in own]
    known = {r: states[r] for r in others if r in states}
    outside = [r for r in others if r not in states]
    kept = kept_by(known, processors) | await kept_then(tx, outside, processors, upto)
    return ControllerRegisters(org, own, list(kept.values()))


def processors_of(states: Iterable[dict[str, Snapshot]], org: str | None = None) -> list[str]:
    """The processors appointed in the activities of these states (those `org` controls, if
    given)."""
    return sorted(
        {
            _target(link)
            for state in states
            for activity in (
                _activities(state, org)
                if org is not None
                else [s for s in state.values() if s["kind"] == m.ACTIVITY]
            )
            for link in activity.get("links", [])
            if link["type"] == "PROCESSOR"
        }
    )


def kept_by(
    states: dict[str, dict[str, Snapshot]], processors: Iterable[str]
) -> dict[str, dict[str, Snapshot]]:
    """Those of the registers' states that one of `processors` kept."""
    wanted = set(processors)
    return {r: s for r, s in states.items() if _owner(r, s) in wanted}


async def _maybe_owned(
    tx: AsyncManagedTransaction, registers: list[str], owners: list[str], upto: Horizon
) -> list[str]:
    if not registers or not owners:
        return []
    result = await tx.run(_MAYBE_OWNED_THEN, registers=registers, owners=owners, upto=upto.sequence)
    found = await result.single()
    return list(found["registers"]) if found is not None else []


async def kept_then(
    tx: AsyncManagedTransaction, registers: list[str], processors: list[str], upto: Horizon
) -> dict[str, dict[str, Snapshot]]:
    """Those of `registers` that one of `processors` kept in the record `upto` names, each as
    recorded then (only those that could have been are rebuilt)."""
    candidates = await _maybe_owned(tx, registers, processors, upto)
    return kept_by(await _rebuilt(tx, candidates, upto), processors)
