"""Traces as an operator's collector receives them: `ropa serve registry` exporting by OTLP/HTTP
to a receiver on loopback that decodes the requests with opentelemetry-proto (the protocol's
reference definitions), and nothing of it when no endpoint is configured."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from graph.database import Database
from graph.neo4j_server import free_port
from services.observability import tracing
from tests.services.conftest import RegistryProcess
from tests.waiting import eventually

QUERY = 'query TracedDfe { organisation(ref: "dfe") { id name } }'


@dataclass(frozen=True)
class Span:
    """One span as received: its service, name, ids and string attributes."""

    service: str
    name: str
    trace_id: bytes
    attributes: dict[str, str]


def _strings(attributes: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for attribute in attributes:
        assert isinstance(attribute, KeyValue)
        if attribute.value.HasField("string_value"):
            found[attribute.key] = attribute.value.string_value
    return found


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver on 127.0.0.1 (POST /v1/traces, protobuf)."""

    port: int = field(default_factory=free_port)
    spans: list[Span] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> ThreadingHTTPServer:
        """Listen in a thread; the server (shut it down after)."""
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                with collector._lock:
                    collector.paths.append(self.path)
                    for resource_spans in request.resource_spans:
                        service = _strings(resource_spans.resource.attributes)["service.name"]
                        for scope_spans in resource_spans.scope_spans:
                            for span in scope_spans.spans:
                                collector.spans.append(
                                    Span(
                                        service, span.name, span.trace_id, _strings(span.attributes)
                                    )
                                )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def received(self) -> list[Span]:
        """The spans so far."""
        with self._lock:
            return list(self.spans)


@pytest.fixture
def collector() -> Iterator[Collector]:
    """A running receiver."""
    collector = Collector()
    server = collector.serve()
    yield collector
    server.shutdown()
    server.server_close()


@pytest.mark.neo4j
async def test_the_registry_exports_its_operations_and_cypher_spans(
    example: Database, registry_process: RegistryProcess, collector: Collector
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
        # Batches leave every 100 ms instead of every 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": None,
        "ROPA_PUBLIC_READS": "all",
    }
    with registry_process(env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answer = await http.post("/graphql", json={"query": QUERY})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["organisation"]["id"] == "dfe", answer.text

        def operation() -> list[Span]:
            return [s for s in collector.received() if s.name == "GraphQL Query: TracedDfe"]

        await eventually(lambda: bool(operation()), within=30, message="the operation's span")
        (span,) = operation()
        # The transactions it ran, each a span in the operation's trace, naming the function
        # in graph/ whose Cypher ran.
        await eventually(
            lambda: bool(_cypher_of(collector, span)), within=30, message="its Cypher spans"
        )
    assert {s.service for s in collector.received()} == {"ropa-registry"}
    assert set(collector.paths) == {"/v1/traces"}
    reads = _cypher_of(collector, span)
    assert {s.name for s in reads} == {"neo4j read"}
    assert all(s.attributes["db.system"] == "neo4j" for s in reads)
    functions = {s.attributes["code.function"] for s in reads}
    assert all(f.startswith("graph.") for f in functions), functions
    assert any(f.startswith("graph.read.") for f in functions), functions


def _cypher_of(collector: Collector, operation: Span) -> list[Span]:
    return [
        s
        for s in collector.received()
        if s.name.startswith("neo4j ") and s.trace_id == operation.trace_id
    ]


def test_with_no_endpoint_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # The registry adds strawberry's OpenTelemetryExtension, which wraps every resolver, only
    # when this says yes; and a transaction's span is not even started.
    assert not tracing.configure("registry")

    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the tracer was used ({name}) with tracing off")

    monkeypatch.setattr(tracing, "_tracer", Untouchable())
    with tracing.span("neo4j read", {"code.function": "f"}):
        assert trace.get_current_span() is trace.INVALID_SPAN
