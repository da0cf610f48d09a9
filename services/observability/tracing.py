"""OpenTelemetry traces: off unless an OTLP endpoint is configured.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, `configure`
installs the SDK's tracer provider with a batching OTLP/HTTP exporter, which reads the standard
OTEL_* variables itself (headers, timeout, OTEL_SERVICE_NAME ...). Otherwise the API's no-op
tracer stays and spans cost next to nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_tracer = trace.get_tracer("ropa")
_configured = False


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether an OTLP endpoint is configured."""
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in _ENDPOINT_VARIABLES)


def configure(service: str) -> bool:
    """Export this process's spans by OTLP when an endpoint is configured; whether it does."""
    global _configured
    if not enabled():
        return False
    if _configured:
        return True
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or f"ropa-{service}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


@contextmanager
def span(name: str, attributes: Mapping[str, str]) -> Iterator[None]:
    """A span around a block; unless traces are configured, nothing at all."""
    if not _configured:
        yield
        return
    with _tracer.start_as_current_span(name, attributes=dict(attributes)):
        yield
