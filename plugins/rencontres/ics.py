"""iCalendar (RFC 5545) for meetings, built with the ``icalendar`` package.

A meeting keeps one UID for life and its SEQUENCE counts reschedules and the
cancellation, so a calendar that subscribed to the feed (or imported an
invitation) updates the entry instead of adding a second one. Times are written in
Europe/Paris with its VTIMEZONE, so 9:00 stays 9:00 across daylight saving.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Event

from core.clock import to_datetime
from plugins.rencontres.recurrence import local_datetime

PRODID = "-//Trame//Rencontres partenariales//FR"


def uid_of(meeting_id: str) -> str:
    return f"{meeting_id}@trame"


def _event(m: dict[str, Any], base_url: str) -> Event:
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
    return e


def calendar(meetings: Iterable[dict[str, Any]], *, name: str, base_url: str = "", method: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Paris")
    for m in meetings:
        cal.add_component(_event(m, base_url))
    cal.add_missing_timezones()
    return cal.to_ical()


def now_utc() -> datetime:
    return datetime.now(UTC)
