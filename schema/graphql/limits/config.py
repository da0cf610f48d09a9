"""The limits one operation must keep within; the registry's settings fill them in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperationLimits:
    """Each limit names what it bounds; see schema.graphql.limits.cost for how cost counts."""

    # Lexer tokens in the document (strawberry's MaxTokensLimiter, checked while parsing).
    max_tokens: int = 2000
    # Fields nested in one another on the longest path (`{ a { b } }` is 2).
    max_depth: int = 10
    # Aliased fields in an operation, fragments expanded.
    max_aliases: int = 15
    # Directives in an operation, fragments expanded.
    max_directives: int = 20
    # Fields selected again under the same response name in one selection set.
    max_duplicates: int = 10
    # The estimated number of values in the result (lists weighted by their expected sizes).
    max_cost: int = 50_000
    # The actual number of values in a result: the second line, if an estimate was wrong.
    max_result_values: int = 100_000
    # Documents longer than this (characters) are parsed and validated in a worker thread,
    # so that lexing a megabyte of comment does not hold up the event loop.
    offload_length: int = 2048
