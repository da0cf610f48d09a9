"""Write a composed notice as Markdown or as a standalone HTML page."""

from __future__ import annotations

import html
import re
from enum import StrEnum

from schema.notice.model import BlockKind, Notice

_URL = re.compile(r"(https?://[^\s<>()]+[^\s<>().,;:])")


class NoticeFormat(StrEnum):
    """The formats of `ropa notice --format`."""

    MARKDOWN = "md"
    HTML = "html"


def _md_text(text: str) -> str:
    # Angle brackets make bare URLs links in every Markdown flavour.
    return _URL.sub(r"<\1>", text)


def to_markdown(notice: Notice) -> str:
    """The notice as Markdown."""
    lines = [f"# {notice.title}", ""]
    for section in notice.sections:
        if not section.blocks:
            continue
        lines += [f"## {section.heading}", ""]
        for block in section.blocks:
            if block.kind is BlockKind.SUBHEADING:
                lines += [f"### {block.items[0]}", ""]
            elif block.kind is BlockKind.LIST:
                lines += [f"- {_md_text(item)}" for item in block.items] + [""]
            else:
                lines += [_md_text(block.items[0]), ""]
    return "\n".join(lines).rstrip() + "\n"


def _html_text(text: str) -> str:
    escaped = html.escape(text, quote=True)
    return _URL.sub(r'<a href="\1">\1</a>', escaped)


def to_html(notice: Notice) -> str:
    """The notice as a standalone HTML page."""
    title = html.escape(notice.title)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
    ]
    for section in notice.sections:
        if not section.blocks:
            continue
        out.append(f"<h2>{html.escape(section.heading)}</h2>")
        for block in section.blocks:
            if block.kind is BlockKind.SUBHEADING:
                out.append(f"<h3>{html.escape(block.items[0])}</h3>")
            elif block.kind is BlockKind.LIST:
                out.append("<ul>")
                out += [f"<li>{_html_text(item)}</li>" for item in block.items]
                out.append("</ul>")
            else:
                out.append(f"<p>{_html_text(block.items[0])}</p>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(notice: Notice, fmt: NoticeFormat) -> str:
    """The notice in `fmt`."""
    return to_markdown(notice) if fmt is NoticeFormat.MARKDOWN else to_html(notice)
