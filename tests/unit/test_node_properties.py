"""The node properties derived from the document model (schema.node_properties)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from graph import from_document
from schema import document as d
from schema.node_properties import Shape, Stored, field_props, from_props, node_properties, to_props

_ENTITIES = (
    d.Organisation,
    d.DataSubjectCategory,
    d.DataCategory,
    d.LegalBasis,
    d.System,
    d.ProcessingActivity,
    d.Flow,
    d.Engagement,
    d.RegisterInfo,
)


def _keys(model: type[BaseModel]) -> set[str]:
    return {k for p in node_properties(model) for k in p.stored_keys()}


@pytest.mark.parametrize("model", _ENTITIES, ids=lambda m: m.__name__)
def test_every_link_field_is_a_field_and_every_other_field_a_property(
    model: Any,
) -> None:
    links: frozenset[str] = model.LINKS
    assert links <= model.model_fields.keys()
    stored = {p.field for p in node_properties(model)}
    assert stored | links | {"id"} == model.model_fields.keys()


def test_the_stored_keys_are_those_graphs_already_hold() -> None:
    # The graphs applied before the derivation hold these keys: they must not move.
    assert _keys(d.Organisation) == {
        "placeholders",
        "name",
        "kind",
        "description",
        "address",
        "country",
        "registration",
        "icoRegistration",
        "website",
        "subProcessorList",
        "keepsRegister",  # new with issue 14: older graphs simply lack it
        *(
            f"{who}{part}"
            for who in ("contact", "dpo", "representative")
            for part in ("Name", "Role", "Email", "Phone", "Address")
        ),
        "group",
        "appropriatePolicyDocument",
        "assumptions",
        "assumptionsAbout",  # new with issue 14: written only when an assumption has `about`
    }
    assert {"recurEvery", "recurLasts", "recurNote", "validFrom", "thirdCountryTransfers"} <= _keys(
        d.ProcessingActivity
    )
    assert {"dpiaStatus", "dpiaLink", "dpiaCompletedOn", "dpiaNotes"} <= _keys(d.ProcessingActivity)
    assert {"recurEvery", "noticeDate", "status"} <= _keys(d.Engagement)


def test_a_contact_is_flattened_once_and_read_back() -> None:
    org = d.Organisation(
        id="dfe",
        name="DfE",
        dpo=d.Contact(name="A. Person", email="dpo@example.org"),
    )
    props = to_props(org)
    assert props["dpoName"] == "A. Person"
    assert props["dpoEmail"] == "dpo@example.org"
    assert "dpoPhone" not in props
    assert "contactName" not in props
    assert d.Organisation.model_validate({"id": "dfe", **from_props(d.Organisation, props)}) == org


class _Motto(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: d.Text
    since: dt.date | None = None


class _WithNewFields(d.Organisation):
    """An organisation as a later model may describe it: new fields of every shape."""

    motto: d.Text | None = None
    founded: dt.date | None = None
    staff: int | None = None
    tags: list[d.Text] = []
    charter: Annotated[_Motto | None, Stored(prefix="charterOf")] = None
    mottos: list[_Motto] = []


def test_new_fields_of_every_shape_are_stored_and_read_back_with_no_other_change() -> None:
    org = _WithNewFields(
        id="dfe",
        name="DfE",
        motto="Learning",
        founded=dt.date(2010, 5, 12),
        staff=7000,
        tags=["ministerial"],
        charter=_Motto(text="Charter", since=dt.date(2011, 1, 1)),
        mottos=[_Motto(text="One"), _Motto(text="Two", since=dt.date(2012, 2, 2))],
    )
    shapes = {p.field: p.shape for p in node_properties(_WithNewFields)}
    assert shapes["mottos"] is Shape.JSON
    assert shapes["charter"] is Shape.FLAT
    props = to_props(org)
    assert props["motto"] == "Learning"
    assert props["founded"] == dt.date(2010, 5, 12)
    assert props["charterOfText"] == "Charter"
    assert props["charterOfSince"] == dt.date(2011, 1, 1)
    # As a change event records it (dates as ISO text), then read back.
    entity = from_document._entity("Organisation", org.id, props, [])
    snapshot = entity.snapshot()
    back = _WithNewFields.model_validate(
        {"id": "dfe", **from_props(_WithNewFields, snapshot["props"])}
    )
    assert back == org


def test_assumptions_are_stored_as_before_unless_one_names_a_field() -> None:
    whole = d.Flow.model_validate(
        {
            "id": "f",
            "activity": "a",
            "from": "s",
            "to": "r",
            "data_categories": ["c"],
            "assumptions": ["About the whole flow"],
        }
    )
    # A graph applied before assumptions could name a field holds exactly this: unchanged.
    assert field_props(whole, "assumptions") == {"assumptions": ["About the whole flow"]}
    about = whole.model_copy(
        update={
            "assumptions": [
                d.Assumption(text="About the whole flow"),
                d.Assumption(text="6(1)(e), not (c)", about="legal_bases"),
            ]
        }
    )
    props = to_props(about)
    assert props["assumptions"] == ["About the whole flow", "6(1)(e), not (c)"]
    assert props["assumptionsAbout"] == ["", "legal_bases"]
    fields = from_props(d.Flow, props)
    assert fields["assumptions"] == [
        {"text": "About the whole flow"},
        {"text": "6(1)(e), not (c)", "about": "legal_bases"},
    ]
    # What an older graph holds reads back as assumptions about the whole entity.
    old = from_props(d.Flow, {"assumptions": ["About the whole flow"]})
    assert old["assumptions"] == [{"text": "About the whole flow"}]


def test_an_assumption_about_an_unknown_field_names_the_entity_and_the_allowed_fields() -> None:
    with pytest.raises(ValidationError) as raised:
        d.Engagement.model_validate(
            {
                "id": "hosting",
                "processor": "p",
                "sub_processor": "s",
                "assumptions": [{"about": "basis", "text": "t"}],
            }
        )
    message = str(raised.value)
    assert "Engagement 'hosting' has no field 'basis'" in message
    assert "location" in message
    assert "since" in message
