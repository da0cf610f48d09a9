"""What a notice is made of, before it is written as Markdown or HTML."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

# The section that holds a plain-words notice's legal citations, apart from the text.
LEGAL_HEADING = "The legal details"


class Audience(StrEnum):
    """Who the notice is written for."""

    PUPILS = "pupils"
    PARENTS = "parents"
    STAFF = "staff"


class BlockKind(StrEnum):
    """A paragraph, a bulleted list, or a sub-heading."""

    PARAGRAPH = "p"
    LIST = "ul"
    SUBHEADING = "h3"


@dataclass(frozen=True)
class Block:
    """Text in one form; a paragraph or sub-heading has one item, a list has many."""

    kind: BlockKind
    items: tuple[str, ...]


def para(text: str) -> Block:
    """A paragraph."""
    return Block(BlockKind.PARAGRAPH, (text,))


def bullets(items: list[str]) -> Block:
    """A bulleted list."""
    return Block(BlockKind.LIST, tuple(items))


def subheading(text: str) -> Block:
    """A sub-heading within a section."""
    return Block(BlockKind.SUBHEADING, (text,))


@dataclass(frozen=True)
class Section:
    """A headed part of the notice."""

    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Notice:
    """The whole notice."""

    title: str
    sections: list[Section]


def long_date(day: dt.date) -> str:
    """'14 February 2022'."""
    return f"{day.day} {day:%B %Y}"
