"""Each side of a binôme gets its own link by e-mail, with the day's .ics, from a real local SMTP server."""

from __future__ import annotations

import dataclasses
import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from core.application import Trame
from core.store import SYSTEM
from plugins.immersions.service import immersions
from plugins.immersions.tests import helpers


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(trame: Trame) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    original = trame.settings
    trame.settings = dataclasses.replace(original, smtp_host="127.0.0.1", smtp_port=port, mail_from="coordination@valfleuri.example")
    try:
        yield inbox
    finally:
        trame.settings = original
        controller.stop()


def _text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""


def test_each_side_is_mailed_its_own_link_with_the_days_calendar(trame: Trame, smtp: Inbox) -> None:
    ids = helpers.territory(trame)
    prog = helpers.programme(trame, ids)
    svc = immersions(trame)
    paul = svc.join(
        "valfleuri", prog.id, author=SYSTEM, structure_id=ids["ml"], field="emploi", full_name="Paul Roy", email="p.roy@ml.example"
    )
    offer = svc.offer("valfleuri", prog.id, author=SYSTEM, host_participant_id=prog.people["marie"], day="2012-10-12", length="matin")
    request = svc.request("valfleuri", prog.id, author=SYSTEM, participant_id=paul)
    delivery = svc.pair("valfleuri", prog.id, offer, request, author=SYSTEM)
    host, visitor = delivery.links
    assert host.sent and visitor.sent
    assert visitor.addresses == ["ml@valfleuri.example", "p.roy@ml.example"]
    received = {rcpt: msg for rcpts, msg in smtp.messages for rcpt in rcpts}
    assert set(received) == {"chrs@valfleuri.example", "ml@valfleuri.example", "p.roy@ml.example"}
    assert host.url in _text(received["chrs@valfleuri.example"]) and visitor.url not in _text(received["chrs@valfleuri.example"])
    assert visitor.url in _text(received["p.roy@ml.example"])
    meeting_id = svc.pairs("valfleuri", prog.id)[0]["meeting_id"]
    for msg in received.values():
        (ics,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        payload = ics.get_payload(decode=True)
        assert isinstance(payload, bytes)
        (event,) = Calendar.from_ical(payload).walk("VEVENT")
        assert str(event["uid"]) == f"{meeting_id}@trame"
        assert event.decoded("dtstart").strftime("%Y-%m-%d %H:%M") == "2012-10-12 09:00"
