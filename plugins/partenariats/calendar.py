"""The .ics feed of partnerships' end and renewal dates (RFC 5545, built with ``icalendar``).

One all-day event per date, with a UID that stays the same for the partnership's life, so a
calendar that imported the feed updates an end date that moved instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from icalendar import Calendar, Event
from litestar import Response

from core import clock
from plugins.partenariats.service import Partnership, partnerships

if TYPE_CHECKING:
    from core.application import Trame

PRODID = "-//Trame//Partenariats//FR"


def _event(p: Partnership, what: str, day: str, summary: str, stamp: str) -> Event:
    e = Event()
    e.add("uid", f"{p.id}-{what}@trame")
    e.add("dtstamp", clock.to_datetime(stamp).astimezone(UTC))
    e.add("dtstart", date.fromisoformat(day))
    e.add("dtend", date.fromisoformat(day) + timedelta(days=1))
    e.add("summary", summary)
    partners = ", ".join(x.name for x in p.partners)
    ref = f" Référence : {p.convention_ref}." if p.convention_ref else ""
    e.add("description", f"{p.kind_label} — {p.form_label}. Partenaires : {partners}.{ref}")
    e.add("transp", "TRANSPARENT")
    return e


def feed(trame: Trame, territory: str, title: str) -> bytes:
    svc = partnerships(trame)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Échéances des partenariats — {title}")
    for p in svc.end_dates(territory):
        stamp = svc.history(territory, p.id)[-1].recorded_at
        if p.ends_on:
            cal.add_component(_event(p, "fin", p.ends_on, f"Fin : {p.title}", stamp))
        if p.renewal_on and p.renewal_on != p.ends_on:
            cal.add_component(_event(p, "renouvellement", p.renewal_on, f"Renouvellement : {p.title}", stamp))
    return bytes(cal.to_ical())


def response(trame: Trame, territory: str, title: str) -> Response[bytes]:
    return Response(
        feed(trame, territory, title),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="echeances-partenariats-{territory}.ics"'},
    )
