"""How `ropa plan`, `ropa apply` and `ropa dev` print a plan: one line per change, a summary."""

from __future__ import annotations

from graph import model as m
from graph import register


def describe(change: register.Change) -> str:
    """`+ create KIND ID`, `~ change KIND ID (fields)` or `- remove KIND ID`; `+ declare` /
    `- let go` where another register declares the entity too (it is neither created nor
    removed: no one is told of a sub-processor added or removed)."""
    entity = change.entity
    if change.op == "CREATED":
        if change.shared:
            return f"+ declare {entity.kind} {entity.id} (another register declares it already)"
        return f"+ create {entity.kind} {entity.id}"
    if change.op == "DELETED":
        if change.shared:
            return f"- let go {entity.kind} {entity.id} (another register still declares it)"
        if entity.kind == m.ENGAGEMENT:
            # Taken up by another register in a later apply, it would be told removed, then
            # added: apply both at once, or the one taking it up first (docs/api-changes.md).
            return (
                f"- remove {entity.kind} {entity.id} (no other register declares it: "
                "subscribers are told it is removed)"
            )
        return f"- remove {entity.kind} {entity.id}"
    return f"~ change {entity.kind} {entity.id} ({', '.join(change.fields_changed())})"


def summary(plan: register.Plan) -> str:
    """`N to create, N to change, N to remove`."""
    return (
        f"{len(plan.by_op('CREATED'))} to create, {len(plan.by_op('UPDATED'))} to change, "
        f"{len(plan.by_op('DELETED'))} to remove"
    )
