"""Every Prometheus metric of the registry and the notifier, by name, and the /metrics route.

One module, so that an operator (and the next developer) finds every name in one place.
Counters start at zero with the service. A process serves its own at /metrics; the workers of
`ropa serve --workers N` share theirs through prometheus-client's multiprocess mode (files in
PROMETHEUS_MULTIPROC_DIR), so that whichever worker answers /metrics reports them all: counters
and histograms summed, gauges as each one's mode says.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.observability import tracing
from services.observability.workers import shared_dir

# --- both services: Neo4j ---
CYPHER_TRANSACTIONS = Counter(
    "ropa_cypher_transactions_total",
    "Neo4j transactions (each one round trip), by service and kind (read, write)",
    ["service", "kind"],
)
CYPHER_SECONDS = Histogram(
    "ropa_cypher_transaction_seconds",
    "Time of one Neo4j transaction, retries included",
    ["service", "kind"],
)

# --- registry: GraphQL and subscriptions ---
GRAPHQL_OPERATIONS = Counter(
    "ropa_graphql_operations_total",
    "GraphQL operations by operation name, type and outcome (ok, error)",
    ["operation", "type", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "ropa_graphql_operation_seconds",
    "Time to answer a GraphQL operation (a subscription: its whole life)",
    ["operation", "type"],
)
RESPONSE_CACHE = Counter(
    "ropa_response_cache_total",
    "Queries of the register's questions answered from the response cache (hit) or not (miss)",
    ["outcome"],
)
SUBSCRIBERS = Gauge(
    "ropa_subscribers",
    "Follower subscribers: one per group of live subProcessorChanges subscriptions asking the "
    "same, one per replaying one (summed over the live workers)",
    multiprocess_mode="livesum",
)
SUBSCRIBERS_DROPPED = Counter(
    "ropa_subscribers_dropped_total",
    "Subscribers dropped for falling too far behind (they resume from their last change)",
)
SUBSCRIPTION_FRAMES_DIRECT = Counter(
    "ropa_subscription_frames_direct_total",
    "Subscription messages written straight to a socket's transport, framed once for every "
    "subscriber of a group with the same operation id (the rest go through the ASGI send)",
)
FOLLOWER_LAG = Gauge(
    "ropa_follower_lag_seconds",
    "Seconds since the change follower last read the change log (the most of the live workers)",
    multiprocess_mode="livemax",
)
FOLLOWER_POSITION = Gauge(
    "ropa_follower_position",
    "Sequence number of the last change the follower has read (the least of the live workers)",
    multiprocess_mode="livemin",
)

# --- notifier: webhooks ---
WEBHOOK_DELIVERIES = Counter(
    "ropa_webhook_deliveries_total", "Changes delivered to an endpoint (2xx)", ["endpoint"]
)
WEBHOOK_FAILURES = Counter(
    "ropa_webhook_failures_total",
    "Failed delivery attempts, by endpoint and the status they left it in "
    "(active: a retry is scheduled; failed: retries exhausted; disabled: 410 Gone)",
    ["endpoint", "status"],
)
WEBHOOK_RETRIES = Counter(
    "ropa_webhook_retries_total", "Retries scheduled after a failed attempt", ["endpoint"]
)
LOOP_ERRORS = Counter(
    "ropa_notifier_loop_errors_total",
    "Unexpected errors a notifier loop survived (it logs each at ERROR and goes on)",
    ["loop"],
)

# --- notifier: e-mail ---
EMAILS_QUEUED = Counter("ropa_emails_queued_total", "E-mails planned for sending")
EMAILS_SENT = Counter("ropa_emails_sent_total", "E-mails the SMTP server accepted")
EMAIL_FAILURES = Counter("ropa_email_failures_total", "E-mails the SMTP server did not accept")

# An operation name is the client's to choose: only plain GraphQL names become labels, and only
# so many, so that a hostile client cannot grow the series without bound.
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_MAX_OPERATION_NAMES = 200
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    """The `operation` label for an operation name: itself, `anonymous` or `other`."""
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "other"
    if name not in _seen_operations:
        if len(_seen_operations) >= _MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


class CypherObserver:
    """Counts and times each transaction of a service's Database, inside a trace span."""

    def __init__(self, service: str) -> None:
        self.service = service

    def transaction(self, kind: str, name: str) -> AbstractContextManager[object]:
        """The metrics and the span around one transaction."""
        return self._observe(kind, name)

    @contextmanager
    def _observe(self, kind: str, name: str) -> Iterator[object]:
        CYPHER_TRANSACTIONS.labels(self.service, kind).inc()
        started = time.perf_counter()
        try:
            with tracing.span(f"neo4j {kind}", {"db.system": "neo4j", "code.function": name}):
                yield None
        finally:
            CYPHER_SECONDS.labels(self.service, kind).observe(time.perf_counter() - started)


# How often a worker writes its function gauges to the shared files (multiprocess mode only).
GAUGE_REFRESH = 1.0


@asynccontextmanager
async def gauges(functions: dict[Gauge, Callable[[], float]]) -> AsyncIterator[None]:
    """Keep each gauge at its function's value for the block: read at scrape time in one
    process; written every GAUGE_REFRESH seconds when workers share their metrics, since the
    worker answering /metrics cannot call another's functions. The worker's live gauges go
    with the block."""
    if shared_dir() is None:
        for gauge, function in functions.items():
            gauge.set_function(function)
        yield
        return

    async def refresh() -> None:
        while True:
            for gauge, function in functions.items():
                gauge.set(function())
            await asyncio.sleep(GAUGE_REFRESH)

    task = asyncio.create_task(refresh(), name="metrics-gauges")
    try:
        yield
    finally:
        task.cancel()
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


async def metrics(request: Request) -> Response:
    """The service's metrics in Prometheus' text format (every worker's, when shared)."""
    if shared_dir() is None:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


METRICS_ROUTE = Route("/metrics", metrics, methods=["GET"])
