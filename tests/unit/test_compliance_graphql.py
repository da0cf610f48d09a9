"""`complianceIssues` through a small strawberry schema, with the record from a loader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import strawberry

from schema.compliance.graphql_types import (
    ComplianceDocuments,
    ComplianceEntityKind,
    ComplianceIssueType,
    ComplianceSeverity,
    compliance_issues,
)
from schema.compliance.issues import EntityKind, Severity
from schema.document import RopaDocument
from schema.errors import NotFound
from schema.validation import load_document

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"

QUERY = """
query ($controller: String, $asOf: Date) {
  complianceIssues(controller: $controller, asOf: $asOf) {
    ruleId severity entityKind entityId message reference
  }
}
"""


@strawberry.type
class Query:
    compliance_issues: list[ComplianceIssueType] = strawberry.field(resolver=compliance_issues)


SCHEMA = strawberry.Schema(query=Query)


class FileDocuments:
    """The example file as the record; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, dt.datetime | None]] = []

    async def controller_document(
        self,
        controller: str | None,
        recorded_at: dt.datetime | None,
        scope: frozenset[str] | None = None,
    ) -> RopaDocument:
        self.asked.append((controller, recorded_at))
        if controller not in (None, "allestree-woodlands"):
            raise NotFound("controller", controller)
        return load_document(EXAMPLE)


@dataclass
class Context:
    compliance_documents: ComplianceDocuments
    today: dt.date


async def _run(context: Any, **variables: Any) -> Any:
    return await SCHEMA.execute(QUERY, variable_values=variables, context_value=context)


async def test_issues_of_the_example_as_of_a_day() -> None:
    documents = FileDocuments()
    result = await _run(Context(documents, dt.date(2024, 6, 1)), asOf="2022-03-01")
    assert result.errors is None
    issues = result.data["complianceIssues"]
    assert documents.asked == [(None, None)]  # asOf is the day; the record is today's
    assert [i["severity"] for i in issues] == ["ERROR"] * 15 + ["WARNING"]
    post16 = [
        i
        for i in issues
        if i["entityId"] == "post16-transfer" and i["ruleId"] != "placeholder-in-record"
    ]
    assert post16 == [
        {
            "ruleId": "dpia-required-not-done",
            "severity": "ERROR",
            "entityKind": "ACTIVITY",
            "entityId": "post16-transfer",
            "message": post16[0]["message"],
            "reference": "UK GDPR Article 35(1)",
        }
    ]
    assert "DPIA" in post16[0]["message"]


async def test_without_a_date_the_contexts_today_is_used() -> None:
    documents = FileDocuments()
    result = await _run({"compliance_documents": documents}, controller="allestree-woodlands")
    assert result.errors is None
    assert documents.asked == [("allestree-woodlands", None)]
    # The context's today answers as that day given as asOf does; the post-16 transfer recurs
    # every year, so its DPIA gap is there in 2024.
    context = Context(documents, dt.date(2024, 6, 1))
    later = await _run(context, controller="allestree-woodlands")
    given = await _run(context, controller="allestree-woodlands", asOf="2024-06-01")
    assert later.errors is None
    assert later.data == given.data
    assert "post16-transfer" in {i["entityId"] for i in later.data["complianceIssues"]}


async def test_an_unknown_controller_is_an_error_naming_it() -> None:
    result = await _run(Context(FileDocuments(), dt.date(2024, 6, 1)), controller="nobody")
    assert result.errors is not None
    assert "no controller with id or name 'nobody'" in result.errors[0].message


async def test_a_context_without_the_loader_is_an_error() -> None:
    result = await _run({})
    assert result.errors is not None
    assert "compliance_documents" in result.errors[0].message


def test_the_graphql_enums_mirror_the_domain_enums() -> None:
    assert {s.value for s in ComplianceSeverity} == {s.value for s in Severity}
    assert {k.value for k in ComplianceEntityKind} == {k.value for k in EntityKind}
