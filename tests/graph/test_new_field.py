"""A field added to a document model is stored, read back and recorded with no other change.

The model here is a subclass, as a later version of `schema.document.Organisation` would be:
nothing in graph/ or schema/graphql/ names its new fields, yet they reach the node, the
document read back from the graph and the record the readers build.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncManagedTransaction
from pydantic import Field

from graph import from_document, register, to_document
from graph import model as m
from graph.database import Database
from graph.read import organisations
from graph.read.properties import own_fields
from graph.read.snapshots import register_snapshots
from schema import document as d
from schema.graphql.records import ContactRecord, OrganisationRecord
from schema.node_properties import from_props, with_properties_of
from schema.validation import load_document

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small-register.yaml"


class Charity(d.Organisation):
    """An organisation with fields no graph has held before."""

    charity_number: d.Text | None = None
    trustees: list[d.Text] = Field(default_factory=list)
    founded: dt.date | None = None


@dataclass(frozen=True)
@with_properties_of(Charity)
class CharityRecord(OrganisationRecord):
    """OrganisationRecord as `with_properties_of` extends it for the later model."""


CHARITY = Charity(
    id="test-school",
    name="Test School",
    kind=d.OrganisationKind.CHARITY,
    charity_number="1234567",
    trustees=["A. Trustee", "B. Trustee"],
    founded=dt.date(1998, 9, 1),
    dpo=d.Contact(name="D. P. Officer", email="dpo@test-school.example"),
)


async def _props(tx: AsyncManagedTransaction, key: str) -> dict[str, Any]:
    record = await (
        await tx.run("MATCH (n:Organisation {id: $id}) RETURN n {.*} AS props", id=key)
    ).single(strict=True)
    return dict(record["props"])


@pytest.mark.neo4j
async def test_a_new_field_round_trips_and_reaches_the_record(db: Database) -> None:
    doc = load_document(SMALL)
    assert any(o.id == CHARITY.id for o in doc.organisations)
    # The register as applied, its organisation described by the later model.
    entities = [
        from_document.node(m.ORGANISATION, CHARITY, [])
        if e.key == m.entity_key(m.ORGANISATION, CHARITY.id)
        else e
        for e in from_document.entities(doc)
    ]
    await register.apply(db, doc.register_info.id, entities, "tester")

    props = await db.read(_props, CHARITY.id)
    assert props["charityNumber"] == "1234567"
    assert props["trustees"] == ["A. Trustee", "B. Trustee"]
    assert props["dpoEmail"] == "dpo@test-school.example"

    # document -> graph -> document, through the change log's snapshot of the node.
    state = await db.read(register_snapshots, doc.register_info.id)
    snap = state[m.entity_key(m.ORGANISATION, CHARITY.id)]
    back = Charity.model_validate({"id": snap["id"], **from_props(Charity, snap["props"])})
    assert back == CHARITY

    # The record, from the node's properties as the driver returns them (a Neo4j Date).
    rec = CharityRecord(**own_fields(CharityRecord, Charity, props))
    assert rec.charity_number == "1234567"  # type: ignore[attr-defined]
    assert rec.trustees == ("A. Trustee", "B. Trustee")  # type: ignore[attr-defined]
    assert rec.founded == dt.date(1998, 9, 1)  # type: ignore[attr-defined]
    assert rec.dpo == ContactRecord(name="D. P. Officer", email="dpo@test-school.example")
    assert rec.kind is d.OrganisationKind.CHARITY

    # Today's model reads the same node: the fields it does not know are left alone.
    (today,) = (await organisations.organisations_by_id(db, [CHARITY.id])).values()
    assert today.dpo == rec.dpo
    assert not hasattr(today, "charity_number")
    document = await to_document.register_document(db, doc.register_info.id)
    assert next(o for o in document.organisations if o.id == CHARITY.id).dpo == CHARITY.dpo


def test_every_field_of_the_model_is_a_field_of_its_record() -> None:
    # Declared in records.py or added by with_properties_of: e.g. appropriate_policy_document,
    # which no record declared before.
    names = {f.name for f in fields(OrganisationRecord)}
    assert {"appropriate_policy_document", "placeholders", "sub_processor_list"} <= names
    assert {f.name for f in fields(CharityRecord)} >= names | {"charity_number", "founded"}
