"""iCalendar (RFC 5545) for meetings, built with the ``icalendar`` package.

A meeting keeps one UID for life and its SEQUENCE counts reschedules and the
cancellation, so a calendar that subscribed to the feed (or imported an
invitation) updates the entry instead of adding a second one. Times are written in
Europe/Paris with its VTIMEZONE, so 9:00 stays 9:00 across daylight saving.

Mailed, a meeting is an iTIP message (RFC 5546): ``METHOD:REQUEST`` naming the organiser
and the invitee, so that mail clients offer it as a meeting request, and ``METHOD:CANCEL``
with the same UID and a higher SEQUENCE when it is cancelled. The feed is ``PUBLISH``
(no attendees: a subscribed calendar only shows it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from core.clock import to_datetime
from plugins.rencontres.recurrence import local_datetime

PRODID = "-//Trame//Rencontres partenariales//FR"


def uid_of(meeting_id: str) -> str:
    return f"{meeting_id}@trame"


def _paris_vtimezone() -> Timezone:
    """Europe/Paris with the EU rules (since 1996) as RRULEs, as calendar clients write it: the
    generated form with a list of RDATEs stops in 2038 and is misread by dateutil (vobject)."""
    tz = Timezone()
    tz.add("tzid", "Europe/Paris")
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("dtstart", datetime(1996, 3, 31, 2, 0))
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("dtstart", datetime(1996, 10, 27, 3, 0))
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


@dataclass(frozen=True)
class Party:
    """An organiser or an attendee of an iTIP message: an address and the name shown beside it."""

    address: str
    name: str = ""


def _address(party: Party, **params: str) -> vCalAddress:
    value = vCalAddress(f"mailto:{party.address}")
    if party.name:
        value.params["CN"] = party.name
    for key, param in params.items():
        value.params[key.upper().replace("_", "-")] = param
    return value


def _event(m: dict[str, Any], base_url: str, organizer: Party | None = None, attendees: Sequence[Party] = ()) -> Event:
    e = Event()
    e.add("uid", uid_of(m["meeting_id"]))
    e.add("sequence", int(m["sequence"]))
    e.add("dtstamp", to_datetime(m["updated_at"]).astimezone(UTC))
    e.add("last-modified", to_datetime(m["updated_at"]).astimezone(UTC))
    e.add("dtstart", local_datetime(m["day"], m["start_time"], m["timezone"]))
    e.add("dtend", local_datetime(m["day"], m["end_time"], m["timezone"]))
    e.add("summary", m["title"])
    if m.get("place_label"):
        e.add("location", m["place_label"])
    if m.get("place_url"):
        e.add("url", m["place_url"])
    elif base_url:
        e.add("url", f"{base_url}/t/{m['territory']}/{m['plugin']}/{m['meeting_id']}")
    if m.get("description"):
        e.add("description", m["description"])
    e.add("status", "CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")
    if organizer is not None:
        e.add("organizer", _address(organizer))
    for a in attendees:
        e.add("attendee", _address(a, cutype="GROUP", role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp="FALSE"))
    return e


def itip(m: dict[str, Any], *, organizer: Party, attendees: Sequence[Party], base_url: str = "") -> bytes:
    """The iTIP message of one meeting: ``REQUEST`` while it holds, ``CANCEL`` once cancelled."""
    method = "CANCEL" if m["status"] == "cancelled" else "REQUEST"
    return calendar([m], name=m["title"], base_url=base_url, method=method, organizer=organizer, attendees=attendees)


def method_of(m: dict[str, Any]) -> str:
    return "CANCEL" if m["status"] == "cancelled" else "REQUEST"


def calendar(
    meetings: Iterable[dict[str, Any]],
    *,
    name: str,
    base_url: str = "",
    method: str | None = None,
    organizer: Party | None = None,
    attendees: Sequence[Party] = (),
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Paris")
    zones = set()
    for m in meetings:
        zones.add(m["timezone"])
        cal.add_component(_event(m, base_url, organizer, attendees))
    if "Europe/Paris" in zones or not zones:
        # Before the events that name it, as clients write it; and alone in an empty feed, since
        # RFC 5545 wants at least one component in a VCALENDAR (the feed's zone is Paris).
        cal.subcomponents.insert(0, _paris_vtimezone())
    cal.add_missing_timezones()
    text: bytes = cal.to_ical()
    return text
