"""Log lines: JSON with time, level, logger and the request's bound fields; readable text."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import sys

import pytest

from services.observability import logs


def _record(level: int = logging.WARNING, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "ropa.test", "levelno": level, "levelname": logging.getLevelName(level)}
    )
    record.msg, record.args = "webhook %s failed", ("w1",)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_carries_time_level_logger_and_the_request() -> None:
    def in_request() -> str:
        logs.start_request("req-1")
        logs.bind(principal="dpo-alice", operation="Recipients")
        return logs.JsonFormatter().format(_record(endpoint="w1"))

    line = contextvars.copy_context().run(in_request)
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "ropa.test"
    assert entry["message"] == "webhook w1 failed"
    assert entry["time"].endswith("+00:00")
    assert (entry["request_id"], entry["principal"], entry["operation"]) == (
        "req-1",
        "dpo-alice",
        "Recipients",
    )
    assert entry["endpoint"] == "w1"
    assert "\n" not in line


def test_requests_do_not_share_their_fields() -> None:
    async def request(request_id: str, principal: str | None) -> dict[str, str]:
        logs.start_request(request_id)
        logs.bind(principal=principal)
        await asyncio.sleep(0)  # the other request runs meanwhile
        entry: dict[str, str] = json.loads(logs.JsonFormatter().format(_record()))
        return entry

    async def both() -> list[dict[str, str]]:
        return list(await asyncio.gather(request("a", "alice"), request("b", None)))

    first, second = asyncio.run(both())
    assert (first["request_id"], first["principal"]) == ("a", "alice")
    assert second["request_id"] == "b"
    assert "principal" not in second


def test_an_exception_is_one_json_value() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record(logging.ERROR)
        record.exc_info = sys.exc_info()
    entry = json.loads(logs.JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]


def test_text_lines_for_a_terminal() -> None:
    def in_request() -> str:
        logs.start_request("req-2")
        return logs.TextFormatter().format(_record())

    line = contextvars.copy_context().run(in_request)
    assert "WARNING ropa.test: webhook w1 failed [request_id=req-2]" in line


def test_level_and_format_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPA_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("ROPA_LOG_FORMAT", "text")
    config = logs.dict_config(logs.LogSettings())
    assert config["root"]["level"] == "WARNING"
    assert config["handlers"]["stderr"]["formatter"] == "text"
