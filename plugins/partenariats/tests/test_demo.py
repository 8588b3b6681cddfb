"""The Joigny demo: the CCAS's partner map in 2010 holds the charter's signatories as partners of an
« initiative » partnership; today it holds the current conventions, under today's names."""

from __future__ import annotations

from typing import Any

from core import clock
from core.application import Trame
from core.demo import build_demo
from plugins.annuaire import public as annuaire
from plugins.charte.public import charters
from plugins.partenariats.service import partnerships


def test_joigny_ccas_map_in_2010_and_today(trame: Trame) -> None:
    build_demo(trame)
    ccas = annuaire.find_by_name(trame, "joigny", "CCAS de Joigny")
    assert ccas is not None
    svc = partnerships(trame)
    then = svc.partner_map("joigny", ccas.id, as_of=clock.parse("2010-06-01", end_of_day=True))
    listed: list[dict[str, Any]] = charters(trame).all("joigny")
    charter = next(c for c in listed if c["form"] == "initiative")
    signatories: list[dict[str, Any]] = charters(trame).signatories("joigny", charter["charter_id"], "2010-06-01")
    signed = {s["structure_id"] for s in signatories} - {ccas.id}
    initiative = {e.structure_id for e in then.entries() for p in e.partnerships if p.form == "initiative" and p.kind == "reseau"}
    assert signed and initiative == signed
    names_then = {e.name for e in then.entries()}
    assert "Conseil général de l'Yonne" in names_then and "CRAM de Bourgogne et de Franche-Comté – service social" in names_then

    now = svc.partner_map("joigny", ccas.id)
    names_now = {e.name for e in now.entries()}
    assert {"Conseil départemental de l'Yonne", "CARSAT Bourgogne et Franche-Comté – service social"} <= names_now
    assert not any(
        p.form == "initiative" and p.kind == "reseau" for e in now.entries() for p in e.partnerships
    )  # the charter ended in 2012
    assert any(r.what == "fin" for r in svc.reminders("joigny"))
    build_demo(trame)  # a second run adds nothing
    assert len(svc.at("joigny", running=False)) == len(svc.at("joigny", running=False, as_of=clock.now()))
