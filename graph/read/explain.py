"""Query plans: how Neo4j would run a statement, without running it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.database import Database

_EXPLAIN = "EXPLAIN "


@dataclass(frozen=True)
class Operator:
    """One operator of a plan, e.g. NodeUniqueIndexSeek, with its details text.

    Leaves are where rows come from: an index seek, a scan, or the argument of a subquery.
    """

    name: str
    details: str
    leaf: bool


def _flatten(plan: dict[str, Any]) -> list[Operator]:
    name = str(plan.get("operatorType", "")).split("@")[0]
    details = str((plan.get("args") or plan.get("arguments") or {}).get("Details", ""))
    children = plan.get("children", [])
    out = [Operator(name, details, leaf=not children)]
    for child in children:
        out.extend(_flatten(child))
    return out


async def _explain(tx: AsyncManagedTransaction, query: str, params: dict[str, Any]) -> Any:
    # `query` is one of the package's own constant statements, never client input.
    result = await tx.run(_EXPLAIN + query, params)
    summary = await result.consume()
    return summary.plan


async def operators(db: Database, query: str, params: dict[str, Any]) -> list[Operator]:
    """Every operator of the plan Neo4j picks for `query` (one read transaction; runs nothing)."""
    plan = await db.read(_explain, query, params)
    if not isinstance(plan, dict):
        raise TypeError(f"EXPLAIN gave no plan for the statement: {plan!r}")
    return _flatten(plan)
