"""Who a request acts as: a principal with a role and a scope of registers (pure; no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.Enum):
    """What a principal may do within its scope."""

    # Reads the registers in its scope.
    READER = "reader"
    # Reads and changes the registers in its scope, and administers their webhooks.
    DPO = "dpo"
    # Every register, and the tokens.
    ADMIN = "admin"


class Via(enum.Enum):
    """How the principal reached the registry."""

    TOKEN = "token"
    SESSION = "session"
    CLI = "cli"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as. `registers` None means every register (the `admin` role).

    `name` is what change events record as the actor: a token's name, a person's login, the
    CLI user. `subject` and `display_name` are an OpenID Connect person's `sub` and name.
    """

    name: str
    role: Role
    registers: frozenset[str] | None
    via: Via = Via.TOKEN
    subject: str | None = None
    display_name: str | None = None

    def __post_init__(self) -> None:
        # An admin always has every register; anyone else a named list of them.
        if (self.role is Role.ADMIN) != (self.registers is None):
            raise ValueError(
                f"principal '{self.name}': the role {self.role.value} "
                + ("has every register" if self.role is Role.ADMIN else "needs its registers")
            )

    def holds(self, register: str) -> bool:
        """Whether `register` is in this principal's scope."""
        return self.registers is None or register in self.registers


def admin(name: str, via: Via = Via.CLI) -> Principal:
    """A principal with every register (the CLI, `make run`'s development token)."""
    return Principal(name=name, role=Role.ADMIN, registers=None, via=via)
