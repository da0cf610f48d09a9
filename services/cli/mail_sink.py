"""The development stack's SMTP sink: a real SMTP server on loopback (aiosmtpd) that keeps each
message it receives as an .eml file, so `make run` can send e-mail without a relay."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from graph.neo4j_server import free_port


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = re.sub(r"[^A-Za-z0-9]+", "-", str(message.get("Subject", "")))[:60].strip("-")
        path = self.folder / f"{self.count:04d}-{subject or 'message'}.eml"
        path.write_bytes(envelope.content)
        return "250 kept"


class MailSink:
    """`start()` listens on 127.0.0.1 (a free port); messages go to `folder` as .eml files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        """Listen; return self."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Keep(self.folder), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
