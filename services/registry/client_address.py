"""The client's address, as every per-client limit counts it.

The address the connection came from; behind a proxy listed in `ROPA_TRUSTED_PROXIES`, the
address it forwarded: uvicorn's ProxyHeadersMiddleware, outermost in the app (app.py), has
already rewritten the ASGI scope's `client` from X-Forwarded-For, and only for those proxies,
so a client elsewhere cannot choose its own address by sending the header.
"""

from __future__ import annotations

from starlette.types import Scope

UNKNOWN = "unknown"


def client_address(scope: Scope) -> str:
    """The client's address (UNKNOWN when the server gives none)."""
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN
