"""The async driver's lifecycle, and managed transactions that speak in domain errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired, TransientError

from graph.settings import Neo4jSettings
from schema.errors import DatabaseAuthFailed, DatabaseUnavailable

T = TypeVar("T")
P = ParamSpec("P")
TxFunction = Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]]


class Database:
    """A driver bound to one database; the only way the rest of the code reaches Neo4j."""

    def __init__(self, driver: AsyncDriver, database: str) -> None:
        self.driver = driver
        self.name = database
        self.round_trips = 0
        self._after_write: list[Callable[[], None]] = []

    def on_write(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each write transaction that commits (e.g. to read the change
        log at once rather than at the next poll)."""
        self._after_write.append(callback)

    async def read(self, fn: TxFunction[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` in a managed read transaction (retried by the driver on transient errors)."""
        self.round_trips += 1
        with _unavailable_as_domain_error():
            async with self.driver.session(database=self.name) as session:
                return await session.execute_read(fn, *args, **kwargs)

    async def write(self, fn: TxFunction[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` in a managed write transaction; `fn` must be idempotent (it may be retried)."""
        self.round_trips += 1
        with _unavailable_as_domain_error():
            async with self.driver.session(database=self.name) as session:
                written = await session.execute_write(fn, *args, **kwargs)
        for callback in self._after_write:
            callback()
        return written

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the server answers."""
        with _unavailable_as_domain_error():
            await self.driver.verify_connectivity()

    async def close(self) -> None:
        """Close the driver and its connection pool."""
        await self.driver.close()


@contextmanager
def _unavailable_as_domain_error() -> Iterator[None]:
    """Connection failures become DatabaseUnavailable, the error the layers above expect."""
    try:
        yield
    except AuthError as exc:
        raise DatabaseAuthFailed(
            f"Neo4j refused the user name or password ({exc.message})"
        ) from exc
    except (ServiceUnavailable, SessionExpired, OSError) as exc:
        raise DatabaseUnavailable(f"Neo4j is unavailable: {exc}") from exc
    except TransientError as exc:
        # While a database starts or stops Neo4j answers with this transient code, which the
        # driver has already retried for as long as it was configured to.
        if exc.code != "Neo.TransientError.General.DatabaseUnavailable":
            raise
        raise DatabaseUnavailable(f"Neo4j is unavailable: {exc}") from exc


def create_driver(settings: Neo4jSettings) -> AsyncDriver:
    """A driver for the configured URI; it connects lazily."""
    return AsyncGraphDatabase.driver(
        settings.uri,
        auth=(settings.user, settings.password.get_secret_value()),
        connection_timeout=settings.connection_timeout,
        max_transaction_retry_time=settings.max_transaction_retry_time,
        connection_acquisition_timeout=settings.connection_timeout * 2,
        # Notifications (e.g. "label does not exist" on an empty graph) are not ours to act on.
        notifications_min_severity="OFF",
    )


@asynccontextmanager
async def open_database(settings: Neo4jSettings) -> AsyncIterator[Database]:
    """A Database for the lifetime of the block; the driver is closed on exit."""
    database = Database(create_driver(settings), settings.database)
    try:
        yield database
    finally:
        await database.close()
