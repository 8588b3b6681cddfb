"""Instants on the two time axes, as fixed-width UTC strings.

Valid time (``effective``) and transaction time (``recorded_at``) are stored as
ISO 8601 strings of one fixed width in UTC, so that ordering them as text is
ordering them in time, identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: The open end of an interval ("still valid", "still the current knowledge").
FOREVER = "9999-12-31T23:59:59.999999Z"
#: The closed start of everything.
BEGINNING = "0001-01-01T00:00:00.000000Z"

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class BadInstant(ValueError):
    """A date given by a person could not be read; the message says why, in French."""


def now() -> str:
    return instant(datetime.now(UTC))


def instant(value: datetime | date) -> str:
    """The canonical text of a datetime (any zone, naive taken as UTC) or a date (midnight UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime(_FORMAT)
    return datetime.combine(value, time(0), tzinfo=UTC).strftime(_FORMAT)


_FRENCH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_day(text: str) -> date:
    """A calendar day as people type it: ``JJ/MM/AAAA`` (French) or ``AAAA-MM-JJ`` (ISO, what
    date pickers send)."""
    text = text.strip()
    try:
        french = _FRENCH_DAY.fullmatch(text)
        if french:
            return date(int(french[3]), int(french[2]), int(french[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise BadInstant(f"« {text} » n'est pas une date valide (écrivez-la par exemple 15/03/2010)") from None


def parse(text: str, *, end_of_day: bool = False) -> str:
    """Read a day (see :func:`parse_day`) or an ISO 8601 datetime into an instant.

    ``end_of_day`` makes a bare date mean its last microsecond: "as of 2010-06-01"
    then includes what took effect during that day.
    """
    text = text.strip()
    if len(text) <= 10:
        day = parse_day(text)
        if end_of_day:
            return instant(datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1, microseconds=-1))
        return instant(day)
    try:
        return instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise BadInstant(f"« {text} » n'est pas une date valide (écrivez-la par exemple 15/03/2010)") from None


def to_datetime(value: str) -> datetime:
    return datetime.strptime(value, _FORMAT).replace(tzinfo=UTC)


def day_of(value: str) -> str:
    """The calendar date part (ISO), for forms and URLs."""
    return value[:10]


PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> str:
    """Today's date in France (ISO), for "past" and "upcoming" in pages."""
    return datetime.now(PARIS).date().isoformat()


def french_date(value: str | None) -> str:
    """ "2010-06-01..." -> "01/06/2010", as French readers write dates."""
    if not value:
        return ""
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}"


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre")


def french_long_date(value: str | None) -> str:
    """ "2012-01-01..." -> "1er janvier 2012", for sentences ("a fusionné le ...", a booklet's cover)."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10])
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def french_moment(value: str | None) -> str:
    """A recording instant in Paris time: "25/11/2026 à 13:31"."""
    if not value:
        return ""
    local = to_datetime(value).astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H:%M")
