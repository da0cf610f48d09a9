"""Bearer tokens in the registry: the configured hashes, and the principal of a request.

The token list comes from `ROPA_TOKENS` (JSON) and/or the file named by `ROPA_TOKENS_FILE`
(the same JSON; the Helm chart mounts it from a Secret); both may be set, and the lists are
joined. It is read once, when the app is created: a list that cannot be used stops the start
with a message that says where and why. See schema/access/tokens.py for the format.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from schema.access.principal import Principal
from schema.access.tokens import (
    TokenConfigInvalid,
    TokenEntry,
    bearer_token,
    parse_tokens,
    verify,
)

log = logging.getLogger(__name__)


def load_tokens(inline: str | None, file: Path | None) -> tuple[TokenEntry, ...]:
    """The configured tokens from the `ROPA_TOKENS` text and the `ROPA_TOKENS_FILE` file."""
    entries: list[TokenEntry] = []
    if inline is not None and inline.strip():
        entries.extend(parse_tokens(inline, "ROPA_TOKENS"))
    if file is not None:
        source = f"ROPA_TOKENS_FILE {file}"
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenConfigInvalid(source, f"cannot be read ({exc.strerror or exc})") from exc
        entries.extend(parse_tokens(text, source))
    hashes = [e.sha256 for e in entries]
    if len(set(hashes)) != len(hashes):
        raise TokenConfigInvalid(
            "ROPA_TOKENS and ROPA_TOKENS_FILE", "the same hash is listed in both"
        )
    if not entries:
        log.warning(
            "no bearer tokens are configured (ROPA_TOKENS, ROPA_TOKENS_FILE): "
            "every mutation will be refused"
        )
    return tuple(entries)


def principal_from_header(value: str | None, tokens: tuple[TokenEntry, ...]) -> Principal | None:
    """Who an `Authorization` header value (`Bearer <token>`) names; None when no one."""
    token = bearer_token(value)
    return None if token is None else verify(token, tokens)


def request_principal(request: Any) -> Principal | None:
    """The principal of a Starlette request or WebSocket, by its Authorization header and the
    tokens the app was started with (`app.state.tokens`); None for anything else."""
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    scope = getattr(request, "scope", None)
    app = scope.get("app") if isinstance(scope, dict) else None
    state = getattr(app, "state", None)
    tokens: tuple[TokenEntry, ...] = getattr(state, "tokens", ())
    return principal_from_header(headers.get("authorization"), tokens)
