"""The retry schedule, Retry-After, settings from the environment (pure; no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from services.notifier.retry import next_delay, parse_retry_after
from services.notifier.settings import DEFAULT_RETRY_SCHEDULE, NotifierSettings

NOW = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def test_the_default_schedule_is_the_standard_webhooks_one() -> None:
    # 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the endpoint is failed.
    assert DEFAULT_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    delays = [next_delay(n, DEFAULT_RETRY_SCHEDULE) for n in range(1, 9)]
    assert delays == [*DEFAULT_RETRY_SCHEDULE, None]


def test_retry_after_lengthens_a_delay_but_never_shortens_it() -> None:
    assert next_delay(1, (5.0, 300.0), retry_after=60) == 60
    assert next_delay(2, (5.0, 300.0), retry_after=60) == 300
    # A receiver cannot park its endpoint for longer than the configured cap.
    assert next_delay(1, (5.0,), retry_after=10**9, max_retry_after=3600) == 3600
    assert next_delay(2, (5.0,), retry_after=1) is None
    with pytest.raises(ValueError, match="at least 1"):
        next_delay(0, (5.0,))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Fri, 01 Mar 2024 12:02:00 GMT", 120.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_as_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    monkeypatch.setenv("ROPA_WEBHOOK_RETRY_SCHEDULE", "0.5, 1,2")
    monkeypatch.setenv("ROPA_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ROPA_NOTIFIER_POLL_INTERVAL", "0.25")
    settings = NotifierSettings()
    assert settings.neo4j.uri == "bolt://db.example:7687"
    assert "s3cret" not in repr(settings)
    assert settings.retry_schedule == (0.5, 1.0, 2.0)
    assert settings.timeout == 15.0
    assert settings.poll_interval == 0.25
    assert (settings.policy.allow_private, settings.policy.allow_loopback) == (True, False)


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPA_WEBHOOK_RETRY_SCHEDULE", "5,-1")
    with pytest.raises(ValidationError, match="must not be negative"):
        NotifierSettings()
    monkeypatch.setenv("ROPA_WEBHOOK_RETRY_SCHEDULE", "5")
    monkeypatch.setenv("ROPA_WEBHOOK_TIMEOUT", "0")
    with pytest.raises(ValidationError, match="ROPA_WEBHOOK_TIMEOUT"):
        NotifierSettings()
