"""Bearer tokens: who may change the register (pure; no I/O here).

The registry never holds a token, only the SHA-256 of its UTF-8 text, in a JSON list that the
operator gives as `ROPA_TOKENS` or in the file named by `ROPA_TOKENS_FILE` (the Helm chart
mounts one from a Secret):

    [{"name": "dpo-allestree", "role": "dpo", "sha256": "<64 lower-case hex characters>"}]

A request presents `Authorization: Bearer <token>`; its hash is compared with every configured
hash in constant time. The matching entry's `name` is the principal, and becomes the `actor`
of the change events its mutations record. Only the `dpo` role may change the register; other
roles (lower-case words, e.g. `reader`) are accepted in the list for the access rules to come.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from schema.errors import RopaError

DPO = "dpo"

_HASH = re.compile(r"[0-9a-f]{64}")
_ROLE = re.compile(r"[a-z][a-z0-9-]*")
_FIELDS = {"name", "role", "sha256"}


class TokenConfigInvalid(RopaError):
    """The token list cannot be used; says where and why. Raised at start-up, never later."""

    code = "TOKEN_CONFIG_INVALID"

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class Unauthenticated(RopaError):
    """No bearer token, or one that is not configured."""

    code = "UNAUTHENTICATED"


class Forbidden(RopaError):
    """A known token whose role does not allow the operation."""

    code = "FORBIDDEN"


@dataclass(frozen=True)
class TokenEntry:
    """One configured token: who it is, its role, and the SHA-256 of the token (hex)."""

    name: str
    role: str
    sha256: str


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the configured token it presented."""

    name: str
    role: str

    def has_role(self, role: str) -> bool:
        """Whether this principal holds `role`."""
        return self.role == role


def hash_token(token: str) -> str:
    """The lower-case hex SHA-256 of the token's UTF-8 text, as the configuration stores it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _entry(source: str, index: int, item: Any) -> TokenEntry:
    where = f"[{index}]"
    if not isinstance(item, dict):
        raise TokenConfigInvalid(source, f"{where}: expected an object with name, role, sha256")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise TokenConfigInvalid(source, f"{where}: unknown field(s) {', '.join(unknown)}")
    name, role, digest = item.get("name"), item.get("role"), item.get("sha256")
    if not isinstance(name, str) or not name.strip():
        raise TokenConfigInvalid(source, f"{where}.name: must be a non-empty string")
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise TokenConfigInvalid(source, f"{where}.role: must be a lower-case word such as 'dpo'")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise TokenConfigInvalid(
            source, f"{where}.sha256: must be 64 lower-case hex characters (the token's SHA-256)"
        )
    return TokenEntry(name=name.strip(), role=role, sha256=digest)


def parse_tokens(text: str, source: str) -> tuple[TokenEntry, ...]:
    """The entries of a JSON token list; TokenConfigInvalid names `source` and the problem.

    The same hash twice is refused: it would make a token's name (the actor) ambiguous.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TokenConfigInvalid(source, f"not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise TokenConfigInvalid(source, "expected a JSON list of {name, role, sha256} objects")
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
    return Principal(name=found.name, role=found.role) if found is not None else None


def require_role(principal: Principal | None, role: str = DPO) -> Principal:
    """The principal, if it holds `role`; Unauthenticated or Forbidden otherwise."""
    if principal is None:
        raise Unauthenticated(
            f"this operation needs a bearer token with the '{role}' role "
            "(Authorization: Bearer <token>); none was given, or it is not a configured token"
        )
    if not principal.has_role(role):
        raise Forbidden(
            f"the token '{principal.name}' has the role '{principal.role}'; "
            f"this operation needs '{role}'"
        )
    return principal
