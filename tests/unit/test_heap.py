"""The served process's heap: freed memory given back after a large answer, the collector's
thresholds, and answers sent as orjson's bytes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import orjson
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket

from services.registry import heap
from services.registry.explorer import RegistryGraphQL


@strawberry.type
class _Query:
    @strawberry.field
    def text(self, size: int) -> str:
        return "x" * size


class _View(RegistryGraphQL):
    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, object]:
        return {}


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def record(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(heap, "_RELEASE", record)
    return calls


async def _ask(size: int) -> httpx.Response:
    view = _View(strawberry.Schema(query=_Query), explorer=False)
    app = Starlette(routes=[Route("/graphql", view)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        return await client.post("/graphql", json={"query": f"{{ text(size: {size}) }}"})


async def test_memory_is_given_back_after_a_large_answer_only(trims: list[int]) -> None:
    small = await _ask(1000)
    assert small.status_code == 200
    assert trims == []
    large = await _ask(heap.LARGE_RESPONSE_BYTES)
    assert large.status_code == 200
    assert trims == [0]
    assert orjson.loads(large.content) == {"data": {"text": "x" * heap.LARGE_RESPONSE_BYTES}}


async def test_the_answer_is_orjson_s_bytes_as_json(trims: list[int]) -> None:
    response = await _ask(3)
    assert response.headers["content-type"] == "application/json"
    assert response.content == orjson.dumps({"data": {"text": "xxx"}})


def test_a_large_answer_is_followed_by_a_full_collection(
    trims: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    collections: list[int] = []

    def collect(generation: int = 2) -> int:
        collections.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    assert heap.sent(heap.LARGE_RESPONSE_BYTES - 1) is False
    assert collections == []
    assert heap.sent(heap.LARGE_RESPONSE_BYTES) is True
    assert collections == [2]
    assert trims == [0]


def test_nothing_is_trimmed_without_a_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_RELEASE", None)
    assert heap.sent(10 * heap.LARGE_RESPONSE_BYTES) is True  # collected all the same


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_a_full_collection_comes_ten_times_less_often() -> None:
    gc.set_threshold(700, 10, 10)
    heap.tune_collector()
    assert gc.get_threshold() == (700, 10, 100)
