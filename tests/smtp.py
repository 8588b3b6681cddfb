"""A real local SMTP server (aiosmtpd) for the e-mail tests: what was sent, to whom, as parsed messages.

``refuse`` makes it answer 550 to some recipients (a bounced address); ``stop()`` and
``start()`` take it down and back, as a failing SMTP server does.
"""

from __future__ import annotations

import dataclasses
import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from core.application import Trame


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse: set[str] = set()
        self.port = _free_port()
        self.controller: Controller | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def calendar_part(message: Message) -> Message:
    return next(p for p in message.walk() if p.get_content_type() == "text/calendar")


@contextmanager
def smtp_capture(trame: Trame, mail_from: str = "coordination@reseau.example") -> Iterator[Inbox]:
    """Point ``trame`` at a fresh local SMTP server for the duration."""
    inbox = Inbox()
    inbox.start()
    original = trame.settings
    trame.settings = dataclasses.replace(original, smtp_host="127.0.0.1", smtp_port=inbox.port, mail_from=mail_from)
    try:
        yield inbox
    finally:
        trame.settings = original
        inbox.stop()
