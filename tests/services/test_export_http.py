"""GET /export/ropa.{csv,xlsx,json} through a tiny app around the handler, on the real graph."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette

from graph import from_document, register
from graph.database import Database
from schema.access.principal import Role
from schema.access.tokens import TokenEntry, hash_token
from schema.ropa_export.columns import ARTICLE_30_REQUIRED, CONTROLLER_COLUMNS
from schema.validation import load_document, parse_document
from services.registry.exports import EXPORT_ROUTE
from tests.support.examples import STL

pytestmark = pytest.mark.neo4j
ADMIN_TOKEN = "export-admin-token"

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "allestree-woodlands.yaml"


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    # The example as applied on 1 January 2022; on 1 June 2022 the CCTV retention changed.
    text = EXAMPLE.read_text(encoding="utf-8")
    for when, doc in (
        # The register School Transition Limited keeps, declaring the school's sub-processors.
        (dt.datetime(2022, 1, 1, tzinfo=dt.UTC), load_document(STL)),
        (dt.datetime(2022, 1, 1, tzinfo=dt.UTC), load_document(EXAMPLE)),
        (
            dt.datetime(2022, 6, 1, tzinfo=dt.UTC),
            parse_document(text.replace("CCTV overwritten after 30 days", "CCTV kept 14 days")),
        ),
    ):
        entities = from_document.entities(doc)
        await register.apply(db, doc.register_info.id, entities, "tests", occurred_at=when)
    app = Starlette(routes=[EXPORT_ROUTE])
    app.state.database = db
    app.state.tokens = (TokenEntry("admin", Role.ADMIN, hash_token(ADMIN_TOKEN)),)
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://registry", headers=headers
    ) as http:
        yield http


def _table(rows: list[list[str]]) -> list[dict[str, str]]:
    start = rows.index(list(CONTROLLER_COLUMNS)) + 1
    out = []
    for row in rows[start:]:
        if not any(row):
            break
        out.append(dict(zip(CONTROLLER_COLUMNS, row, strict=True)))
    return out


def _cctv(table: list[dict[str, str]]) -> str:
    return next(r for r in table if r["Business function"].startswith("CCTV"))[
        "Retention schedule (if possible)"
    ]


async def test_csv_as_of_a_day_has_that_days_values(client: httpx.AsyncClient) -> None:
    # asOf: the processing valid that day; recordedAt: the record as it was recorded then.
    response = await client.get(
        "/export/ropa.csv", params={"asOf": "2022-03-01", "recordedAt": "2022-03-01"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        'filename="ropa-allestree-woodlands-2022-03-01.csv"'
        in (response.headers["content-disposition"])
    )
    table = _table(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))))
    assert len(table) == 14
    assert _cctv(table).startswith("CCTV overwritten after 30 days")
    assert all(row[c] for row in table for c in ARTICLE_30_REQUIRED)

    # Before the first apply, the first recorded state stands (here with 2021's activities).
    earlier = await client.get(
        "/export/ropa.csv", params={"asOf": "2021-06-01", "recordedAt": "2021-06-01"}
    )
    table = _table(list(csv.reader(io.StringIO(earlier.content.decode("utf-8-sig")))))
    assert len(table) == 13  # the post-16 transfer had not begun
    assert _cctv(table).startswith("CCTV overwritten after 30 days")

    later = await client.get("/export/ropa.csv", params={"asOf": "2023-06-01"})
    today = await client.get("/export/ropa.csv", params={"asOf": "2022-03-01"})
    table = _table(list(csv.reader(io.StringIO(today.content.decode("utf-8-sig")))))
    assert _cctv(table).startswith("CCTV kept 14 days")  # asOf alone: today's record
    table = _table(list(csv.reader(io.StringIO(later.content.decode("utf-8-sig")))))
    assert len(table) == 14  # the post-16 transfer recurs every year from 14 February 2022
    assert _cctv(table).startswith("CCTV kept 14 days")


async def test_xlsx_and_json(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/export/ropa.xlsx", params={"controller": "allestree-woodlands", "asOf": "2022-03-01"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = [
        ["" if v is None else str(v) for v in row]
        for row in book["Controller record"].iter_rows(values_only=True)
    ]
    assert len(_table(rows)) == 14
    assert "Processor record (Art 30(2))" in book.sheetnames

    body = (await client.get("/export/ropa.json")).json()
    assert body["controller"] == "allestree-woodlands"
    assert body["asOf"] == dt.date.today().isoformat()
    assert len(body["controllerRecord"]["rows"]) == 14  # the annual post-16 transfer too


async def test_errors_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    cases = [
        ("/export/ropa.pdf", {}, 400, "BAD_REQUEST"),
        ("/export/ropa.csv", {"asOf": "1 March 2022"}, 400, "BAD_REQUEST"),
        ("/export/ropa.csv", {"controller": "nobody"}, 404, "NOT_FOUND"),
    ]
    for path, params, status, code in cases:
        response = await client.get(path, params=params)
        assert response.status_code == status, (path, params)
        assert response.json()["error"]["code"] == code
