"""A list's light read builds the same records from the properties it asked for as the full
readers build from those properties."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from strawberry.types.base import get_object_definition

from graph.read import activities, organisations
from graph.read.properties import light_fields, own_fields
from schema import document as d
from schema.graphql.records import ActivityRecord, OrganisationRecord
from schema.graphql.reference import Organisation, organisation_fields
from schema.node_properties import camel, node_properties, to_props
from tests.support.examples import school_record

DOCUMENT = school_record()


def _organisation_fields() -> list[Any]:
    return list(get_object_definition(Organisation, strict=True).fields)


def _key_sets(model: type[BaseModel]) -> list[list[str]]:
    # The id and name every list reads, with each field's properties on their own, and all.
    stored = [list(prop.stored_keys()) for prop in node_properties(model)]
    every = sorted({"id", "name"}.union(*stored))
    return [["id", "name"], *(sorted({"id", "name", *keys}) for keys in stored), every]


def _cases(entities: list[Any], model: type[BaseModel]) -> list[tuple[dict[str, Any], list[str]]]:
    return [
        ({**to_props(entity), "id": entity.id}, keys)
        for entity in entities
        for keys in _key_sets(model)
    ]


@pytest.mark.parametrize(
    ("record", "model", "cases"),
    [
        (ActivityRecord, d.ProcessingActivity, _cases(DOCUMENT.activities, d.ProcessingActivity)),
        (OrganisationRecord, d.Organisation, _cases(DOCUMENT.organisations, d.Organisation)),
    ],
    ids=["activities", "organisations"],
)
def test_light_fields_are_own_fields_of_what_was_read(
    record: type[Any], model: type[BaseModel], cases: list[tuple[dict[str, Any], list[str]]]
) -> None:
    assert len(cases) > 50
    filled = 0
    for props, keys in cases:
        read = {key: props[key] for key in keys if key in props}
        light = light_fields(record, model, keys)(read)
        assert light == own_fields(record, model, read), keys
        filled += len(light)
    # Not only ids: the fields asked for were there to be read.
    assert filled > 3 * len(cases)


def test_a_property_row_is_the_activity_record_of_the_same_values() -> None:
    activity = DOCUMENT.activities[0]
    props = {**to_props(activity), "id": activity.id}
    for keys in _key_sets(d.ProcessingActivity):
        row = ([props.get(key) for key in keys], ["a-controller"], ["reg-b", "reg-a"])
        asked = {key: value for key, value in zip(keys, row[0], strict=True) if value is not None}
        assert activities._property_row(keys, row) == activities.activity_record(
            {
                "props": asked,
                "controller": ["a-controller"],
                "registers": ["reg-b", "reg-a"],
                **dict.fromkeys(("joint", "processors", "subjects", "categories"), ()),
                **dict.fromkeys(("bases", "laws", "systems"), ()),
            }
        )


def test_an_organisation_row_is_the_organisation_of_the_same_values() -> None:
    for entity in DOCUMENT.organisations:
        props = {**to_props(entity), "id": entity.id}
        for keys in _key_sets(d.Organisation):
            keys = sorted({"kind", *keys})
            row = ([props.get(key) for key in keys], ["reg-b", "reg-a"])
            asked = {key: props[key] for key in keys if key in props}
            assert organisations._property_row(keys, row) == organisations.organisation(
                asked, ["reg-b", "reg-a"]
            )


def test_organisation_fields_name_the_record_fields_of_own_properties() -> None:
    assert organisation_fields(["__typename", "id", "name"]) == {"id", "name"}
    assert organisation_fields(["subProcessorList", "dpo", "icoRegistration"]) == {
        "sub_processor_list",
        "dpo",
        "ico_registration",
    }
    assert organisation_fields(["id", "noSuchField"]) is None
    # Every field the type has is one of the node's own properties today, each with its keys.
    every = organisation_fields(camel(f.python_name) for f in _organisation_fields())
    assert every is not None
    assert len(every) > 12
    assert every <= organisations.PROPERTY_KEYS.keys()
