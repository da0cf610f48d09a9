"""The GraphQL endpoint: strawberry's ASGI view with our context; a browser gets the explorer.

The explorer page is the console's (services.registry.console): GraphiQL from the registry's
own files, with the DPO's questions as ready tabs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from graph.database import Database
from schema.errors import ErrorCode
from schema.graphql.context import RegistryContext
from services.observability import logs
from services.registry import heap
from services.registry.auth import principal_from_header, stale_session
from services.registry.console.pages import explorer_page, has_sign_in
from services.registry.follower import ChangeFollower
from services.registry.loaders import build_context
from services.registry.multiplex import MultiplexedTransportWSHandler, SubscriptionGroups
from services.registry.subscriptions import share_organisations

log = logging.getLogger(__name__)

# The codes of requests that never reach GraphQL (docs/api-changes.md lists every code).
_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    415: ErrorCode.BAD_REQUEST,
}

# connection_ack with no payload.
_ACK: UnsetType = UNSET


class RegistryGraphQL(GraphQL[RegistryContext, None]):
    """POST (and GET) runs operations; a browser's GET opens the explorer with ready tabs.

    WebSockets on the same endpoint speak graphql-transport-ws only (the legacy `graphql-ws`
    subprotocol is refused with 4406); see docs/subscriptions.md. Live subscriptions asking the
    same thing share one execution (services.registry.multiplex).
    """

    graphql_transport_ws_handler_class = MultiplexedTransportWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        connection_init_timeout: float = 10.0,
        subscriptions_per_connection: int = 20,
        allowed_origins: tuple[str, ...] = (),
        subscriber_queue_size: int = 1000,
        explorer: bool = True,
    ) -> None:
        # Strawberry refuses WebSocket handshakes from pages of another origin than the Host
        # (cross-site WebSocket hijacking); `allowed_origins` adds the public one behind a proxy.
        super().__init__(
            schema,
            # Without the explorer, a browser's GET of /graphql is 404 (ROPA_EXPLORER).
            graphql_ide="graphiql" if explorer else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            connection_init_wait_timeout=timedelta(seconds=connection_init_timeout),
            max_subscriptions_per_connection=subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self.subscription_groups = SubscriptionGroups(subscriber_queue_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, but a request it cannot read (a body that is not JSON, no query, a
        wrong method) is answered as GraphQL errors are, in JSON with `extensions.code`,
        rather than in plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": code}}]},
                status_code=exc.status_code,
            )
        await response(scope, receive, send)
        size = len(getattr(response, "body", b""))
        # The body is freed here, so that what a large answer held can be given back.
        del response
        heap.sent(size)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """As strawberry's, with orjson's bytes as the body: its str (`encode_json`) would be
        copied twice more, into a str and back into bytes, 7 MB for a 3.4 MB answer."""
        response = Response(orjson.dumps(response_data), media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    def encode_json(self, data: object) -> str:
        """Each WebSocket message (and streamed part) in JSON, by orjson: an every-controller
        lineage answer is megabytes, which the standard library takes milliseconds per 100 KB
        over. Text, not bytes: strawberry sends bytes as binary WebSocket frames."""
        return orjson.dumps(data).decode()

    @property
    def graphql_ide_html(self) -> str:
        """The explorer page (for an app without people's sessions)."""
        return explorer_page()

    async def render_graphql_ide(self, request: Request) -> Response:
        """The explorer page, which uses the session when the app has sign-in."""
        return HTMLResponse(explorer_page(has_sign_in(request.app.routes)))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RegistryContext:
        """A fresh context (loaders, reader) for each request."""
        database: Database = request.app.state.database
        context = build_context(database, request=request, response=response)
        logs.bind(principal=context.principal.name if context.principal else None)
        follower: ChangeFollower | None = getattr(request.app.state, "changes", None)
        context.changes = follower
        if isinstance(request, WebSocket) and follower is not None:
            share_organisations(context, follower.organisations)
        return context

    async def on_ws_connect(self, context: RegistryContext) -> UnsetType | dict[str, object] | None:
        """`connection_init`: reads need no token, but a token given in the payload
        (`{"Authorization": "Bearer <token>"}`) must be a configured one, else the socket is
        closed with 4403 Forbidden; it then acts for the connection's operations. Without one, a
        signed-in browser's session cookie acts (see auth.request_principal), and one that has
        expired or does not verify closes the socket with 4403 too."""
        given = _authorization(context.connection_params)
        if given is None:
            if isinstance(context.request, WebSocket) and stale_session(context.request):
                log.info("refused a WebSocket whose session has expired or is not valid")
                raise ConnectionRejectionError(
                    {"code": ErrorCode.UNAUTHENTICATED, "signIn": "/auth/login"}
                )
            return _ACK
        tokens = getattr(context.request.app.state, "tokens", ())
        principal = principal_from_header(given, tokens) if isinstance(given, str) else None
        if principal is None:
            log.info("refused a WebSocket whose connection_init carried an unknown token")
            raise ConnectionRejectionError()
        context.principal = principal
        logs.bind(principal=principal.name)
        return _ACK


def _authorization(params: Any) -> object | None:
    """The `Authorization` entry of a connection_init payload, whatever its case."""
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization":
            found: object = value
            return found
    return None
