"""The messages themselves: plain text and HTML, the RFC 8058 unsubscribe headers, stable ids.

Every notice has `List-Unsubscribe: <https://.../subscriptions/unsubscribe?token=...>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), and the same link in its body.
Its `Message-ID` is the queued message's id, itself derived from the subscriber and the change,
so a notice sent twice after a crash is recognisably the same message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import quote

from schema.change_text import describe, title
from schema.graphql.writes import ChangeRecord
from schema.mail_links import CONFIRM, UNSUBSCRIBE, sign
from schema.subscriptions import Subscription


@dataclass(frozen=True)
class Links:
    """How to make the links of a message: the registry's public URL and the link key."""

    public_url: str
    secret: str
    confirm_hours: float

    def page(self, processor_id: str) -> str:
        """The processor's public page."""
        return f"{self.public_url.rstrip('/')}/processors/{quote(processor_id, safe='')}"

    def unsubscribe(self, subscriber: Subscription) -> str:
        """The one-click unsubscribe URL (it never expires)."""
        token = sign(self.secret, UNSUBSCRIBE, subscriber.id)
        return f"{self.public_url.rstrip('/')}/subscriptions/unsubscribe?token={token}"

    def confirm(self, subscriber: Subscription, queued_at: dt.datetime) -> str:
        """The confirmation URL, valid `confirm_hours` from when it was queued."""
        expires = int(queued_at.timestamp() + self.confirm_hours * 3600)
        token = sign(self.secret, CONFIRM, subscriber.id, expires)
        return f"{self.public_url.rstrip('/')}/subscriptions/confirm?token={token}"


def _domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def _base(sender: str, to: str, subject: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{message_id}@{_domain(sender)}>"
    message["Auto-Submitted"] = "auto-generated"
    return message


def _html(paragraphs: Sequence[str], links: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    anchors = "".join(
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>'
        for label, url in links
    )
    return f'<!doctype html><html lang="en"><body>{body}{anchors}</body></html>'


def _alternatives(
    message: EmailMessage, paragraphs: list[str], links: list[tuple[str, str]]
) -> None:
    text = "\n\n".join(paragraphs + [f"{label}: {url}" for label, url in links])
    message.set_content(text + "\n")
    message.add_alternative(_html(paragraphs, links), subtype="html")


def confirmation(
    sender: str,
    subscriber: Subscription,
    processor: str,
    message_id: str,
    queued_at: dt.datetime,
    links: Links,
) -> EmailMessage:
    """The double opt-in message: a link to confirm, and nothing else is sent until then."""
    message = _base(
        sender, subscriber.email, f"Confirm: notices of {processor}'s sub-processors", message_id
    )
    hours = round(links.confirm_hours)
    paragraphs = [
        f"Someone (we hope you) asked for {subscriber.email} to be told of changes to the "
        f"sub-processors of {processor}.",
        f"Follow the link below within {hours} hours to confirm. If you did not ask, ignore "
        "this message: nothing more will be sent, and the address is forgotten when the "
        "link expires or when you subscribe again and unsubscribe.",
    ]
    _alternatives(
        message,
        paragraphs,
        [
            ("Confirm the subscription", links.confirm(subscriber, queued_at)),
            ("The list", links.page(subscriber.processor_id)),
        ],
    )
    return message


def notice(
    sender: str,
    subscriber: Subscription,
    changes: Sequence[tuple[ChangeRecord, str, str]],
    message_id: str,
    links: Links,
) -> EmailMessage:
    """A notice of one change (or, for a digest, several): (change, sub name, processor name)."""
    first, sub, processor = changes[0]
    subject = (
        title(first, sub, processor)
        if len(changes) == 1
        else f"{len(changes)} changes to the sub-processors of {processor}"
    )
    message = _base(sender, subscriber.email, subject, message_id)
    unsubscribe = links.unsubscribe(subscriber)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Id"] = (
        f"Sub-processors of {processor} <{subscriber.processor_id}.{_domain(sender)}>"
    )
    # Subscribers are the public: the person who recorded a change is not theirs to know.
    paragraphs = [describe(change, s, p, actor=False) for change, s, p in changes]
    paragraphs.append(
        f"You receive this because {subscriber.email} subscribed to changes to the "
        f"sub-processors of {processor}."
    )
    _alternatives(
        message,
        paragraphs,
        [
            ("The list as it stands", links.page(subscriber.processor_id)),
            ("Unsubscribe (erases your address)", unsubscribe),
        ],
    )
    return message


def objection(
    sender: str,
    to: str,
    processor: str,
    sub: str,
    engagement_id: str,
    register: str,
    reason: str,
    message_id: str,
    links: Links,
    processor_id: str,
) -> EmailMessage:
    """To the processor's DPO: a controller objects to an announced engagement."""
    message = _base(sender, to, f"Objection: {sub} as sub-processor of {processor}", message_id)
    paragraphs = [
        f"The controller keeping the register '{register}' objects to the engagement "
        f"'{engagement_id}' of {sub} as a sub-processor of {processor}.",
        f"Their reason:\n{reason}",
    ]
    _alternatives(message, paragraphs, [("The list", links.page(processor_id))])
    return message
