"""The audit trail's rules: who a change event names, and the hash chain that binds the log.

Every change event records its author (the principal and how it acted: `actor_properties`) and
is chained: it stores `prevHash`, the `hash` of the event before it in the gap-free sequence
(`GENESIS` for the first), and its own `hash`, the SHA-256 of its canonical content
(`canonical`), which includes `prevHash`. Editing, deleting, inserting or reordering an event
therefore breaks the chain at that event's sequence, which `ChainCheck` names. Pure: no I/O
here (graph.changes writes and reads the log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schema.access.principal import Principal, Via, admin

# The first event's predecessor.
GENESIS = "0" * 64
# Bumped if the canonical form ever changes, so that old and new hashes cannot be confused.
CANONICAL_VERSION = "ropa-change/v1"
# Stored on the event but not part of what its hash covers.
HASH_PROPERTY = "hash"
PREV_PROPERTY = "prevHash"


# Who authored a change: the request's principal, or, as a bare name, the CLI's user.
Author = str | Principal


def actor_properties(who: Author) -> dict[str, str | None]:
    """The change event's properties that record its author and how it acted (a bare name is
    the CLI's user: `ropa apply --actor`, ROPA_ACTOR)."""
    principal = who if isinstance(who, Principal) else admin(who, Via.CLI)
    if not principal.name.strip():
        raise ValueError("an actor needs a name")
    return {
        "actor": principal.name,
        "actorVia": principal.via.value,
        "actorSubject": principal.subject,
        "actorDisplayName": principal.display_name,
    }


def canonical_value(value: Any) -> Any:
    """A stored property value in the form the hash covers: date-times as UTC ISO 8601 with
    microseconds (what Neo4j keeps of what we write), everything else as JSON has it."""
    native = value.to_native() if hasattr(value, "to_native") else value
    if isinstance(native, dt.datetime):
        aware = native if native.tzinfo is not None else native.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(native, list | tuple):
        return [canonical_value(v) for v in native]
    return native


def canonical(properties: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers: every stored property but the hash itself, with
    sorted keys and no insignificant whitespace. A null property is absent (as in Neo4j)."""
    content = {
        key: canonical_value(value)
        for key, value in properties.items()
        if key != HASH_PROPERTY and value is not None
    }
    text = json.dumps(
        [CANONICAL_VERSION, content], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.encode("utf-8")


def event_hash(properties: Mapping[str, Any]) -> str:
    """The hex SHA-256 of an event's canonical content (which includes its `prevHash`)."""
    return hashlib.sha256(canonical(properties)).hexdigest()


def chained(properties: Mapping[str, Any], previous: str) -> dict[str, Any]:
    """`properties` with `prevHash` = `previous` and their `hash`, ready to be stored."""
    linked = {**properties, PREV_PROPERTY: previous}
    return {**linked, HASH_PROPERTY: event_hash(linked)}


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the log is not what was written: the sequence, and why."""

    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"sequence {self.sequence}: {self.reason}"


class ChainCheck:
    """Walks the events in sequence order (`feed`), then `finish` against the counter; the
    first break found is kept in `broken` and later events are not looked at."""

    def __init__(self) -> None:
        self.expected = 1
        self.previous = GENESIS
        self.checked = 0
        self.broken: ChainBreak | None = None

    def feed(self, properties: Mapping[str, Any]) -> bool:
        """Check the next event; False once the chain is broken."""
        if self.broken is not None:
            return False
        sequence = int(properties["sequence"])
        stored = properties.get(HASH_PROPERTY)
        if sequence < self.expected:
            return self._break(sequence, "appears twice in the log")
        if sequence > self.expected:
            return self._break(
                self.expected, f"is missing: the log goes from {self.expected - 1} to {sequence}"
            )
        if stored is None:
            return self._break(
                sequence, "is not sealed (recorded before the chain); run `ropa audit seal`"
            )
        if properties.get(PREV_PROPERTY) != self.previous:
            return self._break(
                sequence,
                f"does not follow sequence {sequence - 1}: its prevHash is not the hash of "
                "the event before it (an event was removed, inserted or moved)",
            )
        if event_hash(properties) != stored:
            return self._break(sequence, "was edited: its content does not match its hash")
        self.previous = str(stored)
        self.expected += 1
        self.checked += 1
        return True

    def finish(self, last: int, head: str | None) -> ChainBreak | None:
        """Compare the end of the walk with the counter (the last sequence handed out and the
        hash it recorded); the first break, or None when the whole chain holds."""
        if self.broken is None and self.expected - 1 < last:
            self._break(
                self.expected,
                f"is missing: the log ends at {self.expected - 1} but {last} were recorded",
            )
        if self.broken is None and last > 0 and head is not None and head != self.previous:
            self._break(last, "is not the event the counter recorded last (its hash differs)")
        return self.broken

    def _break(self, sequence: int, reason: str) -> bool:
        self.broken = ChainBreak(sequence, reason)
        return False
