"""A sub-processor change in words: the text of Atom entries and e-mail notices (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schema.graphql.writes import ChangeRecord

ADDED = "ADDED"
CHANGED = "CHANGED"
REMOVED = "REMOVED"
# Shown instead of the actor of a change (a person) to readers who may not see it: anonymous
# feed readers, e-mail subscribers (schema.access.policy: actors are personal data).
WITHHELD = "(withheld)"

_FIELDS = (
    ("purpose", "Purpose"),
    ("dataCategories", "Data categories"),
    ("location", "Location"),
    ("since", "Since"),
    ("until", "Until"),
    ("status", "Status"),
    ("noticeDate", "Notice date"),
    ("activity", "Activity"),
    ("contract", "Contract"),
)


def _value(value: Any) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe(change: ChangeRecord, sub: str, processor: str, actor: bool = True) -> str:
    """What a change did, in plain text: a line for the change, one per changed field, and the
    engagement as it now stands (or was, when removed); who recorded it only with `actor`
    (else WITHHELD)."""
    before, after = change.before or {}, change.after or {}
    if change.type == ADDED and after.get("status") == "proposed":
        lines = [f"{sub} was announced as a new sub-processor of {processor}."]
    elif change.type == ADDED:
        lines = [f"{sub} was added as a sub-processor of {processor}."]
    elif before.get("status") == "proposed" and after.get("status") == "active":
        lines = [f"The announced engagement of {sub} by {processor} now takes effect."]
    elif change.type == REMOVED:
        lines = [f"{sub} was removed from the sub-processors of {processor}."]
    else:
        lines = [f"The engagement of {sub} as a sub-processor of {processor} changed."]
    lines.append(f"Effective from {change.effective_from.isoformat()}.")
    if before and after:
        lines.append("")
        lines.extend(
            f"{label}: {_value(before.get(key))} -> {_value(after.get(key))}"
            for key, label in _FIELDS
            if before.get(key) != after.get(key)
        )
    lines.append("")
    lines.append("The engagement as it now stands:" if after else "The engagement as it was:")
    state = after or before
    lines.extend(f"{label}: {_value(state.get(key))}" for key, label in _FIELDS)
    lines.append("")
    lines.append(
        f"Recorded {stamp(change.occurred_at)} by {change.actor if actor else WITHHELD} "
        f"(change {change.sequence}, "
        f"id {change.id})."
    )
    return "\n".join(lines)


def stamp(moment: dt.datetime) -> str:
    """RFC 3339 (a naive time is taken as UTC), as Atom and mail headers want it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.isoformat()


def title(change: ChangeRecord, sub: str, processor: str) -> str:
    """A one-line summary: the subject of a notice, the title of an entry."""
    after = change.after or {}
    if change.type == ADDED and after.get("status") == "proposed":
        return f"Announced: {sub} as sub-processor of {processor}"
    return f"{change.type}: {sub} as sub-processor of {processor}"
