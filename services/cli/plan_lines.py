"""How `ropa plan`, `ropa apply` and `ropa dev` print a plan: one line per change, a summary."""

from __future__ import annotations

from graph import register


def describe(change: register.Change) -> str:
    """`+ create KIND ID`, `~ change KIND ID (fields)` or `- remove KIND ID`."""
    entity = change.entity
    if change.op == "CREATED":
        return f"+ create {entity.kind} {entity.id}"
    if change.op == "DELETED":
        return f"- remove {entity.kind} {entity.id}"
    return f"~ change {entity.kind} {entity.id} ({', '.join(change.fields_changed())})"


def summary(plan: register.Plan) -> str:
    """`N to create, N to change, N to remove`."""
    return (
        f"{len(plan.by_op('CREATED'))} to create, {len(plan.by_op('UPDATED'))} to change, "
        f"{len(plan.by_op('DELETED'))} to remove"
    )
