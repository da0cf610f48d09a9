"""The issue's attacks and graphql-cop's checks against a production-mode registry served by
uvicorn: each is refused by its limit, while /healthz and a small query keep answering fast.

Each attack is repeated for about a second while a thread probes the server (conftest.probing):
a registry whose event loop an attack holds up (the 11 MB query once took 19 s to parse) fails
the latency check by seconds, whatever the machine.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.neo4j

Probe = Callable[[], AbstractContextManager[Any]]
Attack = Callable[[], Awaitable[httpx.Response]]


async def _repeat(probe: Probe, attack: Attack, seconds: float = 1.0) -> list[httpx.Response]:
    """Run `attack` again and again for `seconds` (at least twice) under the probe; check the
    probe's latencies; return the attack's responses."""
    responses: list[httpx.Response] = []
    with probe() as latencies:
        start = time.monotonic()
        # Long enough for the probes to have answered a few times, however slow the machine.
        while (
            len(responses) < 2 or time.monotonic() < start + seconds or len(latencies.during) < 4
        ) and time.monotonic() < start + 60:
            responses.append(await attack())
            await asyncio.sleep(0.02)  # one attacker, not a flood: rate limits are for floods
    latencies.check()
    return responses


async def _raw_status(url: str, head: bytes, body: list[bytes]) -> int:
    """Send a request head and some of its body, then read the status the server answers with.
    (httpx will not send a body shorter than it declares; and a client still writing when the
    server answers and closes may lose the answer to the reset.)"""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head)
        for chunk in body:
            writer.write(chunk)
            await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
        return int(status_line.split()[1])
    finally:
        writer.close()


def _too_complex(response: httpx.Response, limit: str) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    errors = body["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["OPERATION_TOO_COMPLEX"] * len(errors)
    messages = [e["message"] for e in errors]
    assert any(m.startswith(f"operation too complex: {limit} ") for m in messages), messages
    return str(messages)


def _post(client: httpx.AsyncClient, query: str, **extra: Any) -> Attack:
    return lambda: client.post("/graphql", json={"query": query, **extra})


def _nested(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"parent {{ children {{ {inner} }} }}"
    return f"{{ dataCategories {{ {inner} }} }}"


async def test_parent_children_five_levels_deep_is_refused(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    query = _nested(5)
    assert len(query) < 170
    for response in await _repeat(probe, _post(attacker, query)):
        message = _too_complex(response, "depth")
        assert "(limit 10)" in message


async def test_parent_children_twenty_five_levels_deep_is_refused(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    for response in await _repeat(probe, _post(attacker, _nested(25))):
        assert re.search(r"depth 52 \(limit 10\)", _too_complex(response, "depth"))


async def test_a_wide_tree_within_the_depth_is_refused_by_its_estimated_size(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    query = "{ dataCategories { children { children { children { name } } } } }"
    for response in await _repeat(probe, _post(attacker, query)):
        _too_complex(response, "estimated result size (values)")


def _aliased_recipients(count: int) -> str:
    fields = " ".join(
        f'r{i}: recipients(category: "safeguarding", '
        f'asOf: "2022-{1 + i % 12:02d}-{1 + i % 28:02d}")'
        " { organisation { name } paths { hops { kind } } }"
        for i in range(count)
    )
    return "{ " + fields + " }"


async def test_three_hundred_aliases_of_recipients_are_refused(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    # The query is some 6 000 tokens: the parser stops at 2 000.
    for response in await _repeat(probe, _post(attacker, _aliased_recipients(300))):
        _too_complex(response, "tokens")
    # Within the token limit, the aliases and the estimated size refuse it.
    for response in await _repeat(probe, _post(attacker, _aliased_recipients(40))):
        assert "aliases 40 (limit 15)" in _too_complex(response, "aliases")


def _head(length: int | None) -> bytes:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return (
        f"POST /graphql HTTP/1.1\r\nhost: registry\r\ncontent-type: application/json\r\n"
        f"{framing}\r\n\r\n"
    ).encode()


async def test_a_hundred_megabyte_body_is_refused_413_before_it_is_read(
    production: Any, probe: Probe
) -> None:
    # Not a byte of the body is sent: the answer comes from the declared length alone.
    async def status() -> httpx.Response:
        return httpx.Response(await _raw_status(production.url, _head(100 * 1024**2), []))

    for response in await _repeat(probe, status):
        assert response.status_code == 413
    async with httpx.AsyncClient(base_url=production.url) as client:
        small = await client.post("/graphql", json={"query": "{ __typename }"})
        assert small.status_code == 200  # under the limit, a body goes through


async def test_a_chunked_body_is_refused_413_once_it_passes_the_limit(
    production: Any, probe: Probe
) -> None:
    # 17 chunks of 64 KiB: just past 1 MiB, and no end.
    chunks = [b"10000\r\n" + b" " * 65536 + b"\r\n"] * 17

    async def status() -> httpx.Response:
        return httpx.Response(await _raw_status(production.url, _head(None), chunks))

    for response in await _repeat(probe, status):
        assert response.status_code == 413


async def test_an_eleven_megabyte_query_is_refused_413(production: Any, probe: Probe) -> None:
    query = b'{"query": "{ ' + b"__typename " * 1_000_000 + b'}"}'
    assert len(query) > 11_000_000

    async def status() -> httpx.Response:
        return httpx.Response(await _raw_status(production.url, _head(len(query)), []))

    for response in await _repeat(probe, status):
        assert response.status_code == 413


async def test_a_megabyte_of_comment_is_parsed_without_holding_up_anyone(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    # Under the body limit, and few tokens: the lexer reads it all (about a second, in a
    # worker thread), then it runs.
    query = "#" + "x" * 900_000 + "\n{ __typename }"
    for response in await _repeat(probe, _post(attacker, query), seconds=2.0):
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_megabyte_of_string_argument_is_parsed_without_holding_up_anyone(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    query = '{ organisation(ref: "' + "x" * 900_000 + '") { name } }'
    for response in await _repeat(probe, _post(attacker, query), seconds=2.0):
        assert response.status_code == 200
        assert response.json()["data"] is None or "errors" in response.json()


async def test_too_many_tokens_are_refused_while_parsing(
    attacker: httpx.AsyncClient, probe: Probe
) -> None:
    query = "{ " + "__typename " * 90_000 + "}"
    for response in await _repeat(probe, _post(attacker, query)):
        assert "tokens more than 2000 (limit 2000)" in _too_complex(response, "tokens")


# graphql-cop's checks, https://github.com/dolevf/graphql-cop (lib/tests/*.py)


async def test_introspection_is_off(attacker: httpx.AsyncClient, probe: Probe) -> None:
    query = "query cop { __schema { types { name fields { name } } } }"
    for response in await _repeat(probe, _post(attacker, query)):
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection has been disabled" in body["errors"][0]["message"]
    typed = (await _post(attacker, '{ __type(name: "Query") { fields { name } } }')()).json()
    assert typed["data"] is None


async def test_field_suggestions_are_off(attacker: httpx.AsyncClient, probe: Probe) -> None:
    for response in await _repeat(probe, _post(attacker, "{ organisatio { nam } }")):
        body = response.json()
        assert body["errors"], body
        assert all("Did you mean" not in e["message"] for e in body["errors"])
        assert "organisations" not in response.text


async def test_graphiql_is_off(attacker: httpx.AsyncClient, probe: Probe) -> None:
    page = lambda: attacker.get("/graphql", headers={"accept": "text/html"})  # noqa: E731
    for response in await _repeat(probe, page):
        assert response.status_code == 404
        assert "graphiql" not in response.text.lower()


async def test_mutations_over_get_are_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    mutation = 'mutation { removeWebhook(id: "x") { errors { message } } }'
    get = lambda: attacker.get(  # noqa: E731
        "/graphql",
        params={"query": mutation},
        headers={"authorization": "Bearer security-tests-dpo-token"},
    )
    for response in await _repeat(probe, get):
        assert response.status_code in (400, 405), response.text
        assert "removeWebhook" not in response.text or "data" not in response.json()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
        ("text/plain", b'{"query": "{ __typename }"}'),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="query"'
         b"\r\n\r\n{ __typename }\r\n--x--\r\n"),
    ],
)  # fmt: skip
async def test_csrf_content_types_are_refused(
    attacker: httpx.AsyncClient, probe: Probe, content_type: str, body: bytes
) -> None:
    post = lambda: attacker.post(  # noqa: E731
        "/graphql", content=body, headers={"content-type": content_type}
    )
    for response in await _repeat(probe, post, seconds=0.5):
        assert response.status_code in (400, 415), (response.status_code, response.text)
        assert '"__typename"' not in response.text


async def test_batched_operations_are_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    batch = [{"query": "{ __typename }"}] * 50
    for response in await _repeat(probe, lambda: attacker.post("/graphql", json=batch)):
        assert response.status_code == 400, response.text
        assert '"__typename"' not in response.text


async def test_alias_overloading_is_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    query = "{ " + " ".join(f"alias{i}: __typename" for i in range(101)) + " }"
    for response in await _repeat(probe, _post(attacker, query)):
        assert "aliases 101 (limit 15)" in _too_complex(response, "aliases")


async def test_field_duplication_is_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    query = "query cop { " + "__typename " * 500 + "}"
    for response in await _repeat(probe, _post(attacker, query)):
        assert "duplicated fields 499 (limit 10)" in _too_complex(response, "duplicated fields")


async def test_directive_overloading_is_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    query = "query cop { __typename " + "@include(if: true) " * 50 + "}"
    for response in await _repeat(probe, _post(attacker, query)):
        assert "directives 50 (limit 20)" in _too_complex(response, "directives")
    # graphql-cop's own ten unknown directives: refused by validation, nothing runs.
    unknown = (await _post(attacker, "query cop { __typename " + "@aa" * 10 + " }")()).json()
    assert unknown["data"] is None
    assert {e["extensions"]["code"] for e in unknown["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_circular_introspection_is_refused(attacker: httpx.AsyncClient, probe: Probe) -> None:
    query = (
        "query cop { __schema { types { fields { type { fields { type { fields { type "
        "{ fields { name } } } } } } } } } }"
    )
    for response in await _repeat(probe, _post(attacker, query)):
        assert response.json()["data"] is None


async def test_trace_mode_is_not_available(attacker: httpx.AsyncClient, probe: Probe) -> None:
    post = _post(attacker, "query cop { __typename }", extensions={"tracing": True})
    for response in await _repeat(probe, post, seconds=0.5):
        body = response.json()
        assert body == {"data": {"__typename": "Query"}}, body


async def test_websockets_per_address_are_capped(production: Any, probe: Probe) -> None:
    import websockets
    from websockets.typing import Subprotocol

    url = production.url.replace("http://", "ws://") + "/graphql"
    protocols = [Subprotocol("graphql-transport-ws")]
    opened = []
    with probe() as latencies:
        try:
            for _ in range(3):
                opened.append(await websockets.connect(url, subprotocols=protocols))
            for _ in range(5):
                with pytest.raises(websockets.InvalidStatus) as refused:
                    await websockets.connect(url, subprotocols=protocols)
                assert refused.value.response.status_code == 403
            await opened.pop().close()
            # A closed connection frees its place (once the server has seen it go).
            deadline = time.monotonic() + 10
            while True:
                try:
                    opened.append(await websockets.connect(url, subprotocols=protocols))
                    break
                except websockets.InvalidStatus:
                    assert time.monotonic() < deadline, "a closed WebSocket kept its place"
            # The probes go on while the connections are held.
            while len(latencies.during) < 4 and time.monotonic() < deadline + 30:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        finally:
            for connection in opened:
                await connection.close()
    latencies.check()
