"""Invitations that mail clients offer as meeting requests (iTIP, RFC 5546), one message per
address, minutes to everyone invited, and the meeting's .ics to download: read from a real
local SMTP server and checked with two independent parsers (icalendar, vobject)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import vobject
from icalendar import Calendar
from litestar.testing import TestClient

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
from plugins.annuaire.public import directory
from plugins.annuaire.schemas import ContactIn, PersonIn
from plugins.rencontres.events import Section
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers
from tests.smtp import Inbox, calendar_part, smtp_capture, text_of

ORGANIZER = "coordination@agen.example"


@pytest.fixture
def smtp(trame: Trame) -> Iterator[Inbox]:
    with smtp_capture(trame, ORGANIZER) as inbox:
        yield inbox


def _meeting(trame: Trame, ids: dict[str, str], day: str = "2026-05-01") -> str:
    svc = meetings(trame)
    return svc.schedule(
        "agen",
        author=SYSTEM,
        title="Café partenaires",
        day=day,
        start="09:00",
        end="10:30",
        place=svc.place("agen", kind="structure", structure_id=ids["cs"]),
    )


def _contact(trame: Trame, structure_id: str, name: str, email: str) -> str:
    svc = directory(trame)
    person_id, _ = svc.create_person("agen", PersonIn(name=name, email=email), SYSTEM)
    svc.start_contact("agen", structure_id, ContactIn(person_id=person_id, role="referent", since="2020-01-01"), SYSTEM)
    return person_id


def _both_parsers(message: Message) -> tuple[Any, Any, str]:
    """(icalendar VEVENT, vobject VEVENT, METHOD) of the message's calendar part."""
    part = calendar_part(message)
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    cal = Calendar.from_ical(raw)
    parsed = vobject.readOne(raw.decode())
    assert str(cal["METHOD"]) == parsed.method.value == part.get_param("method")
    return cal.walk("VEVENT")[0], parsed.vevent, str(cal["METHOD"])


def _attendees(vevent: Any) -> list[str]:
    found = vevent.get("ATTENDEE")
    values = found if isinstance(found, list) else [found] if found is not None else []
    return [str(a).removeprefix("mailto:") for a in values]


