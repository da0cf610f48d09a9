"""What an operator sees of the notifier: failures logged at WARNING/ERROR and counted per
endpoint; a delivery loop that survives an unexpected error; /metrics and a bounded /readyz."""

from __future__ import annotations

import asyncio
import logging
import os

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from graph import webhooks
from graph.database import Database
from graph.secret_box import SecretBox
from schema.webhook_url import TargetPolicy
from services.notifier.app import create_app
from services.notifier.delivery import Notifier
from services.notifier.sender import Sender, client
from services.notifier.settings import NotifierSettings
from tests.services.notifier.conftest import MakeReceiver, Register, RunNotifier, eventually

pytestmark = pytest.mark.neo4j

BOX = SecretBox.from_setting(SecretStr(os.environ["ROPA_SECRET_KEY"]), required=True)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_failing_then_failed_endpoint_is_a_warning_then_an_error(
    db: Database,
    receivers: MakeReceiver,
    run_notifier: RunNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    register = Register(1, 1)
    await register.apply(db)
    broken = receivers(reply=lambda d, n: (503, {}))
    policy = TargetPolicy(allow_loopback=True)
    reg = await webhooks.register(db, broken.url, None, "dpo", policy, box=BOX)
    endpoint = reg.endpoint.id
    caplog.set_level(logging.INFO, logger="ropa.notifier")
    async with run_notifier(retry_schedule=(0.05,)):
        await register.change(db, [next(iter(register.purposes))], 1)

        async def failed() -> bool:
            return (await webhooks.get(db, endpoint)).status == "failed"

        await eventually(failed, message="marked failed")
    mine = [r for r in caplog.records if endpoint in r.getMessage()]
    assert [r.levelno for r in mine] == [logging.WARNING, logging.ERROR], mine
    assert _sample("ropa_webhook_failures_total", endpoint=endpoint, status="active") == 1
    assert _sample("ropa_webhook_failures_total", endpoint=endpoint, status="failed") == 1
    assert _sample("ropa_webhook_retries_total", endpoint=endpoint) == 1


async def test_the_delivery_loop_goes_on_after_an_unexpected_error(
    db: Database, notifier_settings: NotifierSettings, caplog: pytest.LogCaptureFixture
) -> None:
    rounds: list[int] = []

    async def flaky_poll() -> int:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("a bug in one round")
        return 0

    before = _sample("ropa_notifier_loop_errors_total", loop="delivery")
    async with client(notifier_settings.timeout, notifier_settings.concurrency) as http:
        sender = Sender(http, notifier_settings.policy, notifier_settings.timeout)
        notifier = Notifier(db, notifier_settings, sender)
        notifier.poll = flaky_poll  # type: ignore[method-assign]
        loop = asyncio.create_task(notifier.run())
        try:
            await eventually(lambda: len(rounds) >= 3, message="rounds after the error")
            assert not loop.done()
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("delivery round failed" in r.getMessage() and r.exc_info for r in errors)
    assert _sample("ropa_notifier_loop_errors_total", loop="delivery") == before + 1


async def test_metrics_and_readiness_are_served(
    db: Database, notifier_settings: NotifierSettings
) -> None:
    app = create_app(notifier_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as http:
            ready = await http.get("/readyz", headers={"X-Request-ID": "probe-1"})
            assert ready.status_code == 200, ready.text
            assert ready.headers["X-Request-ID"] == "probe-1"
            metrics = await http.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in (
        "ropa_cypher_transactions_total",
        "ropa_webhook_deliveries_total",
        "ropa_emails_sent_total",
        "ropa_notifier_loop_errors_total",
    ):
        assert f"# TYPE {name} counter" in metrics.text, name
    assert 'ropa_cypher_transactions_total{kind="read",service="notifier"}' in metrics.text


async def test_readiness_answers_within_its_timeout_when_neo4j_does_not(
    notifier_settings: NotifierSettings,
) -> None:
    # A port that accepts connections and never answers Bolt: the driver would wait long.
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = notifier_settings.model_copy(
        update={
            "neo4j": notifier_settings.neo4j.model_copy(update={"uri": f"bolt://127.0.0.1:{port}"}),
            "readiness_timeout": 0.5,
        }
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://n") as http:
                ready = await asyncio.wait_for(http.get("/readyz"), timeout=5)
        assert ready.status_code == 503
        assert "did not answer within 0.5 s" in ready.json()["reason"]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
