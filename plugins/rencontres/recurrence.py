"""Recurrence rules and French public holidays, from dateutil and ``holidays``.

Partners describe rhythms in words ("every first Friday", "every two months except
July and August"); we store them as RFC 5545 RRULE text, which calendar apps and
``dateutil.rrule`` both understand, and expand them into local dates. A date that
falls on a public holiday is kept but flagged, with the next same weekday that is a
working day proposed instead: the coordinator decides.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.rrule import rrulestr

from core.clock import MONTHS_FR, instant

PARIS = "Europe/Paris"
MAX_OCCURRENCES = 120
_WD = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

#: Preset rhythms offered in forms: key -> French label.
PRESETS = {
    "": "Une seule fois",
    "mensuel": "Tous les mois, même rang du même jour (ex. : chaque premier vendredi)",
    "bimestriel-hors-ete": "Tous les deux mois, sauf juillet et août",
    "hebdomadaire": "Toutes les semaines",
}


class RuleError(ValueError):
    """A rhythm that cannot be read; the message is for a person."""


def rank_of(day: date) -> int:
    """1 for the first such weekday of the month, ... ; -1 for a fifth (the last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def preset_rule(preset: str, first: date) -> str | None:
    """The RRULE of a preset, anchored on the first date's weekday and rank."""
    wd = _WD[first.weekday()]
    by_day = f"{rank_of(first):+d}{wd}"
    if preset == "mensuel":
        return f"FREQ=MONTHLY;BYDAY={by_day}"
    if preset == "bimestriel-hors-ete":
        return f"FREQ=MONTHLY;INTERVAL=2;BYDAY={by_day};BYMONTH=1,2,3,4,5,6,9,10,11,12"
    if preset == "hebdomadaire":
        return "FREQ=WEEKLY"
    if preset == "":
        return None
    raise RuleError(f"Rythme inconnu « {preset} ».")


def occurrences(rule: str, first: date, *, until: date | None = None, count: int | None = None) -> list[date]:
    """The local dates of a rule from ``first`` (inclusive if it matches), bounded."""
    text = rule.strip().removeprefix("RRULE:")
    if not text:
        raise RuleError("La règle de récurrence est vide.")
    try:
        rule_obj = rrulestr(f"RRULE:{text}", dtstart=datetime.combine(first, time(0)), forceset=False)
    except (ValueError, TypeError) as exc:
        raise RuleError(f"Règle de récurrence illisible « {text} » : {exc}") from exc
    limit = min(count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    out: list[date] = []
    for moment in rule_obj:
        if until is not None and moment.date() > until:
            break
        out.append(moment.date())
        if len(out) >= limit:
            break
    return out


@lru_cache(maxsize=64)
def _french(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year, language="fr")


def holiday_name(day: date) -> str | None:
    """The French public holiday on that day (metropolitan calendar), or None."""
    return _french(day.year).get(day)


def proposed_day(day: date) -> date:
    """The next same weekday that is not a public holiday (1 May 2026 -> 15 May, 8 May being one too)."""
    candidate = day + timedelta(days=7)
    while holiday_name(candidate):
        candidate += timedelta(days=7)
    return candidate


def holiday_flag(day: date) -> tuple[str | None, str | None]:
    """(holiday name, proposed ISO day) or (None, None)."""
    name = holiday_name(day)
    return (name, proposed_day(day).isoformat()) if name else (None, None)


def local_instant(day: str, hhmm: str, zone: str = PARIS) -> str:
    """The UTC instant (core.clock text) of a local wall-clock time in ``zone``."""
    return instant(local_datetime(day, hhmm, zone))


def local_datetime(day: str, hhmm: str, zone: str = PARIS) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hours, minutes), tzinfo=ZoneInfo(zone))


def long_date(day: str | None) -> str:
    """« vendredi 6 mars 2026 »."""
    if not day:
        return ""
    d = date.fromisoformat(day[:10])
    first = "1er" if d.day == 1 else str(d.day)
    return f"{WEEKDAYS_FR[d.weekday()]} {first} {MONTHS_FR[d.month - 1]} {d.year}"


def describe(rule: str) -> str:
    """A short French reading of the common rules, else the RRULE itself."""
    parts = dict(p.split("=", 1) for p in rule.removeprefix("RRULE:").split(";") if "=" in p)
    by_day = parts.get("BYDAY", "")
    rank_txt = ""
    if by_day[:-2].lstrip("+-").isdigit():
        n = int(by_day[:-2])
        wd = WEEKDAYS_FR[_WD.index(by_day[-2:])]
        rank_txt = f"le {'dernier' if n == -1 else ('premier' if n == 1 else f'{n}e')} {wd}"
    if parts.get("FREQ") == "MONTHLY" and parts.get("INTERVAL", "1") == "1" and rank_txt:
        return f"Tous les mois, {rank_txt}"
    if parts.get("FREQ") == "MONTHLY" and parts.get("INTERVAL") == "2" and rank_txt:
        summer = " (sauf juillet et août)" if "BYMONTH" in parts and "7" not in parts["BYMONTH"].split(",") else ""
        return f"Tous les deux mois, {rank_txt}{summer}"
    if parts.get("FREQ") == "WEEKLY":
        return "Toutes les semaines"
    return rule
