from __future__ import annotations

from pathlib import Path

import pytest

from graph.database import Database
from schema.errors import DocumentInvalid
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j

SMALL = (Path(__file__).resolve().parents[1] / "fixtures" / "small-register.yaml").read_text()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("to: dfe", "to: nowhere"), "flows[0].to: unknown organisation 'nowhere'"),
        (("  - id: portal-co\n", "  - id: dfe\n"), "organisations[2].id: duplicate id 'dfe'"),
        (
            ("    until: 2023-02-13\n    status", "    until: 2021-01-01\n    status"),
            "engagements[0]: until 2021-01-01 is before since 2022-02-14",
        ),
        (
            ("legal_bases: [art6-1-c, art9-2-g]", "legal_bases: [art6-1-c, art9-2-z]"),
            "activities[1].legal_bases[1].basis: unknown legal basis 'art9-2-z'",
        ),
        (
            ("    valid_until: 2023-02-13\nflows", "    valid_until: 2019-02-13\nflows"),
            "activities[1]: valid_until 2019-02-13 is before valid_from 2022-02-14",
        ),
        (("status: active", "status: maybe"), "engagements[0].status: Input should be"),
        (
            ("kind: school", "kind: school\n    colour: blue"),
            "organisations[0].colour: unknown field",
        ),
        (
            ("rests_on: [education-act-1996]", "rests_on: [art9-2-g]"),
            # Read as ropa/v1, the basis's rests_on becomes the law of each use that cites it.
            "legal_bases[0].rests_on[0].law: 'art9-2-g' is a article-9 basis, not law",
        ),
    ],
)
async def test_invalid_document_is_rejected_with_its_message_and_writes_nothing(
    db: Database, edit: tuple[str, str], expected: str
) -> None:
    old, new = edit
    assert old in SMALL
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(SMALL.replace(old, new, 1), "doc.yaml")
    lines = caught.value.render()
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("doc.yaml:") for line in lines)
    async with db.driver.session(database=db.name) as session:
        record = await (await session.run("MATCH (n:Entity) RETURN count(n) AS n")).single()
    assert record is not None
    assert record["n"] == 0
