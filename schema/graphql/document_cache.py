"""Parsed and validated documents, kept by their text: clients send the same few documents
again and again, and parsing and validating one costs more than many of its resolvers.

Like strawberry's ParserCache and ValidationCache, but one LRU per schema (so two schemas in a
process, with different rules, never share an answer), keyed by the text (a string's hash is
computed once, where a DocumentNode's is recomputed over the whole tree at every lookup), and
holding only documents that passed validation: an invalid one is parsed and validated every
time, so its errors, which other extensions rewrite, are never shared between requests, and
nobody fills the cache with rejects.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension

DEFAULT_SIZE = 256


class DocumentCache:
    """Valid documents by text, least recently used first out, and the rules they passed."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[DocumentNode, tuple[str, ...]]] = OrderedDict()
        self.hits = 0

    def get(self, query: str) -> tuple[DocumentNode, tuple[str, ...]] | None:
        """The document parsed from `query` and the rules it passed, if kept."""
        found = self._entries.get(query)
        if found is not None:
            self._entries.move_to_end(query)
        return found

    def put(self, query: str, document: DocumentNode, rules: tuple[str, ...]) -> None:
        """Keep `document`, valid under `rules`, as the parse of `query`."""
        self._entries[query] = (document, rules)
        self._entries.move_to_end(query)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension (a factory, as strawberry wants) that reads and fills it."""
        return lambda: CachedDocuments(self)


def _rules(names: object) -> tuple[str, ...]:
    # Rule classes may be made afresh per request (strawberry's limiters are); within one
    # schema, the same names are the same rules.
    return tuple(f"{r.__module__}.{r.__qualname__}" for r in names)  # type: ignore[attr-defined]


class CachedDocuments(SchemaExtension):
    """Skips parsing and validation of a document already found valid under the same rules."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self._cache = cache
        self._hit: tuple[DocumentNode, tuple[str, ...]] | None = None

    def on_parse(self) -> Iterator[None]:
        """Hand strawberry the kept document, so that it parses nothing."""
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            self._hit = self._cache.get(context.query)
            if self._hit is not None:
                context.graphql_document = self._hit[0]
        yield

    def on_validate(self) -> Iterator[None]:
        """Skip validation of a kept document; keep a freshly validated one."""
        context = self.execution_context
        rules = _rules(context.validation_rules)
        if self._hit is not None and self._hit[1] == rules:
            # An empty list of errors tells strawberry that validation already ran.
            context.pre_execution_errors = []
            self._cache.hits += 1
            yield
            return
        yield
        document = context.graphql_document
        if context.query is not None and document is not None and not context.pre_execution_errors:
            self._cache.put(context.query, document, rules)
