"""Where a change event stands in the log: its sequence number, by its id.

A client that resumes a stream of changes names the last event it saw by id; the stream
carries on from that event's sequence number.
"""

from __future__ import annotations

from neo4j import AsyncManagedTransaction

_SEQUENCE = "MATCH (c:ChangeEvent {id: $id}) RETURN c.sequence AS sequence"


async def sequence_of(tx: AsyncManagedTransaction, event_id: str) -> int | None:
    """The sequence number of the event with id `event_id`; None when there is none."""
    record = await (await tx.run(_SEQUENCE, id=event_id)).single()
    return int(record["sequence"]) if record is not None else None
