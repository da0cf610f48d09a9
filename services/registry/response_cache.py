"""Answers to repeated questions, kept while the register stays as it was.

A query's answer depends on its document, operation name and variables, on what the caller may
read, on the day (what `asOf` defaults to), and on the register. Every change to the register
is recorded in the change log in the same transaction, and the log's head (the last sequence
number with its hash, which chains every event before it) changes with each one, in every
process that reads it. So the cache keys an answer by all of these and reads the head once per
operation: an answer is served only while the log is exactly where it was when the answer was
computed. A question asked for the first time (by this scope) is executed without that read,
and not kept: most questions a client makes up are asked once, and the head's round trip was
the price of every one of them; asked a second time, the answer is kept (bounded: the last
4 x entries questions are remembered).

An operation whose every root field reads a past record (`recordedAt`) is keyed instead by the
last change recorded before each moment: what is recorded after a moment never changes the
record as recorded then, so such answers outlive later writes, while a change
stamped before the moment but committed after the answer (a slow writer) moves that sequence
and so the key. Writes of this process that the log does not record (e.g. webhook endpoints)
move a local generation, which is in the key too; fields that read such data (`webhooks`) are not
cached, nor is anything but a query of the register's questions (`cacheable` root fields).

What the caller may read is in the key as the role, the principal's registers and the read
scope (registers, people, published lists) rather than the caller's name: two tokens with the
same scope share answers, different scopes never do. Only answers without errors are kept,
each root field's value as its JSON (orjson.Fragment, which the response's encoding copies as
it is): a 3.4 MB answer held as Python values took 12 MiB, and every full collection walked it.
Memory is bounded by entries and by the bytes they hold (least recently used goes first).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from schema.errors import DatabaseUnavailable
from schema.graphql.context import RegistryContext
from schema.graphql.scalars import parse_moment
from schema.recorded_at import BadRecordedAt, checked
from services.observability.metrics import RESPONSE_CACHE


@dataclass(frozen=True)
class _Entry:
    data: dict[str, orjson.Fragment]
    size: int


def _root_fields(document: DocumentNode, operation_name: str | None) -> frozenset[str] | None:
    """The root field names of the operation that runs, if it is a query (None otherwise)."""
    found = _root_nodes(document, operation_name)
    return None if found is None else frozenset(f.name.value for f in found)


def _root_nodes(document: DocumentNode, operation_name: str | None) -> list[FieldNode] | None:
    """The root fields of the operation that runs, if it is a query (None otherwise)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    names: list[FieldNode] = []
    pending: list[SelectionSetNode] = [operations[0].selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    pending.append(fragments[name])
    return names


def _past_moments(
    fields: list[FieldNode], variables: dict[str, Any] | None, now: dt.datetime
) -> frozenset[dt.datetime] | None:
    """The moments of the past records the root fields read, if every one reads one (each is
    given a valid `recordedAt`); None when any reads the current record (or reads no record,
    as `dataCategories`), whose answers the head of the log keys."""
    moments: set[dt.datetime] = set()
    for field in fields:
        if field.name.value == "__typename":
            continue
        value: Any = None
        for argument in field.arguments or ():
            if argument.name.value != "recordedAt":
                continue
            if isinstance(argument.value, StringValueNode):
                value = argument.value.value
            elif isinstance(argument.value, VariableNode):
                value = (variables or {}).get(argument.value.name.value)
        if not isinstance(value, str):
            return None
        try:
            moment = checked(parse_moment(value), now)
        except (ValueError, BadRecordedAt):  # the execution reports it, and is not kept
            return None
        if moment is None:
            return None
        moments.add(moment)
    return frozenset(moments) if moments else None


class ResponseCache:
    """The process's cache of answers (see the module); `extension()` for the schema."""

    def __init__(
        self, cacheable: frozenset[str], *, max_entries: int = 256, max_bytes: int = 32 << 20
    ) -> None:
        self._cacheable = cacheable | {"__typename"}
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._generation = 0
        # The questions asked before (the key without the head), least recently asked first.
        self._asked: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def wrote(self) -> None:
        """This process committed a write: no answer computed before it is served after it."""
        self._generation += 1

    def get(self, key: tuple[Any, ...]) -> dict[str, orjson.Fragment] | None:
        """The answer kept under `key`, if any (now the most recently used): each root field's
        value as its JSON."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.data

    def put(self, key: tuple[Any, ...], data: dict[str, Any]) -> dict[str, orjson.Fragment]:
        """Keep `data` under `key` as JSON, dropping the least recently used past the bounds;
        the answer so encoded (kept or, past the bounds, not)."""
        encoded = {name: orjson.dumps(value) for name, value in data.items()}
        kept = {name: orjson.Fragment(value) for name, value in encoded.items()}
        size = sum(map(len, encoded.values()))
        if size > self._max_bytes or key in self._entries:
            return kept
        self._entries[key] = _Entry(kept, size)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size
        return kept

    async def key(self, context: RegistryContext, execution: Any) -> tuple[Any, ...] | None:
        """The key of this operation's answer, or None when it is not to be cached."""
        document = execution.graphql_document
        if document is None or execution.query is None:
            return None
        roots = _root_fields(document, execution.operation_name)
        if roots is None or not roots <= self._cacheable:
            return None
        generation = self._generation
        principal = context.principal
        scope = context.scope
        past = _past_moments(
            _root_nodes(document, execution.operation_name) or [],
            execution.variables,
            dt.datetime.now(dt.UTC),
        )
        question = (
            execution.query,
            execution.operation_name,
            json.dumps(execution.variables or {}, sort_keys=True, default=str),
            context.today,
            None if principal is None else (principal.role, principal.registers),
            (scope.registers, scope.people, scope.lists),
        )
        if question not in self._asked:
            # Asked for the first time: nothing can be kept for it, so it is executed without
            # the head's round trip, and not kept; asked again, it is.
            self._asked[question] = None
            while len(self._asked) > 4 * self._max_entries:
                self._asked.popitem(last=False)
            return None
        self._asked.move_to_end(question)
        try:
            if past is None:
                head: Any = await context.reader.change_head()
            else:
                # A past record is a prefix of the log, and changes recorded since do not
                # touch it: keyed by the part of the log each moment's record covers (which a
                # commit stamped before the moment moves while it is the log's last), not by
                # the head.
                head = await context.reader.horizons(sorted(past))
        except DatabaseUnavailable:
            # Uncached, the execution meets the outage in a resolver, which reports it with its
            # code (DATABASE_UNAVAILABLE); raised here, it would reach the client without one.
            return None
        return (*question, head, generation)

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension (a factory: one per operation) that answers from this cache."""
        return lambda: _Cached(self)


class _Cached(SchemaExtension):
    """Answers a query from the cache when it can; keeps what it computes when it may."""

    def __init__(self, cache: ResponseCache) -> None:
        super().__init__()
        self._cache = cache

    async def on_execute(self) -> AsyncIterator[None]:
        """Before execution: a kept answer skips it; after: keep an answer without errors."""
        execution = self.execution_context
        context = execution.context
        key = None
        if isinstance(context, RegistryContext) and not execution.pre_execution_errors:
            key = await self._cache.key(context, execution)
        if key is None:
            yield
            return
        kept = self._cache.get(key)
        if kept is not None:
            RESPONSE_CACHE.labels("hit").inc()
            execution.result = GraphQLExecutionResult(data=kept, errors=None)
            yield
            return
        RESPONSE_CACHE.labels("miss").inc()
        yield
        result = execution.result
        if isinstance(result, GraphQLExecutionResult) and not result.errors and result.data:
            # The answer sent is the one kept, so that it is encoded once.
            result.data = self._cache.put(key, result.data)
