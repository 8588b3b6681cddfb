"""A newcomer's sheet, its link to the café and its presence are one command: all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.application import Trame
from core.database import Cursor
from core.events import Recorded
from core.refusals import Refused
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.cafe.service import cafes
from plugins.rencontres.tests import helpers


@pytest.fixture
def agen(trame: Trame) -> dict[str, str]:
    helpers.territory(trame, plugins=("annuaire", "rencontres", "cafe"))
    return helpers.structures(trame)


def _log(trame: Trame) -> list[str]:
    return [topic for _p, _s, _v, topic, _state in trame.store.raw(0, 100_000)]


def test_a_failure_in_the_middle_of_registering_a_newcomer_writes_nothing(
    trame: Trame, agen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2009-09-15", host_structure_id=agen["cms"])
    nid = svc.present_newcomer("agen", mid, author=SYSTEM, organisation="Maison relais de l'Udaf")
    before = _log(trame)
    cafe_view = trame.runner.projections["cafe"]
    applied = cafe_view.apply_many

    def fails_on_the_link(cur: Cursor, records: Sequence[Recorded]) -> None:
        if any(r.name == "cafe.NewcomerRegistered" for r in records):
            raise RuntimeError("panne pendant l'enregistrement du lien")
        applied(cur, records)

    monkeypatch.setattr(cafe_view, "apply_many", fails_on_the_link)
    with pytest.raises(RuntimeError, match="panne"):
        svc.register_newcomer("agen", mid, nid, author=SYSTEM, themes=["logement"])
    assert _log(trame) == before  # neither the sheet, nor the link, nor the presence
    assert not [s for s in annuaire.structures(trame, "agen") if s.name == "Maison relais de l'Udaf"]
    assert svc.newcomers("agen", mid)[0]["structure_id"] is None
    assert svc.meetings.attendance("agen", mid) == []

    monkeypatch.setattr(cafe_view, "apply_many", applied)
    sid = svc.register_newcomer("agen", mid, nid, author=SYSTEM, themes=["logement"])
    assert _log(trame)[len(before) :] == ["annuaire.StructureJoined", "cafe.NewcomerRegistered", "rencontres.AttendanceRecorded"]
    assert {a["structure_id"]: a["status"] for a in svc.meetings.attendance("agen", mid)} == {sid: "present"}
    sheet: Any = annuaire.structure(trame, "agen", sid)
    assert sheet.name == "Maison relais de l'Udaf" and sheet.themes == ["logement"]


def test_a_newcomer_of_another_territory_is_not_found(trame: Trame, agen: dict[str, str]) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2009-09-15", host_structure_id=agen["cms"])
    nid = svc.present_newcomer("agen", mid, author=SYSTEM, organisation="Maison relais de l'Udaf")
    trame.territories.create("fumel", "Fumel", author=SYSTEM)
    with pytest.raises(Exception, match="pas été présenté"):
        svc.register_newcomer("fumel", mid, nid, author=SYSTEM)
    assert svc.newcomers("agen", mid)[0]["structure_id"] is None


def test_a_newcomer_registered_meanwhile_is_refused_and_writes_no_second_sheet(
    trame: Trame, agen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two coordinators register the same newcomer at once: the one who loses the race is told
    the sheet exists, and neither its sheet, nor its link, nor its presence is written."""
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2009-09-15", host_structure_id=agen["cms"])
    nid = svc.present_newcomer("agen", mid, author=SYSTEM, organisation="Maison relais de l'Udaf")
    first: list[str] = []
    helpers.loses_a_race(trame, monkeypatch, lambda: first.append(svc.register_newcomer("agen", mid, nid, author=SYSTEM)))
    before = _log(trame)
    with pytest.raises(Refused, match="existe déjà") as refused:
        svc.register_newcomer("agen", mid, nid, author=SYSTEM, themes=["logement"])
    assert refused.value.status == 400
    assert _log(trame)[len(before) :] == ["annuaire.StructureJoined", "cafe.NewcomerRegistered", "rencontres.AttendanceRecorded"]
    assert [s.id for s in annuaire.structures(trame, "agen") if s.name == "Maison relais de l'Udaf"] == first
    assert {a["structure_id"] for a in svc.meetings.attendance("agen", mid)} == set(first)
