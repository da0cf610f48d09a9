"""The gap checks and the exported record, through the registry app."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import openpyxl
import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

Post = Callable[..., Awaitable[dict[str, Any]]]

ISSUES = """
query ($controller: String, $asOf: Date) {
  complianceIssues(controller: $controller, asOf: $asOf) {
    ruleId severity entityKind entityId message reference
  }
}
"""


async def test_compliance_issues_name_the_example_s_gaps(example: Database, data: Post) -> None:
    found = (await data(ISSUES, controller="allestree woodlands school"))["complianceIssues"]
    rules = {(i["ruleId"], i["severity"]) for i in found}
    assert ("dpia-required-not-done", "ERROR") in rules
    assert all(i["message"] and i["reference"] for i in found)
    by_id = await data(ISSUES, controller="allestree-woodlands")
    assert by_id["complianceIssues"] == found


async def test_the_post16_dpia_gap_stays_while_the_annual_transfer_recurs(
    example: Database, data: Post
) -> None:
    def post16(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in issues if i["entityId"] == "post16-transfer"]

    during = await data(ISSUES, controller="allestree-woodlands", asOf="2022-06-01")
    later = await data(ISSUES, controller="allestree-woodlands", asOf="2026-12-01")
    assert post16(during["complianceIssues"])
    assert post16(later["complianceIssues"]) == post16(during["complianceIssues"])


async def test_unknown_controller_is_an_error_quoting_the_value(
    example: Database, graphql: Post
) -> None:
    body = await graphql(ISSUES, controller="Nowhere Academy")
    assert body["data"] is None
    error = body["errors"][0]
    assert "Nowhere Academy" in error["message"]
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_export_csv_and_xlsx_over_http(example: Database, client: httpx.AsyncClient) -> None:
    response = await client.get("/export/ropa.csv", params={"controller": "allestree-woodlands"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert any("Purpose of processing" in row for row in rows)
    workbook = await client.get(
        "/export/ropa.xlsx", params={"controller": "allestree-woodlands", "asOf": "2022-06-01"}
    )
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content), read_only=True)
    assert len(book.sheetnames) >= 2
    texts = [
        str(cell)
        for row in book[book.sheetnames[0]].iter_rows(values_only=True)
        for cell in row
        if cell
    ]
    assert "Post-16 transfer" in " ".join(texts) or any("post-16" in t.lower() for t in texts)
    bad = await client.get("/export/ropa.csv", params={"asOf": "not-a-date"})
    assert bad.status_code == 400
