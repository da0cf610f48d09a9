"""The one access policy: may this principal read or change this register (pure; no I/O).

Deny by default. A principal reads the registers in its scope and changes them if its role is
`dpo` (or `admin`, which holds every register). An entity belongs to the registers that declare
it: a principal reads it when any of them is in its scope, so an entity shared by id (the DfE,
a legal basis) is visible to every principal whose register declares it.

Anonymous callers, and every principal besides its scope, get the public reads that
`ROPA_PUBLIC_READS` sets:
- `subprocessors` (default): every processor's published sub-processor list (the engagements
  in force, their history, the feeds and the subscription), which processors publish for
  their controllers;
- `none`: nothing;
- `all`: every register's record, as a school that publishes its register chooses.
Personal data of people (an organisation's contacts, the actor of a change, who registered a
webhook) goes only to principals whose scope holds a register declaring it, whatever the
public reads.

A controller reads the sub-processing of its own processing, whatever the public reads: an
engagement for an activity that a register in its scope declares (the controller's), even
when it is declared only by the register its processor keeps (Article 30(2), School
Transition Limited's for the school's post-16 transfer). The controller must know, and have
authorised, who processes its data on its processor's behalf (Article 28(2) and 28(4)), and
its record (lineage, exports, checks, the notice) names them, and it hears of changes to them
(the change log, the subscription, the feeds); another controller of the same processor does
not read them.

A webhook endpoint keeps the scope of the principal that registered it: it is sent only the
changes of those registers, and only a principal whose scope holds all of them administers it.

An objection to an engagement belongs to the objecting controller's register and to the
registers the processor keeps itself (its DPO's): principals of those read it, and only their
webhooks are sent it; another controller using the same processor does not see it.

Who owns an engagement (may change it): a processor that keeps its own register (Article 30(2):
a register whose owner is the processor) owns its sub-processor engagements; where the
processor keeps none, the registers declaring the engagement own it. A `dpo` of any owning
register may change it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schema.access.principal import Principal, Role
from schema.errors import ErrorCode, RopaError


class PublicReads(enum.Enum):
    """What anonymous callers may read (`ROPA_PUBLIC_READS`)."""

    NONE = "none"
    SUBPROCESSORS = "subprocessors"
    ALL = "all"


class Unauthenticated(RopaError):
    """No principal: no bearer token or session, or one that is not configured."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(RopaError):
    """A known principal whose role or scope does not allow the operation."""

    code = ErrorCode.FORBIDDEN


@dataclass(frozen=True)
class ReadScope:
    """What one caller may read, as the reads need it.

    `registers`: the registers whose record may be read (None: every one). `people`: those
    whose personal data may be read (None: every one). `lists`: whether every processor's
    published sub-processor list may be read, whichever register declares it.
    """

    registers: frozenset[str] | None
    people: frozenset[str] | None
    lists: bool

    def reads(self, declaring: Iterable[str]) -> bool:
        """Whether an entity declared by `declaring` may be read."""
        return self.registers is None or not self.registers.isdisjoint(declaring)

    def reads_people(self, declaring: Iterable[str]) -> bool:
        """Whether the personal data of an entity declared by `declaring` may be read."""
        return self.people is None or not self.people.isdisjoint(declaring)

    def reads_list(self, declaring: Iterable[str]) -> bool:
        """Whether a sub-processor engagement (or change) declared by `declaring` may be read."""
        return self.lists or self.reads(declaring)

    def reads_engagement(self, declaring: Iterable[str], controllers: Iterable[str]) -> bool:
        """Whether an engagement declared by `declaring`, for an activity declared by
        `controllers` (its controller's registers), may be read: a published list, one in
        scope, or the sub-processing of the scope's own processing (see the module)."""
        return self.reads_list(declaring) or self.reads(controllers)

    @property
    def everything(self) -> bool:
        """Whether nothing is cut (an admin, or public reads `all` for the record)."""
        return self.registers is None

    def deciding_registers(self) -> frozenset[str]:
        """The registers whose declaring an entity can change what this scope reads of it (the
        rest are never looked at): those in `registers` and `people`; none when both are every
        register."""
        return (self.registers or frozenset()) | (self.people or frozenset())

    def register_list(self) -> list[str] | None:
        """`registers` as a sorted list for a query parameter (None: every register)."""
        return None if self.registers is None else sorted(self.registers)


