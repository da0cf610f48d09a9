"""A small register for the portal: a school appointing a portal company under a contract with
notice terms, the company's sub-processors in force, ended and announced, dated around today."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from graph import from_document, register
from graph.database import Database
from schema.validation import parse_document

# The notifier tests' fixtures: the child processes, for the kill -9 tests of the mail worker
# and of objections by webhook; the receivers and the in-process notifier.
from tests.services.notifier.conftest import (  # noqa: F401
    notifier_processes,
    notifier_settings,
    receivers,
    run_notifier,
)

TODAY = dt.date.today()
NOTICE_PERIOD = 30
OBJECTION_WINDOW = 14


def day(offset: int) -> str:
    """Today plus `offset` days, as ISO text."""
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def document() -> dict[str, Any]:
    """The register: hosting since long ago, a mailer ended 10 days ago, analytics announced
    5 days ago (objections open), backups announced 20 days ago (objections closed)."""
    return {
        "version": "ropa/v1",
        "register": {"id": "school", "name": "School register", "owner": "school"},
        "organisations": [
            {"id": "school", "name": "Test School", "kind": "school"},
            {
                "id": "portal-co",
                "name": "Portal Co Ltd",
                "kind": "company",
                "dpo": {"name": "Pat Portal", "email": "dpo@portal-co.example"},
            },
            {"id": "hosting-co", "name": "Hosting Co Ltd", "kind": "company"},
            {"id": "mail-co", "name": "Mail Co Ltd", "kind": "company"},
            {"id": "stats-co", "name": "Stats <Co> Ltd", "kind": "company"},
        ],
        "data_categories": [
            {"id": "pupil-data", "name": "Pupil data"},
            {"id": "contact-details", "name": "Contact details", "parent": "pupil-data"},
        ],
        "activities": [
            {
                "id": "portal",
                "name": "The transition portal",
                "controller": "school",
                "processors": [
                    {
                        "organisation": "portal-co",
                        "contract": "urn:school:contract:portal-co",
                        "notice_period_days": NOTICE_PERIOD,
                        "objection_window_days": OBJECTION_WINDOW,
                    }
                ],
                "data_categories": ["pupil-data"],
            }
        ],
        "engagements": [
            {
                "id": "portal-hosting",
                "processor": "portal-co",
                "sub_processor": "hosting-co",
                "purpose": "Hosting",
                "data_categories": ["pupil-data"],
                "location": "United Kingdom",
                "since": day(-400),
                "notice_date": day(-440),
            },
            {
                "id": "portal-mail",
                "processor": "portal-co",
                "sub_processor": "mail-co",
                "purpose": "Sending e-mail",
                "data_categories": ["contact-details"],
                "location": "Ireland",
                "since": day(-300),
                "until": day(-10),
                "notice_date": day(-340),
            },
            {
                "id": "portal-stats",
                "processor": "portal-co",
                "sub_processor": "stats-co",
                "purpose": "Usage statistics",
                "data_categories": ["contact-details"],
                "location": "Germany",
                "since": day(25),
                "notice_date": day(-5),
                "status": "proposed",
            },
            {
                "id": "portal-late",
                "processor": "portal-co",
                "sub_processor": "hosting-co",
                "purpose": "Backups",
                "data_categories": ["pupil-data"],
                "location": "United Kingdom",
                "since": day(10),
                "notice_date": day(-20),
                "status": "proposed",
            },
        ],
    }


@pytest.fixture
async def portal_register(db: Database) -> Database:
    """A clean graph holding the portal register."""
    doc = parse_document(json.dumps(document()))
    await register.apply(db, doc.register_info.id, from_document.entities(doc), "tests")
    return db
