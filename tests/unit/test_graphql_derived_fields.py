"""A field marked Public in its document model is a field of its GraphQL type, derived."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

import pytest
import strawberry
from pydantic import Field

from graph.read.properties import own_fields
from schema import document as d
from schema.graphql import reference
from schema.graphql.derived import with_public_fields
from schema.graphql.records import OrganisationRecord
from schema.graphql.schema import sdl
from schema.node_properties import Public, to_props, with_properties_of


class Charity(d.Organisation):
    """A later Organisation model: two public fields and one that stays internal."""

    charity_number: Annotated[d.Text | None, Public()] = Field(
        default=None, description="The Charity Commission's number"
    )
    trustees: Annotated[list[d.Text], Public("Who governs it")] = Field(default_factory=list)
    founded: dt.date | None = None


@dataclass(frozen=True)
@with_properties_of(Charity)
class CharityRecord(OrganisationRecord):
    """The record of the later model."""


@strawberry.type(description="An organisation as the later model shows it")
@with_public_fields(Charity)
class CharityType(reference.Organisation):
    """Nothing declared: the new fields come from the model."""


@strawberry.type
class _Query:
    @strawberry.field
    def charity(self) -> CharityType:
        org = Charity(
            id="chs", name="Children's Society", charity_number="221124", trustees=["A", "B"]
        )
        rec = CharityRecord(**own_fields(CharityRecord, Charity, {**to_props(org), "id": "chs"}))
        found = CharityType.from_record(rec)
        assert isinstance(found, CharityType)  # from_record builds `cls`
        return found


def test_public_fields_are_derived_with_their_descriptions_and_values() -> None:
    schema = strawberry.Schema(query=_Query)
    text = schema.as_str()
    assert '"""The Charity Commission\'s number"""\n  charityNumber: String' in text
    assert '"""Who governs it"""\n  trustees: [String!]!' in text
    assert "founded" not in text  # not marked Public
    result = schema.execute_sync("{ charity { id name charityNumber trustees kind } }")
    assert result.errors is None
    assert result.data == {
        "charity": {
            "id": "chs",
            "name": "Children's Society",
            "charityNumber": "221124",
            "trustees": ["A", "B"],
            "kind": "OTHER",
        }
    }


def test_no_field_of_todays_models_is_derived_so_the_sdl_is_unchanged() -> None:
    # Every type declares its fields today; the committed SDL (test_exports) is the contract.
    assert "charityNumber" not in sdl()


def test_a_sub_model_cannot_be_derived() -> None:
    class WithContact(d.Organisation):
        deputy: Annotated[d.Contact | None, Public()] = None

    with pytest.raises(TypeError, match="deputy: a flat field cannot be derived"):

        @with_public_fields(WithContact)
        class _Deputy:
            pass
