"""A setting from the environment that cannot be used is named, with its value and why."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.settings import Neo4jSettings, setting_problems
from services.cli.settings import CliSettings
from services.registry.settings import RegistrySettings


def _problems(build: type[object], monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        build()
    found = setting_problems(caught.value)
    assert found is not None
    return found


def test_each_class_names_the_variable_it_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(CliSettings, monkeypatch, ROPA_ALLOCATOR="bogus") == [
        "ROPA_ALLOCATOR='bogus': Input should be 'auto', 'jemalloc' or 'python'"
    ]
    assert _problems(RegistrySettings, monkeypatch, ROPA_MAX_RESULT_VALUES="many") == [
        "ROPA_MAX_RESULT_VALUES='many': Input should be a valid integer, unable to parse "
        "string as an integer"
    ]


def test_a_nested_class_under_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(CliSettings, monkeypatch, NEO4J_CONNECTION_TIMEOUT="-2") == [
        "NEO4J_CONNECTION_TIMEOUT='-2': Input should be greater than 0"
    ]
    assert _problems(Neo4jSettings, monkeypatch, NEO4J_CONNECTION_TIMEOUT="-2") == [
        "NEO4J_CONNECTION_TIMEOUT='-2': Input should be greater than 0"
    ]


class _SealedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEALED_TEST_")

    pass_phrase: SecretStr = Field(default=SecretStr("x" * 32), min_length=32)


def test_a_secret_value_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    (problem,) = _problems(_SealedSettings, monkeypatch, SEALED_TEST_PASS_PHRASE="short")
    assert problem.startswith("SEALED_TEST_PASS_PHRASE: ")
    assert "short" not in problem


def test_other_validation_errors_are_not_taken_for_settings() -> None:
    class NotSettings(BaseModel):
        count: int

    with pytest.raises(ValidationError) as caught:
        NotSettings.model_validate({"count": "x"})
    assert setting_problems(caught.value) is None
