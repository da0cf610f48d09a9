"""The response cache's bounds and what it will keep: only queries of the register's questions."""

from __future__ import annotations

import orjson
from graphql import parse

from schema.graphql.schema import register_questions
from services.registry.response_cache import ResponseCache, _root_fields


def test_only_a_query_names_root_fields() -> None:
    document = parse(
        'query A { recipients(category: "x") { organisation { id } } ...More }'
        " fragment More on Query { organisations { id } ... on Query { systems { id } } }"
        " mutation B { engageSubProcessor(input: {}) { errors { message } } }"
    )
    assert _root_fields(document, "A") == frozenset({"recipients", "organisations", "systems"})
    assert _root_fields(document, "B") is None
    assert _root_fields(document, None) is None  # two operations: none is chosen by name


def test_the_register_questions_leave_out_what_the_log_does_not_record() -> None:
    questions = register_questions()
    assert {"recipients", "organisations", "activities", "registerSummary"} <= questions
    assert "webhooks" not in questions
    assert "auditLog" not in questions


def _json(kept: dict[str, orjson.Fragment] | None) -> object:
    return None if kept is None else orjson.loads(orjson.dumps(kept))


def test_the_least_recently_used_answer_goes_first() -> None:
    cache = ResponseCache(frozenset(), max_entries=2)
    cache.put(("a",), {"x": 1})
    cache.put(("b",), {"x": 2})
    assert _json(cache.get(("a",))) == {"x": 1}
    cache.put(("c",), {"x": 3})
    assert cache.get(("b",)) is None
    assert _json(cache.get(("a",))) == {"x": 1}
    assert _json(cache.get(("c",))) == {"x": 3}
    assert len(cache) == 2


def test_an_answer_is_kept_as_its_json_and_sent_as_kept() -> None:
    cache = ResponseCache(frozenset())
    data = {"recipients": [{"organisation": {"id": "dfe", "name": "DfE"}}], "n": None}
    sent = cache.put(("q",), data)
    assert all(isinstance(value, orjson.Fragment) for value in sent.values())
    assert orjson.dumps({"data": sent}) == orjson.dumps({"data": data})
    assert cache.get(("q",)) == sent


def test_memory_is_bounded_by_the_bytes_kept() -> None:
    cache = ResponseCache(frozenset(), max_entries=100, max_bytes=10)
    cache.put(("big",), {"list": list(range(20))})
    assert cache.get(("big",)) is None
    for i in range(5):
        cache.put((i,), {"a": i, "b": i})  # 2 bytes: the JSON of a digit, twice
    assert len(cache) == 5
    cache.put((5,), {"a": 55, "b": 55})
    assert cache.get((0,)) is None
    assert _json(cache.get((5,))) == {"a": 55, "b": 55}
