"""Invitations and minutes really sent to a local SMTP server (aiosmtpd), with a parseable .ics."""

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
from plugins.rencontres.events import Section
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers


def _payload(part: Message) -> bytes:
    """A MIME part's decoded body (a leaf part's is bytes)."""
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(trame: Trame) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    original = trame.settings
    trame.settings = dataclasses.replace(original, smtp_host="127.0.0.1", smtp_port=port, mail_from="coordination@agen.example")
    try:
        yield inbox
    finally:
        trame.settings = original
        controller.stop()


def test_invitation_email_carries_a_valid_ics_and_the_answer_link(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    svc = meetings(trame)
    mid = svc.schedule(
        "agen",
        author=SYSTEM,
        title="Café partenaires",
        day="2026-03-06",
        start="09:00",
        end="10:30",
        place=svc.place("agen", kind="structure", structure_id=ids["cs"]),
    )
    delivery = svc.invite("agen", mid, [ids["cms"], ids["ml"]], author=SYSTEM)
    assert sorted(delivery.sent_to) == ["cms@agen.example", "ml@agen.example"] and delivery.to_copy == []
    assert len(smtp.messages) == 2
    _rcpt, message = next(m for m in smtp.messages if m[0] == ["ml@agen.example"])
    assert message["From"] == "coordination@agen.example"
    body = _payload(next(p for p in message.walk() if p.get_content_type() == "text/plain")).decode()
    link = next(lk for lk in delivery.links if lk.structure_id == ids["ml"]).url
    assert link in body
    attachment = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert attachment.get_filename() == "rencontre.ics"
    cal = Calendar.from_ical(_payload(attachment))
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{mid}@trame"
    assert event.decoded("DTSTART").isoformat() == "2026-03-06T09:00:00+01:00"
    assert "Glycines" in str(event["LOCATION"])
    # The answer link works for its structure.
    svc.answer_with_token("agen", link.rsplit("/", 1)[1], structure_id=ids["ml"], answer="coming")


def test_publishing_minutes_sends_them_to_the_structures_present_and_excused(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    svc = meetings(trame)
    mid = svc.schedule(
        "agen",
        author=SYSTEM,
        title="Groupe bénévoles / professionnels",
        day="2012-01-05",
        start="14:30",
        end="16:30",
        place=svc.place("agen", kind="text", text="Résidence les Servins"),
    )
    svc.record_attendance(
        "agen", mid, [{"structure_id": ids["cs"], "status": "present"}, {"structure_id": ids["ml"], "status": "excused"}], author=SYSTEM
    )
    svc.write_minutes(
        "agen",
        mid,
        author=SYSTEM,
        sections=[Section(title="Aide-mémoire", body="Bien accueilli.")],
        decisions=["Mettre un mail générique par structure"],
        next_meeting="Jeudi 15 mars, 14 h 30",
    )
    svc.open_action("agen", mid, author=SYSTEM, title="Identifier les structures relais", owner_structure_id=ids["cs"])
    delivery = svc.publish_minutes("agen", mid, author=SYSTEM)
    assert sorted(delivery.sent_to) == ["cs@agen.example", "ml@agen.example"]  # one message each
    ((_rcpt, message),) = [m for m in smtp.messages if m[0] == ["cs@agen.example"]]
    text = _payload(message).decode()
    assert "Mettre un mail générique" in text and "Identifier les structures relais" in text and "Jeudi 15 mars" in text
    assert (svc.minutes("agen", mid) or {})["published_at"] is not None


def test_a_reschedule_mails_the_same_uid_with_a_higher_sequence(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    svc = meetings(trame)
    mid = svc.schedule(
        "agen",
        author=SYSTEM,
        title="Café partenaires",
        day="2026-05-01",
        start="09:00",
        end="10:30",
        place=svc.place("agen", kind="structure", structure_id=ids["cs"]),
    )
    svc.invite("agen", mid, [ids["ml"]], author=SYSTEM)
    svc.reschedule("agen", mid, author=SYSTEM, day="2026-05-15", start="09:00", end="10:30", reason="1er mai férié")
    svc.cancel("agen", mid, author=SYSTEM, reason="salle indisponible")

    def vevent(message: Message) -> Any:
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        return Calendar.from_ical(_payload(part)).walk("VEVENT")[0]

    invitation, moved, cancelled = (vevent(m) for _, m in smtp.messages)
    assert {str(e["UID"]) for e in (invitation, moved, cancelled)} == {f"{mid}@trame"}
    assert [int(e["SEQUENCE"]) for e in (invitation, moved, cancelled)] == [0, 1, 2]
    assert moved.decoded("DTSTART").isoformat() == "2026-05-15T09:00:00+02:00"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert smtp.messages[1][0] == ["ml@agen.example"]
