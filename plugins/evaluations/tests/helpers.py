"""A fictional territory with structures and a real local SMTP server, built through user commands."""

from __future__ import annotations

import dataclasses
import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from core.application import Trame
from core.store import SYSTEM
from plugins.annuaire import public as annuaire

T = "valfleuri"
STRUCTURES = {"ccas": "CCAS du Val-Fleuri", "ml": "Mission locale du Val-Fleuri", "chrs": "CHRS Les Tilleuls"}


def territory(trame: Trame, slug: str = T, plugins: tuple[str, ...] = ("annuaire", "diffusion", "evaluations")) -> dict[str, str]:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    for p in plugins:
        trame.territories.enable(slug, p, author=SYSTEM)
    return {
        key: annuaire.create(trame, slug, author=SYSTEM, data=annuaire.StructureIn(name=name, email=f"{key}@{slug}.example"))
        for key, name in STRUCTURES.items()
    }


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def by_address(self) -> dict[str, list[Message]]:
        out: dict[str, list[Message]] = {}
        for rcpts, msg in self.messages:
            for r in rcpts:
                out.setdefault(r, []).append(msg)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(trame: Trame) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    original = trame.settings
    trame.settings = dataclasses.replace(original, smtp_host="127.0.0.1", smtp_port=port, mail_from="coordination@valfleuri.example")
    try:
        yield inbox
    finally:
        trame.settings = original
        controller.stop()


def text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""
