"""Which role and registers a signed-in person gets: rules over the ID token's claims (pure).

`ROPA_OIDC_ROLE_MAPPINGS` is a JSON list of rules, each with one matcher, a role and (for
`reader` and `dpo`) the registers it grants:

    [{"group": "ropa-dpo-service", "role": "dpo", "registers": ["allestree-woodlands"]},
     {"email_domain": "allestree.sch.uk", "role": "reader", "registers": ["allestree-woodlands"]},
     {"claim": "roles", "value": "ROPA.Admin", "role": "admin"}]

- `group`: the value is in the groups claim (`ROPA_OIDC_GROUPS_CLAIM`, default `groups`);
- `email_domain`: the `email` claim is at that domain exactly (not a subdomain), and the
  provider has not said `email_verified: false`;
- `claim` + `value`: that claim equals the value, or is a list holding it (e.g. Google's `hd`,
  Entra ID's `roles` or `tid`).

A person gets the highest role among the rules that match (admin > dpo > reader) and the union of
the registers of the matching rules with that role; lower roles' rules are then ignored, since
one principal has one role. No matching rule: the sign-in is refused (deny by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schema.access.principal import Role
from schema.errors import ErrorCode, RopaError

# Most privileged last: the order decides which role wins when several rules match.
PRIVILEGE = (Role.READER, Role.DPO, Role.ADMIN)
_ROLE_NAMES = ", ".join(r.value for r in PRIVILEGE)

_REGISTER = re.compile(r"[a-z0-9][a-z0-9-]*")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_MATCHERS = ("group", "email_domain", "claim")
_FIELDS = {"group", "email_domain", "claim", "value", "role", "registers"}


class SignInConfigInvalid(RopaError):
    """A sign-in setting that cannot be used; says which and why. Raised at start-up."""

    code = ErrorCode.SIGN_IN_CONFIG_INVALID

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(f"{setting}: {reason}")


@dataclass(frozen=True)
class RoleRule:
    """One rule: when `claim` holds `value`, grant `role` on `registers` (None: every one)."""

    claim: str
    value: str
    role: Role
    registers: frozenset[str] | None
    # An e-mail domain rule compares the domain of the `email` claim.
    email_domain: bool = False

    def matches(self, claims: Mapping[str, Any]) -> bool:
        """Whether the claims satisfy this rule."""
        if self.email_domain:
            email = claims.get("email")
            if not isinstance(email, str) or claims.get("email_verified") is False:
                return False
            return email.rpartition("@")[2].lower() == self.value
        found = claims.get(self.claim)
        if isinstance(found, list):
            return self.value in found
        return found == self.value


@dataclass(frozen=True)
class Grant:
    """What the matching rules give a person: one role, and registers (None: every one)."""

    role: Role
    registers: frozenset[str] | None


def _rule(source: str, index: int, item: Any, groups_claim: str) -> RoleRule:
    where = f"[{index}]"
    if not isinstance(item, dict):
        raise SignInConfigInvalid(source, f"{where}: expected an object with a matcher and a role")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise SignInConfigInvalid(source, f"{where}: unknown field(s) {', '.join(unknown)}")
    matchers = [m for m in _MATCHERS if m in item]
    if len(matchers) != 1:
        raise SignInConfigInvalid(
            source,
            f"{where}: give exactly one of group, email_domain, claim (found {len(matchers)})",
        )
    named = item.get("role")
    role = next((r for r in PRIVILEGE if r.value == named), None)
    if role is None:
        raise SignInConfigInvalid(
            source, f"{where}.role: unknown role {json.dumps(named)}; use one of {_ROLE_NAMES}"
        )
    registers = _registers(source, where, role, item.get("registers"))
    (matcher,) = matchers
    if matcher == "email_domain":
        domain = item["email_domain"]
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain.lower()):
            raise SignInConfigInvalid(
                source, f"{where}.email_domain: must be a domain name such as 'school.sch.uk'"
            )
        if "value" in item:
            raise SignInConfigInvalid(source, f"{where}.value: only a claim rule takes a value")
        return RoleRule("email", domain.lower(), role, registers, email_domain=True)
    if matcher == "group":
        group = item["group"]
        if not isinstance(group, str) or not group:
            raise SignInConfigInvalid(source, f"{where}.group: must be a non-empty string")
        if "value" in item:
            raise SignInConfigInvalid(source, f"{where}.value: only a claim rule takes a value")
        return RoleRule(groups_claim, group, role, registers)
    claim, value = item["claim"], item.get("value")
    if not isinstance(claim, str) or not claim:
        raise SignInConfigInvalid(source, f"{where}.claim: must be a claim name such as 'hd'")
    if not isinstance(value, str) or not value:
        raise SignInConfigInvalid(source, f"{where}.value: a claim rule needs a string value")
    return RoleRule(claim, value, role, registers)


def _registers(source: str, where: str, role: Role, given: Any) -> frozenset[str] | None:
    if role is Role.ADMIN:
        if given is not None:
            raise SignInConfigInvalid(
                source, f"{where}.registers: the admin role holds every register; remove the list"
            )
        return None
    if not isinstance(given, list) or not given:
        raise SignInConfigInvalid(
            source,
            f"{where}.registers: a {role.value} rule must name the registers it grants, "
            'e.g. "registers": ["allestree-woodlands"]',
        )
    for register in given:
        if not isinstance(register, str) or not _REGISTER.fullmatch(register):
            raise SignInConfigInvalid(
                source,
                f"{where}.registers: {register!r} is not a register id "
                "(lower-case letters, digits and hyphens)",
            )
    return frozenset(given)


def parse_mappings(text: str, source: str, groups_claim: str = "groups") -> tuple[RoleRule, ...]:
    """The rules of a JSON mapping list; SignInConfigInvalid names `source` and the problem."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SignInConfigInvalid(source, f"not JSON ({exc})") from exc
    if not isinstance(data, list) or not data:
        raise SignInConfigInvalid(
            source,
            'expected a non-empty JSON list of rules, e.g. [{"group": "ropa-dpo", "role": "dpo", '
            '"registers": ["allestree-woodlands"]}]',
        )
    return tuple(_rule(source, i, item, groups_claim) for i, item in enumerate(data))


def grant_for(rules: tuple[RoleRule, ...], claims: Mapping[str, Any]) -> Grant | None:
    """The role and registers the claims earn; None when no rule matches."""
    matched = [rule for rule in rules if rule.matches(claims)]
    if not matched:
        return None
    role = max((rule.role for rule in matched), key=PRIVILEGE.index)
    if role is Role.ADMIN:
        return Grant(role, None)
    registers: frozenset[str] = frozenset()
    for rule in matched:
        if rule.role == role and rule.registers is not None:
            registers |= rule.registers
    return Grant(role, registers)