def test_an_invitation_is_a_meeting_request_to_each_address_alone(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    person = _contact(trame, ids["ml"], "Inès Fabre", "ines.fabre@ml-agen.example")
    mid = _meeting(trame, ids)
    meetings(trame).invite("agen", mid, [ids["cms"], ids["ml"]], author=SYSTEM, person_ids={ids["ml"]: [person]})

    assert sorted(r for rcpt, _ in smtp.messages for r in rcpt) == ["cms@agen.example", "ines.fabre@ml-agen.example", "ml@agen.example"]
    for rcpt, message in smtp.messages:
        assert len(rcpt) == 1 and message["To"] == rcpt[0] and message["Cc"] is None
        event, vevent, method = _both_parsers(message)
        assert method == "REQUEST"
        assert str(event["UID"]) == vevent.uid.value == f"{mid}@trame"
        assert str(event["ORGANIZER"]) == vevent.organizer.value == f"mailto:{ORGANIZER}"
        assert _attendees(event) == [rcpt[0]] and [a.value for a in vevent.attendee_list] == [f"mailto:{rcpt[0]}"]
        assert vevent.dtstart.value.isoformat() == "2026-05-01T09:00:00+02:00"
    (ml_message,) = smtp.to("ml@agen.example")
    event, vevent, _ = _both_parsers(ml_message)
    assert event["ATTENDEE"].params["CN"] == "Mission locale de l'Agenais" == vevent.attendee.params["CN"][0]


def test_a_reschedule_then_a_cancellation_update_the_same_entry(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    mid = _meeting(trame, ids)
    svc = meetings(trame)
    svc.invite("agen", mid, [ids["cms"], ids["ml"], ids["regie"]], author=SYSTEM)
    svc.reschedule("agen", mid, author=SYSTEM, day="2026-05-15", start="09:00", end="10:30", reason="1er mai férié")
    svc.cancel("agen", mid, author=SYSTEM, reason="salle indisponible")

    assert len(smtp.messages) == 9  # three structures, three messages each
    invited = {"cms@agen.example", "ml@agen.example", "regie@agen.example"}
    for rcpt, message in smtp.messages:
        others = invited - set(rcpt)
        assert not any(o in str(message) for o in others), "a partner's message shows another partner's address"
    sequences, methods = [], []
    for message in smtp.to("regie@agen.example"):
        event, vevent, method = _both_parsers(message)
        assert str(event["UID"]) == vevent.uid.value == f"{mid}@trame"
        sequences.append((int(event["SEQUENCE"]), int(vevent.sequence.value)))
        methods.append(method)
        assert _attendees(event) == ["regie@agen.example"]
    assert sequences == [(0, 0), (1, 1), (2, 2)]
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    moved, cancelled = smtp.to("regie@agen.example")[1:]
    assert _both_parsers(moved)[1].dtstart.value.isoformat() == "2026-05-15T09:00:00+02:00"
    event, vevent, _ = _both_parsers(cancelled)
    assert str(event["STATUS"]) == vevent.status.value == "CANCELLED"
    assert "salle indisponible" in text_of(cancelled)


def test_minutes_go_to_everyone_invited_not_only_those_present(trame: Trame, smtp: Inbox) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    mid = _meeting(trame, ids, day="2012-01-05")
    svc = meetings(trame)
    svc.invite("agen", mid, [ids["cs"], ids["cms"], ids["ml"]], author=SYSTEM, send=False)
    svc.record_attendance(
        "agen",
        mid,
        [{"structure_id": ids["cs"], "status": "present"}, {"structure_id": ids["ml"], "status": "excused"}],
        author=SYSTEM,
    )
    svc.write_minutes("agen", mid, author=SYSTEM, sections=[Section(title="Aide-mémoire", body="Bien accueilli.")], decisions=[])
    delivery = svc.publish_minutes("agen", mid, author=SYSTEM)

    expected = ["cms@agen.example", "cs@agen.example", "ml@agen.example"]  # present, excused, invited and absent
    assert sorted(delivery.sent_to) == expected
    assert sorted(r for rcpt, _ in smtp.messages for r in rcpt) == expected
    assert all(len(rcpt) == 1 for rcpt, _ in smtp.messages)
    assert smtp.to("regie@agen.example") == []  # never invited, not there
    assert "Bien accueilli." in text_of(smtp.to("cms@agen.example")[0])


def test_without_smtp_the_minutes_list_everyone_invited_to_copy(trame: Trame) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    mid = _meeting(trame, ids, day="2012-01-05")
    svc = meetings(trame)
    svc.invite("agen", mid, [ids["cms"], ids["ml"]], author=SYSTEM)
    svc.write_minutes("agen", mid, author=SYSTEM, sections=[Section(title="Tour de table", body="Nouvelles.")], decisions=[])
    delivery = svc.publish_minutes("agen", mid, author=SYSTEM)
    assert delivery.sent_to == [] and sorted(delivery.to_copy) == ["cms@agen.example", "ml@agen.example"]


def test_the_meeting_page_offers_its_invitation_to_download(trame: Trame, client: TestClient[Any]) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    mid = _meeting(trame, ids)
    meetings(trame).invite("agen", mid, [ids["cms"], ids["ml"]], author=SYSTEM)
    helpers.coordinator(trame)
    make_user(trame, "membre@agen.example", territory="agen", role="member")

    login(client, "coordination@agen.example")
    page = client.get(f"/t/agen/rencontres/{mid}")
    assert f'href="/t/agen/rencontres/{mid}/rencontre.ics"' in page.text
    response = client.get(f"/t/agen/rencontres/{mid}/rencontre.ics")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert response.headers["content-type"].startswith("text/calendar")
    parsed = vobject.readOne(response.text)
    assert parsed.method.value == str(Calendar.from_ical(response.content)["METHOD"]) == "REQUEST"
    assert sorted(a.value for a in parsed.vevent.attendee_list) == ["mailto:cms@agen.example", "mailto:ml@agen.example"]
    assert parsed.vevent.uid.value == f"{mid}@trame"

    meetings(trame).cancel("agen", mid, author=SYSTEM)
    assert vobject.readOne(client.get(f"/t/agen/rencontres/{mid}/rencontre.ics").text).method.value == "CANCEL"

    client.cookies.clear()
    login(client, "membre@agen.example")
    member = client.get(f"/t/agen/rencontres/{mid}/rencontre.ics")
    assert member.status_code == 200
    published = vobject.readOne(member.text)
    assert published.method.value == "PUBLISH" and "ATTENDEE" not in member.text and "cms@agen.example" not in member.text
