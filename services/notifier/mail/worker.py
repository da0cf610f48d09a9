"""The mail worker: plans mail from the change log, then sends what is queued.

Planning reads the change events after the mail cursor, a batch at a time, and for each
sub-processor change queues one notice per subscriber confirmed by the time it was recorded
(for an objection, one message to the processor's DPO), moving the cursor past the batch in
the same transaction (compare-and-set: graph.mail.queue_in). Sending takes what is due, sends
each through SMTP and then forgets it. Killed at any moment, the worker resumes: a batch is
queued whole or not at all, and a message is forgotten only after the relay took it (it may
go twice, under the same Message-ID; never not at all).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import email.utils
import logging
import uuid
from collections import defaultdict
from email.message import EmailMessage

import aiosmtplib

from graph import changes, mail
from graph import subprocessor_changes as spc
from graph.database import Database
from graph.objections import notice_from_event
from graph.read import changes as read_changes
from schema.errors import DatabaseUnavailable
from schema.graphql.records import OrganisationRecord
from services.notifier.mail import compose
from services.notifier.settings import NotifierSettings
from services.observability.metrics import EMAIL_FAILURES, EMAILS_QUEUED, EMAILS_SENT, LOOP_ERRORS

log = logging.getLogger("ropa.notifier.mail")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ropa-registry:mail")
DIGEST_PERIOD = dt.timedelta(days=1)
# SMTP line endings; headers folded only past RFC 5322's 998 characters.
WIRE = email.policy.SMTP.clone(max_line_length=998)


def notice_id(subscriber_id: str, event_id: str) -> str:
    """The one id (and Message-ID) of a subscriber's notice of a change."""
    return str(uuid.uuid5(_NAMESPACE, f"notice/{subscriber_id}/{event_id}"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _link(snapshot: dict[str, object] | None, link_type: str) -> str | None:
    links = (snapshot or {}).get("links")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("type") == link_type:
            return str(link.get("to", "")).partition(":")[2] or None
    return None


class MailWorker:
    """Plans and sends e-mail until cancelled."""

    def __init__(self, db: Database, settings: NotifierSettings) -> None:
        if settings.secret_key is None or settings.smtp_host is None:
            raise ValueError("mail needs ROPA_SMTP_HOST and ROPA_SECRET_KEY")
        self._db = db
        self._settings = settings
        self._links = compose.Links(
            settings.public_url, settings.secret_key.get_secret_value(), settings.confirmation_hours
        )
        self.sent = 0
        self.queued = 0

    async def run(self) -> None:
        """Plan and send every `mail_interval` seconds; outages are waited out."""
        while True:
            try:
                await self.plan()
                await self.send_due()
            except DatabaseUnavailable as exc:
                log.warning("mail: %s; trying again", exc)
            except Exception:
                LOOP_ERRORS.labels("mail").inc()
                log.exception("mail: unexpected error; trying again")
            await asyncio.sleep(self._settings.mail_interval)

    async def plan(self, batch: int = 200) -> int:
        """Queue mail for every change after the cursor; how many messages were queued."""
        total = 0
        while True:
            position = await self._db.read(mail.cursor_in)
            events = await self._db.read(changes.read_after, position, batch)
            if not events:
                return total
            messages = await self._messages(events)
            try:
                await self._db.write(mail.queue_in, position, events[-1].sequence, messages, _now())
            except mail.CursorMoved:
                log.info("mail: another worker planned this batch")
                continue
            total += len(messages)
            self.queued += len(messages)
            EMAILS_QUEUED.inc(len(messages))

    async def _messages(self, events: list[changes.ChangeEvent]) -> list[mail.QueuedMail]:
        out: list[mail.QueuedMail] = []
        for event in events:
            change = spc.from_event(event)
            if change is not None:
                processors = sorted(
                    {
                        change.processor,
                        *(
                            str(v["processor"])
                            for v in (change.before, change.after)
                            if v and v.get("processor")
                        ),
                    }
                )
                audience = await self._db.read(mail.audience_in, processors, event.occurred_at)
                out.extend(
                    mail.QueuedMail(
                        id=notice_id(s.id, event.id),
                        kind=mail.NOTICE,
                        event=event.id,
                        subscriber=s.id,
                        digest=s.digest,
                    )
                    for s in audience
                )
                continue
            objection = notice_from_event(event)
            if objection is None:
                continue
            found = await read_changes.recorded_organisations(self._db, [objection.processor])
            dpo = found[objection.processor].dpo if objection.processor in found else None
            if dpo is None or not dpo.email:
                log.warning("mail: objection %s: the processor has no DPO e-mail", event.id)
                continue
            out.append(
                mail.QueuedMail(
                    id=str(uuid.uuid5(_NAMESPACE, f"objection/{event.id}")),
                    kind=mail.OBJECTION,
                    event=event.id,
                    recipient=dpo.email,
                )
            )
        return out

    async def send_due(self, limit: int = 100) -> int:
        """Send the messages that are due; how many went."""
        now = _now()
        due = await self._db.read(mail.due_in, now, now - DIGEST_PERIOD, limit)
        if not due:
            return 0
        events = await self._db.read(changes.events_by_id, [w.event for w in due if w.event])
        names = await self._names(
            events, [w.subscriber.processor_id for w in due if w.subscriber is not None]
        )
        # A digest subscriber's due notices go as one message.
        groups: dict[str, list[mail.WaitingMail]] = defaultdict(list)
        for waiting in due:
            digest = waiting.subscriber is not None and waiting.subscriber.digest
            key = f"digest/{waiting.subscriber.id}" if digest and waiting.subscriber else waiting.id
            groups[key].append(waiting)
        sent = 0
        for group in groups.values():
            message = self._compose(group, events, names)
            ids = [w.id for w in group]
            if message is None:
                await self._db.write(mail.sent_in, ids)  # nothing left to say (change gone)
                continue
            try:
                await self._send(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                log.warning("mail: %s to %s failed: %s", ids[0], message["To"], exc)
                EMAIL_FAILURES.inc()
                retry = now + dt.timedelta(seconds=self._settings.mail_retry)
                for message_id in ids:
                    await self._db.write(mail.failed_in, message_id, retry, str(exc))
                continue
            await self._db.write(mail.sent_in, ids)
            EMAILS_SENT.inc()
            sent += 1
            self.sent += 1
        return sent

    async def _names(
        self, events: dict[str, changes.ChangeEvent], processors: list[str]
    ) -> dict[str, OrganisationRecord]:
        ids: set[str] = set(processors)
        for event in events.values():
            for snapshot in (event.before, event.after):
                for link_type in ("ENGAGED_BY", "SUB_PROCESSOR"):
                    target = _link(snapshot, link_type)
                    if target:
                        ids.add(target)
        return await read_changes.recorded_organisations(self._db, sorted(ids))

    def _compose(
        self,
        group: list[mail.WaitingMail],
        events: dict[str, changes.ChangeEvent],
        names: dict[str, OrganisationRecord],
    ) -> EmailMessage | None:
        def name(org_id: str | None) -> str:
            return names[org_id].name if org_id in names else str(org_id)

        sender = self._settings.mail_from
        first = group[0]
        subscriber = first.subscriber
        if first.kind == mail.CONFIRM and subscriber is not None:
            processor = name(subscriber.processor_id)
            return compose.confirmation(
                sender, subscriber, processor, first.id, first.queued_at, self._links
            )
        objection = notice_from_event(events[first.event]) if first.event in events else None
        if first.kind == mail.OBJECTION and first.recipient and objection is not None:
            return compose.objection(
                sender,
                first.recipient,
                name(objection.processor),
                name(objection.sub_processor),
                objection.engagement,
                objection.register,
                objection.reason,
                first.id,
                self._links,
                objection.processor,
            )
        if subscriber is None:
            return None
        found = []
        for waiting in group:
            recorded = events.get(waiting.event or "")
            change = spc.from_event(recorded) if recorded is not None else None
            if change is not None:
                found.append((change, name(change.sub_processor), name(change.processor)))
        if not found:
            return None
        message_id = (
            first.id
            if len(group) == 1
            else str(uuid.uuid5(_NAMESPACE, "digest/" + "/".join(sorted(w.id for w in group))))
        )
        return compose.notice(sender, subscriber, found, message_id, self._links)

    async def _send(self, message: EmailMessage) -> None:
        s = self._settings
        # Flattened here, not by aiosmtplib (whose policy folds at 78 columns): a long
        # List-Unsubscribe URL must stay one `<https://...>` and not become encoded words.
        raw = message.as_bytes(policy=WIRE)
        await aiosmtplib.send(
            raw,
            sender=email.utils.parseaddr(str(message["From"]))[1],
            recipients=[email.utils.parseaddr(str(message["To"]))[1]],
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout,
        )
