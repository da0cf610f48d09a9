"""A document is parsed and validated once per schema; invalid ones are never kept."""

from __future__ import annotations

from graphql import parse

from schema.graphql.document_cache import DocumentCache
from schema.graphql.schema import build_schema


async def test_a_repeated_document_is_parsed_and_validated_once() -> None:
    schema = build_schema()
    cache = schema.documents
    for _ in range(3):
        result = await schema.execute("{ __typename }")
        assert result.errors is None
        assert result.data == {"__typename": "Query"}
    assert len(cache) == 1
    assert cache.hits == 2


async def test_invalid_documents_are_rejected_every_time_and_not_kept() -> None:
    schema = build_schema()
    cache = schema.documents
    for _ in range(2):
        result = await schema.execute("{ noSuchField }")
        assert result.errors is not None
        assert "noSuchField" in result.errors[0].message
    assert len(cache) == 0


async def test_schemas_keep_their_own_documents() -> None:
    first, second = build_schema(), build_schema()
    await first.execute("{ __typename }")
    assert len(first.documents) == 1
    assert len(second.documents) == 0


def test_the_least_recently_used_document_goes_first() -> None:
    cache = DocumentCache(size=2)
    for text in ("{ a }", "{ b }"):
        cache.put(text, parse(text), ())
    assert cache.get("{ a }") is not None  # now the most recent
    cache.put("{ c }", parse("{ c }"), ())
    assert cache.get("{ b }") is None
    assert cache.get("{ a }") is not None
