"""Freshness: a sheet is as fresh as its last confirmation or the last change its structure made
itself, by effective date; the coordination's edits and today's recording time do not count."""

from __future__ import annotations

from core.application import Trame
from core.store import SYSTEM
from core.testing import make_user
from plugins.annuaire.campaigns import campaigns, freshness
from plugins.annuaire.schemas import StructureIn, StructurePatch
from plugins.annuaire.service import directory
from plugins.annuaire.tests.conftest import open_territory


def test_sheets_joined_in_2011_and_never_confirmed_are_stale_today(trame: Trame) -> None:
    open_territory(trame, "meaux")
    d = directory(trame)
    ids = {
        key: d.create_structure("meaux", StructureIn(name=name, effective="2011-09-01"), SYSTEM)[0]
        for key, name in (
            ("ccas", "CCAS de Meaux"),
            ("mds", "MDS de Meaux"),
            ("ml", "Mission locale de Meaux"),
            ("cr", "Croix-Rouge de Meaux"),
        )
    }
    coordination = make_user(trame, "coordination@meaux.example", territory="meaux", role="coordinator")
    referent = make_user(trame, "referent@meaux.example", territory="meaux", role="referent", structure_id=ids["ml"])
    d.update_structure("meaux", ids["mds"], StructurePatch(phone="01 60 00 00 00"), 1, coordination.account_id)  # not the MDS itself
    d.update_structure("meaux", ids["ml"], StructurePatch(phone="01 60 11 11 11"), 1, referent.account_id)  # the Mission locale itself
    d.confirm_structure("meaux", ids["cr"], "campagne:essai")  # « Toujours exact » through its review link

    fresh = freshness(trame, "meaux")
    assert fresh[ids["ccas"]].startswith("2011-09-01") and fresh[ids["mds"]].startswith("2011-09-01")
    assert fresh[ids["ml"]] > "2020" and fresh[ids["cr"]] > "2020"
    stale = campaigns(trame).stale("meaux", 12)
    assert [item.structure.name for item in stale] == ["CCAS de Meaux", "MDS de Meaux"]
    assert all(item.fresh_since and item.fresh_since.startswith("2011-09-01") for item in stale)
    assert campaigns(trame).stale("meaux", 240) == []  # the threshold is the coordinator's
