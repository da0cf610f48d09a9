"""One-statement reads auto-commit, and fall back to the driver's managed retries when the
connection goes under them (here: closed by the server while the statement runs)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import pytest
from neo4j import AsyncSession
from neo4j.exceptions import CypherSyntaxError

from graph.database import Database, Runner, open_database
from graph.settings import Neo4jSettings

pytestmark = pytest.mark.neo4j

_RUNNING = """SHOW TRANSACTIONS YIELD connectionId, currentQuery
WHERE currentQuery CONTAINS $text AND NOT currentQuery STARTS WITH 'SHOW'
RETURN connectionId"""
_SLOW = "UNWIND range(1, 900000000) AS x RETURN count(x) AS n"
_KILL = "UNWIND $ids AS id CALL dbms.killConnection(id) YIELD message RETURN message"


async def _one(tx: Runner, /, value: int) -> tuple[int, str]:
    record = await (await tx.run("RETURN $value AS value", value=value)).single(strict=True)
    return int(record["value"]), "auto-commit" if isinstance(tx, AsyncSession) else "managed"


async def test_a_one_statement_read_auto_commits(db: Database) -> None:
    assert await db.read_one(_one, value=7) == (7, "auto-commit")
    assert db.round_trips == 1


class _Proxy:
    """A TCP relay to Neo4j on loopback, whose open connections can be cut (as a network
    or a load balancer drops them)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cuts: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)
        self.cuts += [client_w, server_w]

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    def cut(self) -> None:
        """Close every connection relayed so far."""
        for writer in self.cuts:
            writer.close()
        self.cuts.clear()


async def _running(db: Database, text: str) -> str:
    """The connection of the transaction running `text`, once it runs."""
    async with db.driver.session(database=db.name) as session:
        while True:
            record = await (await session.run(_RUNNING, text=text)).single()
            if record is not None:
                return str(record["connectionId"])


async def test_a_read_whose_connection_drops_is_read_again_in_a_managed_transaction(
    db: Database, neo4j_settings: Neo4jSettings
) -> None:
    attempts: list[str] = []

    async def slow_then_quick(tx: Runner, /) -> int:
        # The first attempt is still running when its connection goes; the second is quick.
        attempts.append("auto-commit" if isinstance(tx, AsyncSession) else "managed")
        statement = _SLOW if len(attempts) == 1 else "RETURN 1 AS n"
        return int((await (await tx.run(statement)).single(strict=True))["n"])

    target = urlsplit(neo4j_settings.uri)
    proxy = _Proxy(target.hostname or "127.0.0.1", target.port or 7687)
    async with proxy as port:

        async def drop_it() -> None:
            connection = await asyncio.wait_for(_running(db, "range(1, 900000000)"), 60)
            proxy.cut()
            # The server would count on to the end before it saw the client gone.
            async with db.driver.session(database=db.name) as session:
                await (await session.run(_KILL, ids=[connection])).consume()

        relayed = neo4j_settings.model_copy(update={"uri": f"bolt://127.0.0.1:{port}"})
        async with open_database(relayed) as reader:
            found, _ = await asyncio.gather(reader.read_one(slow_then_quick), drop_it())
            assert found == 1
            assert attempts == ["auto-commit", "managed"]
            assert reader.round_trips == 2


async def test_an_error_the_driver_would_not_retry_is_raised_at_once(db: Database) -> None:
    calls: list[str] = []

    async def broken(tx: Runner, /) -> None:
        calls.append(type(tx).__name__)
        await (await tx.run("RETURN FROM nowhere")).consume()

    with pytest.raises(CypherSyntaxError):
        await db.read_one(broken)
    assert calls == ["AsyncSession"]
