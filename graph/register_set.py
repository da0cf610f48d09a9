"""Plan and apply several registers at once (`ropa apply A.yaml B.yaml`), in one transaction.

Each document is its own register, planned as `register.plan_in` plans it. The registers share
entities by id, so each plan is made against the graph as the registers before it would leave
it: a shared entity that the first document changes is not changed again by the second when
it agrees. Removals are written last, once every register has declared what it keeps: an
entity that moves from one register to another (the school's copies of School Transition
Limited's engagements, now declared by STL's own register) is never deleted and re-created
on the way, so no one is told of a sub-processor removed and added again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from neo4j import AsyncManagedTransaction

from graph import changes
from graph import model as m
from graph.database import Database
from graph.register import Plan, current_state, declared_by, diff, write_changes
from schema.audit import Author

Desired = tuple[str, list[m.Entity]]


async def plan_all_in(tx: AsyncManagedTransaction, documents: list[Desired]) -> list[Plan]:
    """Each register's plan, in order, each against the graph the ones before would leave."""
    written: dict[str, m.Entity] = {}
    plans: list[Plan] = []
    for register, desired in documents:
        current = {
            key: written.get(key, entity)
            for key, entity in (await current_state(tx, register)).items()
        }
        plan = diff(register, current, desired)
        written.update({c.after.key: c.after for c in plan.changes if c.after is not None})
        plans.append(plan)
    return await _shared(tx, plans)


async def _shared(tx: AsyncManagedTransaction, plans: list[Plan]) -> list[Plan]:
    """The plans with each creation of an entity another register holds already, and each
    removal of one another register still holds, marked `shared`, in the order `apply_all_in`
    writes them: creations register by register, then removals."""
    keys = sorted({c.entity.key for p in plans for c in p.changes if c.op != "UPDATED"})
    declaring = await declared_by(tx, keys) if keys else {}
    marked: dict[tuple[str, str], bool] = {}
    for plan in plans:
        for change in plan.by_op("CREATED"):
            holders = declaring.setdefault(change.entity.key, set())
            marked[(plan.register, change.entity.key)] = bool(holders)
            holders.add(plan.register)
    for plan in plans:
        for change in plan.by_op("DELETED"):
            holders = declaring.setdefault(change.entity.key, set())
            holders.discard(plan.register)
            marked[(plan.register, change.entity.key)] = bool(holders)
    for plan in plans:
        plan.changes = [
            replace(c, shared=marked.get((plan.register, c.entity.key), False))
            for c in plan.changes
        ]
    return plans


async def apply_all_in(
    tx: AsyncManagedTransaction,
    documents: list[Desired],
    actor: Author,
    progress: Callable[[str], None] = lambda _: None,
    occurred_at: dt.datetime | None = None,
) -> list[Plan]:
    """Make the graph match every document in `tx`: creations and changes register by
    register, then the removals; one change event per change, as `register.apply_in`."""
    await changes.lock(tx)
    plans = await plan_all_in(tx, documents)
    for plan in plans:
        kept = [c for c in plan.changes if c.op != "DELETED"]
        if kept:
            await write_changes(tx, plan.register, kept, actor, progress, occurred_at)
    for plan in plans:
        removed = plan.by_op("DELETED")
        if removed:
            await write_changes(tx, plan.register, removed, actor, progress, occurred_at)
    return plans


async def plan_all(db: Database, documents: list[Desired]) -> list[Plan]:
    """What applying every document would change (read transaction)."""
    return await db.read(plan_all_in, documents)


async def apply_all(
    db: Database,
    documents: list[Desired],
    actor: Author,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Plan]:
    """Apply every document in one write transaction: all of it commits, or none."""
    return await db.write(apply_all_in, documents, actor, progress, None)
