"""Recurrence edge cases: holidays on a first Friday, the summer break, 9:00 across DST."""

from __future__ import annotations

from datetime import date

from plugins.rencontres.ics import calendar
from plugins.rencontres.recurrence import describe, holiday_flag, local_instant, occurrences, preset_rule


def test_first_friday_on_may_day_is_flagged_with_a_working_friday_proposed() -> None:
    rule = preset_rule("mensuel", date(2026, 1, 2))
    assert rule == "FREQ=MONTHLY;BYDAY=+1FR"
    days = occurrences(rule, date(2026, 1, 2), until=date(2026, 12, 31))
    assert date(2026, 5, 1) in days
    # 8 May (Victoire) is a holiday too: the proposal skips it.
    assert holiday_flag(date(2026, 5, 1)) == ("Fête du Travail", "2026-05-15")
    assert holiday_flag(date(2026, 6, 5)) == (None, None)


def test_first_friday_on_all_saints_and_armistice_friday() -> None:
    assert date(2024, 11, 1) in occurrences("FREQ=MONTHLY;BYDAY=+1FR", date(2024, 10, 4), count=3)
    assert holiday_flag(date(2024, 11, 1)) == ("Toussaint", "2024-11-08")
    # 11 November 2022 fell on the second Friday of the month.
    assert date(2022, 11, 11) in occurrences("FREQ=MONTHLY;BYDAY=+2FR", date(2022, 10, 14), count=3)
    assert holiday_flag(date(2022, 11, 11)) == ("Armistice", "2022-11-18")


def test_every_two_months_skips_july_and_august() -> None:
    first = date(2010, 3, 12)  # Joigny's first partner meeting, a second Friday
    rule = preset_rule("bimestriel-hors-ete", first)
    assert rule is not None and describe(rule) == "Tous les deux mois, le 2e vendredi (sauf juillet et août)"
    days = occurrences(rule, first, until=date(2011, 12, 31))
    assert days[:4] == [date(2010, 3, 12), date(2010, 5, 14), date(2010, 9, 10), date(2010, 11, 12)]
    assert all(d.month not in (7, 8) for d in days)
    assert all(d.weekday() == 4 and 8 <= d.day <= 14 for d in days)


def test_nine_o_clock_stays_nine_o_clock_across_daylight_saving() -> None:
    days = occurrences("FREQ=MONTHLY;BYDAY=+1FR", date(2026, 3, 6), count=2)
    assert days == [date(2026, 3, 6), date(2026, 4, 3)]
    assert local_instant("2026-03-06", "09:00") == "2026-03-06T08:00:00.000000Z"  # CET
    assert local_instant("2026-04-03", "09:00") == "2026-04-03T07:00:00.000000Z"  # CEST
    meetings = [
        {
            "meeting_id": f"m{i}",
            "sequence": 0,
            "updated_at": "2026-01-01T00:00:00.000000Z",
            "day": d.isoformat(),
            "start_time": "09:00",
            "end_time": "10:30",
            "timezone": "Europe/Paris",
            "title": "Café",
            "status": "scheduled",
            "territory": "agen",
            "plugin": "cafe",
        }
        for i, d in enumerate(days)
    ]
    text = calendar(meetings, name="Agen").decode()
    assert "DTSTART;TZID=Europe/Paris:20260306T090000" in text
    assert "DTSTART;TZID=Europe/Paris:20260403T090000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Paris" in text


def test_fifth_weekday_means_the_last_one() -> None:
    assert preset_rule("mensuel", date(2026, 1, 30)) == "FREQ=MONTHLY;BYDAY=-1FR"