def read_scope(principal: Principal | None, public: PublicReads) -> ReadScope:
    """What `principal` (None: an anonymous caller) may read, given the public reads."""
    own: frozenset[str] | None = frozenset() if principal is None else principal.registers
    registers = None if public is PublicReads.ALL else own
    lists = public is not PublicReads.NONE or registers is None
    return ReadScope(registers=registers, people=own, lists=lists)


def may_read(principal: Principal | None, register: str, public: PublicReads) -> bool:
    """Whether `principal` may read the record of `register`."""
    return read_scope(principal, public).reads([register])


def may_read_audit_log(principal: Principal | None, register: str) -> bool:
    """Whether `principal` may read the audit log of `register`: it names people (the actor of
    every change), so only a principal whose own scope holds the register, whatever the
    public reads."""
    return principal is not None and principal.holds(register)


def may_change(principal: Principal | None, register: str) -> bool:
    """Whether `principal` may change `register` (and administer its webhooks)."""
    return (
        principal is not None
        and principal.role in (Role.DPO, Role.ADMIN)
        and principal.holds(register)
    )


def may_administer_tokens(principal: Principal | None) -> bool:
    """Whether `principal` may administer tokens (and see every webhook): admins only."""
    return principal is not None and principal.role is Role.ADMIN


def may_administer_webhook(principal: Principal | None, registers: frozenset[str] | None) -> bool:
    """Whether `principal` may see, remove or redeliver a webhook endpoint registered with the
    scope `registers` (None: every register): a dpo whose scope holds all of them, or an admin."""
    if principal is None or principal.role not in (Role.DPO, Role.ADMIN):
        return False
    if principal.registers is None:
        return True
    return registers is not None and registers <= principal.registers


def writable_registers(principal: Principal, registers: Iterable[str]) -> list[str]:
    """Those of `registers` that `principal` may change, in order."""
    return [r for r in registers if may_change(principal, r)]


def engagement_owners(processor_registers: Sequence[str], declaring: Sequence[str]) -> list[str]:
    """The registers owning an engagement: the processor's own registers if it keeps any,
    else the registers declaring the engagement."""
    return list(processor_registers) if processor_registers else list(declaring)


def objection_registers(objecting: str, processor_registers: Sequence[str]) -> list[str]:
    """The registers an objection belongs to: the objecting one, then the processor's own."""
    return [objecting, *(r for r in processor_registers if r != objecting)]


def require_principal(principal: Principal | None, needs: str) -> Principal:
    """The principal; Unauthenticated when there is none. `needs` says what for."""
    if principal is None:
        raise Unauthenticated(
            f"{needs} needs a bearer token or a session (Authorization: Bearer <token>); "
            "none was given, or it is not a configured token"
        )
    return principal


def require_writer(principal: Principal | None) -> Principal:
    """The principal, if its role may change registers (`dpo`, `admin`); else Unauthenticated
    (none) or Forbidden (a `reader`)."""
    found = require_principal(principal, "this operation (dpo role)")
    if found.role not in (Role.DPO, Role.ADMIN):
        raise Forbidden(
            f"'{found.name}' has the role '{found.role.value}'; this operation needs 'dpo'"
        )
    return found


def require_change(principal: Principal, owners: Sequence[str], what: str) -> None:
    """Forbidden unless `principal` may change one of the `owners` registers of `what`."""
    if not writable_registers(principal, owners):
        raise Forbidden(
            f"'{principal.name}' may not change {what}: no register that owns it is in its scope"
        )


def require_admin(principal: Principal | None, needs: str) -> Principal:
    """The principal, if it is an admin; Unauthenticated or Forbidden otherwise."""
    found = require_principal(principal, needs)
    if found.role is not Role.ADMIN:
        raise Forbidden(f"'{found.name}' has the role '{found.role.value}'; {needs} needs 'admin'")
    return found
