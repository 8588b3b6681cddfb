"""The two instants a directory page is read at (``as_of``, valid time; ``known_at``, transaction
time), read from the query string so that a view of the past is a shareable URL, and shown in French."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from core import clock
from core.clock import FOREVER
from core.refusals import Refused, invalid
from plugins.annuaire.form_checks import refused
from plugins.annuaire.service import when

PARIS = ZoneInfo("Europe/Paris")


# -- time --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """The two instants a page is read at, and how to show and carry them."""

    as_of: str | None  # None: now
    known_at: str | None  # None: as known now
    as_of_text: str  # as typed, carried in links
    known_at_text: str

    @property
    def as_of_day(self) -> str:
        """The value of the date field (YYYY-MM-DD)."""
        return clock.day_of(self.as_of) if self.as_of else ""

    @property
    def known_at_day(self) -> str:
        return self._known_local.date().isoformat() if self.known_at else ""

    @property
    def known_at_time(self) -> str:
        """The time typed with the "known at" day (HH:MM, Paris), or "" for a whole day."""
        return self._known_local.strftime("%H:%M") if self.known_at and _PARIS_MINUTE.fullmatch(self.known_at_text) else ""

    @property
    def _known_local(self) -> datetime:
        assert self.known_at is not None
        if _PARIS_MINUTE.fullmatch(self.known_at_text):
            return clock.to_datetime(self.known_at).astimezone(PARIS)
        return clock.to_datetime(self.known_at)

    @property
    def past(self) -> bool:
        return self.as_of is not None and self.as_of < clock.now()

    @property
    def query(self) -> str:
        params = {k: v for k, v in (("as_of", self.as_of_text), ("known_at", self.known_at_text)) if v}
        return ("?" + urlencode(params)) if params else ""

    @property
    def notice(self) -> str | None:
        return self.notice_of("Annuaire")

    def notice_of(self, subject: str, feminine: bool = False) -> str | None:
        """E.g. "Annuaire tel qu'il était au 01/06/2010" or "Fiche telle qu'elle était au ..." (with the known-at part)."""
        parts = []
        if self.as_of is not None:
            tel, il = ("telle", "elle") if feminine else ("tel", "il")
            verb = "était" if self.past else "sera"
            parts.append(f"{tel} qu'{il} {verb} au {fr_day(self.as_of)}")
        if self.known_at is not None:
            at = f" à {self.known_at_time}" if self.known_at_time else ""
            parts.append(f"d'après ce qui était enregistré le {fr_day(self.known_at_day)}{at}")
        return f"{subject} " + ", ".join(parts) if parts else None


#: "2026-12-03T10:05" or "2026-12-03 10:05": a day and a minute, Paris time (no zone given).
_PARIS_MINUTE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})")


def with_time(day: str | None, at: str | None) -> str | None:
    """The "known at" of a form: its day, and its time when one was typed (a same-day correction)."""
    day, at = (day or "").strip(), (at or "").strip()
    if day and at and "T" not in day:
        try:
            return f"{clock.parse_day(day).isoformat()}T{at}"
        except clock.BadInstant:
            return day  # moment() reports the day's own error
    return day or None


_MOMENT_LABELS = {"as_of": "Date de consultation (as_of)", "known_at": "Tel qu'enregistré au (known_at)"}


def moment(as_of: str | None, known_at: str | None, errors: dict[str, str] | None = None) -> Moment:
    """Read the query's dates; a bad one is a 400 that names the parameter or, when the page
    passes ``errors``, is noted there (for its field) and read as "now"."""
    texts = {"as_of": (as_of or "").strip(), "known_at": (known_at or "").strip()}
    read: dict[str, str | None] = {}
    for name, text in texts.items():
        try:
            local = _PARIS_MINUTE.fullmatch(text)
            if local:  # a day and a time typed in France: to the end of that minute
                try:
                    moment_local = datetime.fromisoformat(f"{local[1]}T{local[2]}").replace(tzinfo=PARIS)
                except ValueError:
                    raise invalid(f"« {text} » n'est pas une date et une heure valides.", name, label=_MOMENT_LABELS[name]) from None
                read[name] = clock.instant(moment_local + timedelta(minutes=1, microseconds=-1))
                continue
            read[name] = when(text, _MOMENT_LABELS[name], end_of_day=True, field=name)
        except Refused as exc:
            if errors is None:
                raise
            refused(exc, errors)
            read[name], texts[name] = None, ""
    return Moment(as_of=read["as_of"], known_at=read["known_at"], as_of_text=texts["as_of"], known_at_text=texts["known_at"])


def fr_day(value: str | None) -> str:
    """``01/06/2010`` from an instant or a ``YYYY-MM-DD`` day."""
    if not value or value == FOREVER:
        return "—"
    day = clock.day_of(value)
    return f"{day[8:10]}/{day[5:7]}/{day[0:4]}"


def fr_time(value: str | None) -> str:
    """A recorded instant in Paris time, to the minute."""
    if not value:
        return "—"
    try:
        local = clock.to_datetime(value).astimezone(PARIS)
    except ValueError:
        return value
    return local.strftime("%d/%m/%Y à %H:%M")
