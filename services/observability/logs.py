"""Structured logs: one JSON object a line (time, level, logger, message, and the request's
id, principal and operation), or readable lines for a developer's terminal (`make run`).

`ropa serve` configures logging (uvicorn's too) from ROPA_LOG_LEVEL and ROPA_LOG_FORMAT; code
that knows who or what a request is calls `bind(...)`, and every line logged later in that
request carries it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogFormat = Literal["json", "text"]

# The fields of the request being served (request_id, principal, operation), per task.
_CONTEXT: ContextVar[Mapping[str, str]] = ContextVar(
    "ropa_log_context", default=MappingProxyType({})
)

# LogRecord's own attributes: anything else on a record came from `extra=` and is logged.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# uvicorn's terminal colours of the same message.
_NOISE = frozenset({"color_message"})


class LogSettings(BaseSettings):
    """ROPA_LOG_LEVEL and ROPA_LOG_FORMAT."""

    model_config = SettingsConfigDict(env_prefix="ROPA_LOG_", extra="ignore")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe level logged"
    )
    format: LogFormat = Field(
        default="json", description="`json` (one object a line) or `text` (what `make run` uses)"
    )


def start_request(request_id: str) -> None:
    """Forget what an earlier request bound; bind this one's id."""
    _CONTEXT.set({"request_id": request_id})


def bind(**fields: str | None) -> None:
    """Add fields to every line logged from here on in the current request (task)."""
    current = dict(_CONTEXT.get())
    current.update({k: v for k, v in fields.items() if v is not None})
    _CONTEXT.set(current)


def context() -> Mapping[str, str]:
    """The fields bound in the current request."""
    return _CONTEXT.get()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the bound fields,
    any `extra=` fields, and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_CONTEXT.get(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in _NOISE and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL logger: message [field=value ...]`, for reading in a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a readable line."""
        line = super().format(record)
        bound = " ".join(f"{k}={v}" for k, v in _CONTEXT.get().items())
        return f"{line} [{bound}]" if bound else line


def dict_config(settings: LogSettings) -> dict[str, Any]:
    """A logging.config.dictConfig for the app's loggers and uvicorn's (uvicorn's `log_config`)."""
    formatter = "json" if settings.format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "text": {"()": f"{__name__}.TextFormatter"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.level},
        "loggers": {
            # uvicorn's loggers pass their lines to the root handler, formatted the same way.
            "uvicorn": {"handlers": [], "level": settings.level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": settings.level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": settings.level, "propagate": True},
            # The driver's INFO lines are about its pool, not about the register.
            "neo4j": {"level": "WARNING"},
        },
    }
