"""The registry's settings come from the environment when the app is created."""

from __future__ import annotations

import pytest

from services.registry.app import create_app
from services.registry.settings import RegistrySettings


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://neo4j.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    monkeypatch.setenv("ROPA_ENV", "development")
    settings = RegistrySettings()
    assert settings.neo4j.uri == "bolt://neo4j.example:7687"
    assert settings.neo4j.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.development


def test_fails_fast_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROPA_ENV", raising=False)
    monkeypatch.delenv("NEO4J_MAX_TRANSACTION_RETRY_TIME", raising=False)
    settings = RegistrySettings()
    assert not settings.development
    assert settings.neo4j.max_transaction_retry_time <= 1.0
    assert settings.neo4j.connection_timeout <= 2.0


def test_rejects_an_unknown_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPA_ENV", "staging-ish")
    with pytest.raises(ValueError, match="env"):
        RegistrySettings()


def test_app_reads_settings_when_created_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://first.example:7687")
    first = create_app()
    monkeypatch.setenv("NEO4J_URI", "bolt://second.example:7687")
    second = create_app()
    assert first.state.settings.neo4j.uri == "bolt://first.example:7687"
    assert second.state.settings.neo4j.uri == "bolt://second.example:7687"


def test_production_without_a_secret_key_stops_either_service_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graph.secret_box import SecretKeyInvalid
    from services.notifier.app import create_app as create_notifier

    monkeypatch.delenv("ROPA_SECRET_KEY", raising=False)
    monkeypatch.delenv("ROPA_ENV", raising=False)
    with pytest.raises(SecretKeyInvalid, match="ROPA_SECRET_KEY is not set"):
        create_app()
    with pytest.raises(SecretKeyInvalid, match="ROPA_SECRET_KEY is not set"):
        create_notifier()
    monkeypatch.setenv("ROPA_SECRET_KEY", "too-short")
    with pytest.raises(SecretKeyInvalid, match="at least 32 characters"):
        create_app()
    monkeypatch.setenv("ROPA_ENV", "development")
    monkeypatch.delenv("ROPA_SECRET_KEY")
    assert not create_app().state.secret_box.encrypts
