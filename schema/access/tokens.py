"""Bearer tokens: the configured list of hashes, and the principal a token names (pure).

The registry never holds a token, only the SHA-256 of its UTF-8 text, in a JSON list that the
operator gives as `ROPA_TOKENS` or in the file named by `ROPA_TOKENS_FILE` (the Helm chart
mounts one from a Secret):

    [{"name": "la-dpo-service", "role": "dpo", "sha256": "<64 lower-case hex characters>",
      "registers": ["allestree-woodlands", "another-school"]}]

`role` is `reader`, `dpo` or `admin` (schema.access.principal.Role). `reader` and `dpo` need
`registers`, the ids of the registers in their scope; `admin` holds every register and takes
none. A request presents `Authorization: Bearer <token>`; its hash is compared with every
configured hash in constant time. The matching entry's `name` is the principal, and becomes the
actor of the change events its mutations record.

Whether each scope's registers exist is not known here (the graph may be down at start-up): the
registry warns of unknown ones once Neo4j answers (services.registry.auth).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from schema.access.principal import Principal, Role, Via
from schema.errors import ErrorCode, RopaError

_HASH = re.compile(r"[0-9a-f]{64}")
_REGISTER_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_FIELDS = {"name", "role", "sha256", "registers"}
_ROLES = ", ".join(r.value for r in Role)


class TokenConfigInvalid(RopaError):
    """The token list cannot be used; says where and why. Raised at start-up, never later."""

    code = ErrorCode.TOKEN_CONFIG_INVALID

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True)
class TokenEntry:
    """One configured token: who it is, its role, the SHA-256 of the token (hex), and the
    registers in its scope (None for an admin: every register)."""

    name: str
    role: Role
    sha256: str
    registers: frozenset[str] | None = None

    def principal(self) -> Principal:
        """The principal a request presenting this token acts as."""
        return Principal(name=self.name, role=self.role, registers=self.registers, via=Via.TOKEN)


def hash_token(token: str) -> str:
    """The lower-case hex SHA-256 of the token's UTF-8 text, as the configuration stores it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _role(source: str, where: str, value: Any) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise TokenConfigInvalid(
            source, f"{where}.role: unknown role {json.dumps(value)} (one of {_ROLES})"
        ) from None


def _registers(source: str, where: str, role: Role, value: Any) -> frozenset[str] | None:
    if role is Role.ADMIN:
        if value is not None:
            raise TokenConfigInvalid(
                source, f"{where}.registers: an admin has every register; leave registers out"
            )
        return None
    if value is None:
        raise TokenConfigInvalid(
            source,
            f"{where}.registers: the role '{role.value}' needs `registers`, "
            "the list of register ids in its scope",
        )
    if not isinstance(value, list) or not value:
        raise TokenConfigInvalid(source, f"{where}.registers: must be a non-empty list of ids")
    for item in value:
        if not isinstance(item, str) or not _REGISTER_ID.fullmatch(item):
            raise TokenConfigInvalid(
                source,
                f"{where}.registers: {json.dumps(item)} is not a register id "
                "(lower-case letters, digits and hyphens)",
            )
    return frozenset(value)


def _entry(source: str, index: int, item: Any) -> TokenEntry:
    where = f"[{index}]"
    if not isinstance(item, dict):
        raise TokenConfigInvalid(
            source, f"{where}: expected an object with name, role, sha256 and registers"
        )
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise TokenConfigInvalid(source, f"{where}: unknown field(s) {', '.join(unknown)}")
    name, digest = item.get("name"), item.get("sha256")
    if not isinstance(name, str) or not name.strip():
        raise TokenConfigInvalid(source, f"{where}.name: must be a non-empty string")
    where = f"{where} ({name.strip()})"
    role = _role(source, where, item.get("role"))
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise TokenConfigInvalid(
            source, f"{where}.sha256: must be 64 lower-case hex characters (the token's SHA-256)"
        )
    registers = _registers(source, where, role, item.get("registers"))
    return TokenEntry(name=name.strip(), role=role, sha256=digest, registers=registers)


def parse_tokens(text: str, source: str) -> tuple[TokenEntry, ...]:
    """The entries of a JSON token list; TokenConfigInvalid names `source` and the problem.

    The same hash twice is refused: it would make a token's name (the actor) ambiguous.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TokenConfigInvalid(source, f"not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise TokenConfigInvalid(
            source, "expected a JSON list of {name, role, sha256, registers} objects"
        )
    entries = tuple(_entry(source, i, item) for i, item in enumerate(data))
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if entry.sha256 in seen:
            raise TokenConfigInvalid(source, f"[{i}].sha256: the same hash is listed twice")
        seen.add(entry.sha256)
    return entries


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value; None for anything else."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def verify(token: str, entries: tuple[TokenEntry, ...]) -> Principal | None:
    """The principal whose hash matches the token's; None when none does.

    Every entry is compared, each with `hmac.compare_digest`, so the time taken does not tell
    how much of a hash matched, nor which entry did.
    """
    digest = hash_token(token).encode("ascii")
    found: TokenEntry | None = None
    for entry in entries:
        if hmac.compare_digest(digest, entry.sha256.encode("ascii")):
            found = entry
    return found.principal() if found is not None else None
