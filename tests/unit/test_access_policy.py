"""The one access policy: scopes, roles, public reads, and who owns an engagement."""

from __future__ import annotations

import pytest

from schema.access.policy import (
    Forbidden,
    PublicReads,
    Unauthenticated,
    engagement_owners,
    may_administer_tokens,
    may_change,
    may_read,
    read_scope,
    require_admin,
    require_change,
    require_writer,
)
from schema.access.principal import Principal, Role, admin

A = frozenset({"school-a"})
READER = Principal("reader-a", Role.READER, A)
DPO = Principal("dpo-a", Role.DPO, A)
ADMIN = admin("root")


def test_a_principal_reads_its_registers_only() -> None:
    for principal in (READER, DPO):
        assert may_read(principal, "school-a", PublicReads.SUBPROCESSORS)
        assert not may_read(principal, "school-b", PublicReads.SUBPROCESSORS)
    assert may_read(ADMIN, "school-b", PublicReads.NONE)
    assert not may_read(None, "school-a", PublicReads.SUBPROCESSORS)


def test_public_reads() -> None:
    anonymous = read_scope(None, PublicReads.SUBPROCESSORS)
    assert (anonymous.registers, anonymous.lists) == (frozenset(), True)
    assert not read_scope(None, PublicReads.NONE).lists
    everything = read_scope(None, PublicReads.ALL)
    assert everything.reads(["school-b"])
    assert everything.everything
    # Personal data never goes to anonymous callers, whatever the public reads.
    assert not everything.reads_people(["school-b"])
    # A principal gets the public reads besides its scope, and people only of its scope.
    mine = read_scope(READER, PublicReads.ALL)
    assert mine.reads(["school-b"])
    assert mine.reads_people(["school-a"])
    assert not mine.reads_people(["school-b"])
    assert read_scope(READER, PublicReads.NONE).reads_list(["school-a"])
    assert not read_scope(READER, PublicReads.NONE).reads_list(["school-b"])
    assert read_scope(ADMIN, PublicReads.NONE).reads_people(["school-b"])


def test_a_controller_reads_the_sub_processing_of_its_own_processing() -> None:
    # Declared only by the processor's own register, for an activity of school A's.
    scope = read_scope(READER, PublicReads.NONE)
    assert scope.reads_engagement(["processor-p"], ["school-a", "processor-p"])
    assert not scope.reads_list(["processor-p"])
    # Another controller of the same processor does not read it; nor does anyone without
    # a principal, unless lists are public.
    assert not read_scope(
        Principal("b", Role.READER, frozenset({"school-b"})), PublicReads.NONE
    ).reads_engagement(["processor-p"], ["school-a", "processor-p"])
    assert not read_scope(None, PublicReads.NONE).reads_engagement(["processor-p"], ["school-a"])
    assert read_scope(None, PublicReads.SUBPROCESSORS).reads_engagement(["processor-p"], [])


def test_shared_entities_are_read_by_each_declaring_register() -> None:
    scope = read_scope(READER, PublicReads.NONE)
    assert scope.reads(["school-a", "school-b"])
    assert not scope.reads(["school-b"])
    assert not scope.reads([])


def test_changing_needs_dpo_and_scope() -> None:
    assert may_change(DPO, "school-a")
    assert not may_change(DPO, "school-b")
    assert not may_change(READER, "school-a")
    assert not may_change(None, "school-a")
    assert may_change(ADMIN, "school-b")
    with pytest.raises(Unauthenticated):
        require_writer(None)
    with pytest.raises(Forbidden, match="'reader-a' has the role 'reader'"):
        require_writer(READER)
    assert require_writer(DPO) is DPO
    require_change(DPO, ["school-b", "school-a"], "the engagement 'x'")
    with pytest.raises(Forbidden, match="may not change the engagement 'x'") as refused:
        require_change(DPO, ["school-b"], "the engagement 'x'")
    assert "school-b" not in str(refused.value), "an out-of-scope register is not named"


def test_tokens_are_administered_by_admins() -> None:
    assert may_administer_tokens(ADMIN)
    assert not may_administer_tokens(DPO)
    with pytest.raises(Forbidden):
        require_admin(DPO, "administering tokens")


def test_engagement_owners() -> None:
    # A processor that keeps its own register owns its engagements ...
    assert engagement_owners(["processor-reg"], ["school-a", "school-b"]) == ["processor-reg"]
    # ... else the registers declaring the engagement do.
    assert engagement_owners([], ["school-a", "school-b"]) == ["school-a", "school-b"]


def test_a_scope_matches_the_role() -> None:
    with pytest.raises(ValueError, match="needs its registers"):
        Principal("x", Role.DPO, None)
    with pytest.raises(ValueError, match="has every register"):
        Principal("x", Role.ADMIN, A)


@pytest.mark.parametrize("public", list(PublicReads))
@pytest.mark.parametrize("principal", [None, READER, DPO, ADMIN])
def test_a_scope_decides_by_its_deciding_registers_alone(
    principal: Principal | None, public: PublicReads
) -> None:
    scope = read_scope(principal, public)
    deciding = scope.deciding_registers()
    for declaring in ((), ("school-a",), ("school-b",), ("school-a", "school-b")):
        cut = tuple(r for r in declaring if r in deciding)
        assert scope.reads(cut) == scope.reads(declaring)
        assert scope.reads_people(cut) == scope.reads_people(declaring)
        assert scope.reads_list(cut) == scope.reads_list(declaring)
        assert scope.reads_engagement(cut, cut) == scope.reads_engagement(declaring, declaring)
    # Reading every register, people's details included, looks at no register at all.
    if principal is ADMIN:
        assert deciding == frozenset()
