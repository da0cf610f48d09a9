"""Write a composed notice as Markdown or as a standalone HTML page."""

from __future__ import annotations

import html
import re
from enum import StrEnum
from pathlib import Path

from schema.notice.model import LEGAL_HEADING, BlockKind, Notice, Section

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


STYLESHEET = Path(__file__).resolve().parent / "notice.css"


def stylesheet() -> str:
    """The notice's CSS (screen, small screens and print)."""
    return STYLESHEET.read_text(encoding="utf-8")


def _anchor(number: int) -> str:
    return f"section-{number}"


def _blocks_html(section: Section) -> list[str]:
    out: list[str] = []
    for block in section.blocks:
        if block.kind is BlockKind.SUBHEADING:
            out.append(f"<h3>{html.escape(block.items[0])}</h3>")
        elif block.kind is BlockKind.LIST:
            out.append("<ul>")
            out += [f"<li>{_html_text(item)}</li>" for item in block.items]
            out.append("</ul>")
        else:
            out.append(f"<p>{_html_text(block.items[0])}</p>")
    return out


def to_html(
    notice: Notice, stylesheet_href: str | None = None, downloads: dict[str, str] | None = None
) -> str:
    """The notice as a standalone, accessible HTML page: landmarks, one h1, a contents list,
    a section per heading; the CSS embedded, or linked from `stylesheet_href` (a page served
    under a Content-Security-Policy that refuses inline styles). `downloads` (label: href)
    adds links to other formats."""
    title = html.escape(notice.title)
    sections = [s for s in notice.sections if s.blocks]
    style = (
        f'<link rel="stylesheet" href="{html.escape(stylesheet_href, quote=True)}">'
        if stylesheet_href
        else f"<style>\n{stylesheet()}</style>"
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        style,
        "</head>",
        "<body>",
        '<a class="skip" href="#notice">Skip to the notice</a>',
        '<header class="notice-header">',
        f"<h1>{title}</h1>",
        "</header>",
        '<main id="notice" class="notice-body" tabindex="-1">',
        '<nav class="contents" aria-labelledby="contents-heading">',
        '<h2 id="contents-heading">Contents</h2>',
        "<ol>",
    ]
    out += [
        f'<li><a href="#{_anchor(n)}">{html.escape(s.heading)}</a></li>'
        for n, s in enumerate(sections, 1)
    ]
    out += ["</ol>", "</nav>"]
    if downloads:
        links = " · ".join(
            f'<a href="{html.escape(href, quote=True)}" download>{html.escape(label)}</a>'
            for label, href in downloads.items()
        )
        out.append(f'<p class="downloads">Download this notice: {links}</p>')
    for number, section in enumerate(sections, 1):
        anchor = _anchor(number)
        legal = ' class="legal"' if section.heading == LEGAL_HEADING else ""
        out.append(f'<section id="{anchor}"{legal} aria-labelledby="{anchor}-heading">')
        out.append(f'<h2 id="{anchor}-heading">{html.escape(section.heading)}</h2>')
        out += _blocks_html(section)
        out.append("</section>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(notice: Notice, fmt: NoticeFormat) -> str:
    """The notice in `fmt`."""
    return to_markdown(notice) if fmt is NoticeFormat.MARKDOWN else to_html(notice)
