"""The benchmarks' synthetic register stays honest: every school's document validates as
`ropa apply` validates a file, loads through the same code path, and answers lineage questions
the way its shape says it should."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bench import synthetic
from graph import from_document, register
from graph.database import Database
from graph.read import lineage
from schema.graphql.records import RecipientsQuestion
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j


def test_every_school_document_validates_as_a_file_would() -> None:
    for i in (0, 1, synthetic.PORTALS + 3):
        doc = synthetic.school(i)
        # The same document through the file path: the dict survives a JSON round trip.
        again = parse_document(json.dumps(synthetic.school_document(i)))
        assert again == doc
        assert doc.register_info.id == f"school-{i}"


async def test_schools_load_and_share_their_recipients(db: Database) -> None:
    for i in range(2):
        doc = synthetic.school(i)
        plan = await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")
        assert not plan.empty
    question = RecipientsQuestion("safeguarding", dt.date(2022, 6, 1), "school-1")
    found = {r.organisation_id: r for r in await lineage.recipients(db, question)}
    portal_subs = {e["sub_processor"] for e in synthetic._portal_engagements(1)}
    assert set(found) == {
        "police-1",
        "social-care-1",
        "la-1",
        "portal-1",
        "college-1",
        *portal_subs,
    }
    # A sub-processor is reached through the portal, the school's processor.
    sub = found[sorted(portal_subs)[0]]
    assert [[h.to_id for h in path] for path in sub.paths] == [["portal-1", sub.organisation_id]]
    # Every school of the graph, asked at once: the shared organisations appear once each.
    every = await lineage.recipients(db, RecipientsQuestion("safeguarding", dt.date(2022, 6, 1)))
    assert {"police-0", "police-1"} <= {r.organisation_id for r in every}
