"""One real Neo4j for the whole test session; every database test starts from a clean graph.

With NEO4J_URI set, the tests use (and wipe!) that server instead of starting their own.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from graph import maintenance, migrate
from graph.database import Database, open_database
from graph.neo4j_server import LocalNeo4j, free_port
from graph.secret_box import new_key
from graph.settings import Neo4jSettings

# Everything the tests start stores webhook secrets encrypted, as production must (child
# processes inherit the key); a test that needs another key says so.
os.environ.setdefault("ROPA_SECRET_KEY", new_key())

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j | None]:
    """The session's own server, or None when NEO4J_URI names one to use."""
    if os.environ.get("NEO4J_URI"):
        yield None
        return
    server = LocalNeo4j(
        home=tmp_path_factory.mktemp("neo4j"), port=free_port(), heap="1g", page_cache="512m"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_settings(neo4j_server: LocalNeo4j | None) -> Neo4jSettings:
    """How to reach the session's Neo4j."""
    if neo4j_server is None:
        return Neo4jSettings()
    password = (neo4j_server.home / "password").read_text().strip()
    return Neo4jSettings(
        uri=neo4j_server.uri, password=SecretStr(password), max_transaction_retry_time=5.0
    )


@pytest.fixture(scope="session")
async def session_db(neo4j_settings: Neo4jSettings) -> AsyncIterator[Database]:
    """One driver for the session, with migrations applied once."""
    async with open_database(neo4j_settings) as db:
        await migrate.migrate(db)
        yield db


@pytest.fixture
async def db(session_db: Database) -> Database:
    """A clean, migrated database for one test."""
    await maintenance.wipe(session_db)
    session_db.round_trips = 0
    return session_db
