"""A notice that would print a placeholder is a draft: said so on it, never published as is."""

from __future__ import annotations

from dataclasses import replace

from schema.compliance.placeholders import Placeholder, printed
from schema.document import RopaDocument
from schema.errors import ErrorCode, RopaError
from schema.notice.model import Notice, Section, bullets, para
from schema.notice.render import to_markdown

DRAFT_HEADING = "This is a draft"


class NoticeHasPlaceholders(RopaError):
    """The notice would print values the record marks as placeholders."""

    code = ErrorCode.NOTICE_HAS_PLACEHOLDERS

    def __init__(self, found: list[Placeholder]) -> None:
        self.found = found
        listed = "; ".join(f"{p.where} ({', '.join(p.texts)})" for p in found)
        super().__init__(
            f"the notice would print {len(found)} placeholder(s), which the record marks as "
            f"standing in for values not yet known: {listed}. Replace them in the record (and "
            "drop them from `placeholders`), or write a draft"
        )


def placeholders_printed(doc: RopaDocument, notice: Notice) -> list[Placeholder]:
    """The placeholders of `doc` that `notice` prints."""
    return printed(doc, to_markdown(notice))


def as_draft(notice: Notice, found: list[Placeholder]) -> Notice:
    """The notice marked as a draft on its title and in its first section."""
    blocks = [
        para(
            "This notice is a draft, not for publication. The record it is written from is not "
            "finished: it holds placeholders, which a published notice must not print."
        )
    ]
    if found:
        blocks += [
            para("To be replaced in the record before it is published:"),
            bullets([f"{p.where}: {', '.join(p.texts)}" for p in found]),
        ]
    return replace(
        notice,
        title=f"Draft: {notice.title}",
        sections=[Section(DRAFT_HEADING, blocks), *notice.sections],
    )


def publish(doc: RopaDocument, notice: Notice, *, draft: bool = False) -> Notice:
    """The notice to write: as is when it prints no placeholder, else a draft if `draft`.

    Raises NoticeHasPlaceholders when it would print one and no draft is asked for.
    """
    found = placeholders_printed(doc, notice)
    if draft:
        return as_draft(notice, found)
    if found:
        raise NoticeHasPlaceholders(found)
    return notice
