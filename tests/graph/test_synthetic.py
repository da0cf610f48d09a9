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
from schema.document import DOCUMENT_VERSION
from schema.graphql.records import RecipientsQuestion
from schema.validation import parse_document

pytestmark = pytest.mark.neo4j


def test_every_school_document_validates_as_a_file_would() -> None:
    for i in (0, 1, synthetic.PORTALS + 3):
        written = synthetic.school_document(i)
        # Written as ropa/v2 (per-use citations), not as v1 read through the upgrade.
        assert written["version"] == DOCUMENT_VERSION == "ropa/v2"
        doc = synthetic.school(i)
        assert doc.version == DOCUMENT_VERSION
        # No Article basis rests on law globally; each 6(1)(c)/(e) use cites its own.
        assert not [b.id for b in doc.legal_bases if b.rests_on]
        cited = {u.id: u.legal_bases for u in doc.activities} | {
            u.id: u.legal_bases for u in doc.flows
        }
        uses = [c for citations in cited.values() for c in citations]
        assert {c.basis for c in uses} >= {"art6-1-c", "art6-1-e", "art9-2-g", "art10"}
        assert all(c.rests_on for c in uses if c.basis in ("art6-1-c", "art6-1-e"))
        reg5 = {k for k, cs in cited.items() for c in cs if "reg5" in [x.law for x in c.rests_on]}
        assert reg5 == {f"school-{i}-returns", f"school-{i}-census"}
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
