"""Freshness: a sheet is as fresh as its last confirmation or the last change its structure made
itself, by effective date; the coordination's edits and today's recording time do not count."""

from __future__ import annotations

import html
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
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


def test_a_search_today_for_a_structure_that_left_says_where_it_went(trame: Trame, client: Any) -> None:
    open_territory(trame, "meaux")
    d = directory(trame)
    ddjs, _ = d.create_structure(
        "meaux", StructureIn(name="Direction départementale de la jeunesse et des sports", acronym="DDJS", effective="2001-01-01"), SYSTEM
    )
    ddcs, _ = d.create_structure("meaux", StructureIn(name="DDCS de Seine-et-Marne", effective="2010-01-01"), SYSTEM)
    d.create_structure("meaux", StructureIn(name="Café associatif DDJS", effective="2011-01-01"), SYSTEM)  # a name today
    old, _ = d.create_structure("meaux", StructureIn(name="Point info DDJS", effective="2003-01-01"), SYSTEM)
    d.merge_structure("meaux", ddjs, ddcs, "2010-01-01", SYSTEM)
    d.leave_structure("meaux", old, "2008-06-30", SYSTEM)
    login(client, make_user(trame, "membre@meaux.example", territory="meaux", role="member").email)

    page = html.unescape(client.get("/t/meaux/annuaire/", params={"q": "DDJS"}).text)
    today, gone = page.split("Ne sont plus dans le réseau", 1)
    assert "Café associatif DDJS" in today and "Café associatif DDJS" not in gone  # today's results come first
    assert (
        f'<a href="/t/meaux/annuaire/structures/{ddjs}?as_of=2009-12-31">Direction départementale de la jeunesse et des sports</a> '
        f'a fusionné dans <a href="/t/meaux/annuaire/structures/{ddcs}">DDCS de Seine-et-Marne</a> le 01/01/2010.'
    ) in gone
    assert f'<a href="/t/meaux/annuaire/structures/{old}?as_of=2008-06-29">Point info DDJS</a> a quitté le réseau le 30/06/2008.' in gone
    assert gone.index("Direction départementale") < gone.index("Point info")  # the latest departure first
    assert "Ne sont plus dans le réseau" not in client.get("/t/meaux/annuaire/", params={"q": "CCAS"}).text
    assert "Ne sont plus dans le réseau" not in client.get("/t/meaux/annuaire/", params={"q": "DDJS", "as_of": "2005-01-01"}).text


def test_date_maj_in_exports_is_the_last_change_or_confirmation_not_the_joining_date(trame: Trame) -> None:
    from core import clock
    from plugins.annuaire import datainclusion

    open_territory(trame, "meaux")
    d = directory(trame)
    sid, _ = d.create_structure("meaux", StructureIn(name="CCAS de Meaux", effective="2011-09-01"), SYSTEM)
    d.update_structure("meaux", sid, StructurePatch(phone="01 60 00 00 00", effective="2015-03-02"), 1, SYSTEM)

    def date_maj(as_of: str | None = None) -> str:
        return str(datainclusion.export(trame, "meaux", as_of)["structures"][0]["date_maj"])

    assert date_maj("2012-01-01T00:00:00.000000Z") == "2011-09-01"  # as it stood then: only its joining
    assert date_maj() == "2015-03-02"
    d.confirm_structure("meaux", sid, "campagne:essai")
    assert date_maj() == clock.day_of(clock.now())


def test_in_the_demo_the_meaux_sheets_not_confirmed_for_a_year_are_flagged(trame: Trame) -> None:
    from plugins.annuaire import demo, demo_records

    open_territory(trame, "meaux")
    ids = demo.load(trame, "meaux")
    stale = campaigns(trame).stale("meaux", 12)
    flagged = {item.structure.id for item in stale}
    assert flagged and flagged <= set(ids.values())
    joined = {ids[s.key]: s.joined for s in demo_records.STRUCTURES["meaux"]}
    # Entered today, they joined in 2011-2012 and nobody confirmed them since: their freshness is that old.
    assert all(item.fresh_since and item.fresh_since[:10] <= "2013-01-01" for item in stale)
    assert all(joined[sid] < "2013" for sid in flagged)
    assert campaigns(trame).stale("meaux", 240) == []  # the coordinator's threshold decides
