"""`complianceIssues` over the graph, through `GraphDocumentLoader`: one read per operation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import strawberry

from graph import from_document, register
from graph.database import Database
from graph.to_document import GraphDocumentLoader
from schema.compliance.graphql_types import (
    ComplianceDocuments,
    ComplianceIssueType,
    compliance_issues,
)
from schema.validation import load_document

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"


@strawberry.type
class Query:
    compliance_issues: list[ComplianceIssueType] = strawberry.field(resolver=compliance_issues)


async def test_compliance_issues_from_the_graph(db: Database) -> None:
    doc = load_document(EXAMPLE)
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tester")
    loader: ComplianceDocuments = GraphDocumentLoader(db)
    db.round_trips = 0
    result = await strawberry.Schema(query=Query).execute(
        '{ complianceIssues(controller: "allestree-woodlands", asOf: "2022-03-01") '
        "{ ruleId entityId severity } }",
        context_value={"compliance_documents": loader, "today": dt.date(2024, 6, 1)},
    )
    assert result.errors is None
    assert result.data is not None
    assert db.round_trips == 1
    found = {(i["ruleId"], i["entityId"]) for i in result.data["complianceIssues"]}
    assert ("dpia-required-not-done", "post16-transfer") in found
    assert ("processor-disclosure-without-contract", "advice-to-consultants") in found
    assert ("placeholder-in-record", "post16-upload") in found
    # The medical flow cites consent, legal obligation and vital interests since the citations
    # per use (examples/README.md), so vital-interests-only-basis no longer fires on it.
    assert ("vital-interests-only-basis", "medical-to-nhs") not in found
    assert len(found) == 16
