"""The audit log in GraphQL: `auditLog(register:, after:, first:)`, a Relay-style connection of
every change event of one register (not only sub-processor changes), oldest first, with who made
each change, how, and the hashes that chain it (`ropa audit verify` checks them).

It names people (the actors), so only a principal whose scope holds the register reads it
(schema.access.policy.may_read_audit_log): UNAUTHENTICATED without one, FORBIDDEN outside it.
A cursor stands for an event's sequence and stays valid as the log grows.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from schema.access.policy import Forbidden, may_read_audit_log, require_principal
from schema.errors import NotFound
from schema.graphql.access import Info, resolver
from schema.graphql.arguments import given as _given
from schema.graphql.changes import history
from schema.graphql.connections import (
    MAX_FIRST,
    After,
    Connection,
    Edge,
    InvalidPage,
    PageInfo,
    cursor,
    position,
)
from schema.graphql.writes import AuditRecord

DEFAULT_FIRST = 50


@strawberry.enum(description="What a change did to its entity")
class ChangeOp(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    DECLARED = strawberry.enum_value(
        "DECLARED",
        description="The register starts declaring an entity another register declares "
        "already: `before` is it as it was, `after` as it is now (alike unless this register "
        "changed it)",
    )
    RELEASED = strawberry.enum_value(
        "RELEASED",
        description="The register stops declaring an entity another register still declares; "
        "the entity stays, unchanged",
    )


@strawberry.enum(description="How the author of a change reached the register")
class ActorVia(enum.Enum):
    TOKEN = "token"
    SESSION = "session"
    CLI = "cli"


@strawberry.type(description="Who made a change")
class AuditActor:
    name: str = strawberry.field(
        description="A token's name, a signed-in person's login, or the CLI user (ROPA_ACTOR)"
    )
    via: ActorVia | None = strawberry.field(
        description="token, session (OpenID Connect) or cli; null for events recorded before "
        "the registry kept it"
    )
    subject: str | None = strawberry.field(description="The OpenID Connect subject (`sub`)")
    display_name: str | None = strawberry.field(description="The signed-in person's name")


@strawberry.type(description="One change event of a register's audit log")
class AuditEvent:
    id: strawberry.ID
    sequence: int = strawberry.field(description="The gap-free sequence of the whole log")
    occurred_at: dt.datetime
    registers: list[str] = strawberry.field(description="Every register the change belongs to")
    entity_type: str = strawberry.field(description="Organisation, ProcessingActivity, ...")
    entity_id: str
    op: ChangeOp
    before: JSON | None = strawberry.field(description="The entity before; null when CREATED")
    after: JSON | None = strawberry.field(description="The entity after; null when DELETED")
    actor: AuditActor
    prev_hash: str | None = strawberry.field(description="The hash of the event before it")
    hash: str | None = strawberry.field(description="SHA-256 of its canonical content")

    @classmethod
    def from_record(cls, record: AuditRecord) -> AuditEvent:
        """The GraphQL view of a recorded event."""
        via = record.actor_via
        return cls(
            id=strawberry.ID(record.id),
            sequence=record.sequence,
            occurred_at=record.occurred_at,
            registers=list(record.registers or ([record.register] if record.register else [])),
            entity_type=record.entity_type,
            entity_id=record.entity_id,
            op=ChangeOp(record.op),
            before=cast(JSON, record.before),
            after=cast(JSON, record.after),
            actor=AuditActor(
                name=record.actor,
                via=ActorVia(via) if via in {v.value for v in ActorVia} else None,
                subject=record.actor_subject,
                display_name=record.actor_display_name,
            ),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )


@strawberry.type
class AuditQuery:
    @resolver(
        description="Every change event of a register (by id), oldest first: at most `first` "
        f"(1 to {MAX_FIRST}, default {DEFAULT_FIRST}) after the cursor `after`. Needs a "
        "principal whose scope holds the register"
    )
    async def audit_log(
        self,
        info: Info,
        register: Annotated[str, strawberry.argument(description="The register's id")],
        after: After = strawberry.UNSET,
        first: Annotated[
            int | None, strawberry.argument(description=f"1 to {MAX_FIRST}")
        ] = DEFAULT_FIRST,
    ) -> Connection[AuditEvent]:
        principal = require_principal(info.context.principal, "the audit log")
        # Scope first: outside it, whether the register exists is not told either.
        if not may_read_audit_log(principal, register):
            raise Forbidden(
                f"'{principal.name}' may not read the audit log of '{register}': "
                "it is not in its scope"
            )
        size = DEFAULT_FIRST if _given(first) is None else int(first or 0)
        if not 1 <= size <= MAX_FIRST:
            raise InvalidPage(f"first: must be between 1 and {MAX_FIRST}, not {size}")
        start = 0 if _given(after) is None else position(str(after))
        page = await history(info).audit_log(register, start, size)
        if page is None:
            raise NotFound("register", register)
        edges = [
            Edge(cursor=cursor(e.sequence), node=AuditEvent.from_record(e)) for e in page.events
        ]
        return Connection(
            total_count=page.total,
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=start > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
