"""Dates as people type them: the French way and the ISO way mean the same day."""

from __future__ import annotations

from datetime import datetime, tzinfo

import pytest

from core import clock


@pytest.mark.parametrize("typed", ["15/03/2010", "15/3/2010", "2010-03-15", " 15/03/2010 "])
def test_a_day_typed_the_french_or_the_iso_way(typed: str) -> None:
    assert clock.parse(typed) == "2010-03-15T00:00:00.000000Z"
    assert clock.parse(typed, end_of_day=True) == "2010-03-15T23:59:59.999999Z"


@pytest.mark.parametrize("typed", ["31/02/2026", "2026-02-31", "15-03-2010", "demain", "03/15/2010"])
def test_an_impossible_day_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(clock.BadInstant, match="par exemple 15/03/2010"):
        clock.parse(typed)


def test_a_datetime_keeps_its_time_in_utc() -> None:
    assert clock.parse("2010-06-01T14:30:00+02:00") == "2010-06-01T12:30:00.000000Z"


@pytest.mark.parametrize(
    ("utc", "paris"),
    [
        ("2026-01-15T23:30:00+00:00", "2026-01-16"),  # winter: UTC+1, already tomorrow in Paris
        ("2026-07-15T23:30:00+00:00", "2026-07-16"),  # summer: UTC+2
        ("2026-07-15T21:30:00+00:00", "2026-07-15"),  # 23:30 in Paris: still today
    ],
)
def test_today_is_the_day_in_paris_whatever_the_server_zone(monkeypatch: pytest.MonkeyPatch, utc: str, paris: str) -> None:
    """ "Upcoming" and "past" change at midnight in France: a server on UTC (or any zone) agrees."""
    fixed = datetime.fromisoformat(utc)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return fixed.astimezone(tz) if tz else fixed.astimezone().replace(tzinfo=None)  # naive: the server zone

    monkeypatch.setattr(clock, "datetime", Frozen)
    assert clock.paris_today() == paris
