"""Lists over the whole territory at a date: contacts read in batches, relays as they were then."""

from __future__ import annotations

from typing import Any

import pytest

from core import clock
from core.application import Trame
from core.store import SYSTEM
from core.testing import make_user
from plugins.annuaire import exchange, livret
from plugins.annuaire.campaigns import campaigns
from plugins.annuaire.schemas import ContactIn, ContactPatch, PersonIn, StructureIn
from plugins.annuaire.service import Directory, directory
from plugins.annuaire.tests.conftest import Employment, open_territory
from plugins.annuaire.tests.test_livret import fumel
from plugins.annuaire.tests.test_pages import ROOT, T, signed_in, territory

API = "/api/v1/territories"


def day(text: str) -> str:
    return clock.parse(text, end_of_day=True)


def test_contacts_of_structures_equals_contacts_one_by_one(d: Directory, agen: str, employment: Employment) -> None:
    ccas, _ = d.create_structure(agen, StructureIn(name="CCAS d'Agen", effective="2001-01-01"), SYSTEM)
    empty, _ = d.create_structure(agen, StructureIn(name="Centre social sans contact", effective="2001-01-01"), SYSTEM)
    jean, _ = d.create_person(agen, PersonIn(name="Jean Martin", email="j.martin@ccas.example"), SYSTEM)
    zoe, _ = d.create_person(agen, PersonIn(name="Zoé Roux"), SYSTEM)
    d.start_contact(agen, ccas, ContactIn(person_id=jean, role="direction", since="2008-03-01"), SYSTEM)
    later, _ = d.start_contact(agen, ccas, ContactIn(person_id=zoe, role="referent", theme="logement", since="2010-01-01"), SYSTEM)
    d.start_contact(agen, employment.agency, ContactIn(person_id=zoe, role="personne-ressource", since="2011-01-01"), SYSTEM)
    before_fix = clock.now()
    d.correct_contact(agen, ccas, later, ContactPatch(since="2009-06-01", reason="Arrivée plus tôt"), SYSTEM)
    d.erase_person(agen, jean, SYSTEM)
    other = open_territory(d.trame, "fumel")
    elsewhere, _ = d.create_structure(other, StructureIn(name="CCAS de Fumel", effective="2001-01-01"), SYSTEM)
    ids = [employment.agency, employment.assedic, ccas, empty]
    for as_of, known_at in ((None, None), (day("2010-06-01"), None), (day("2009-07-01"), None), (day("2009-07-01"), before_fix)):
        batched = d.contacts_of_structures(agen, [*ids, ccas], as_of, known_at)
        assert batched == {sid: d.contacts(agen, sid, as_of, known_at) for sid in ids}
    assert [c.person.name for c in d.contacts_of_structures(agen, [ccas], day("2010-06-01"))[ccas]] == [None, "Zoé Roux"]
    assert d.contacts_of_structures(agen, [ccas], day("2009-07-01"), before_fix)[ccas][0].person.erased  # only Jean then
    # Another territory's id, or an unknown one, has no contacts here (and reveals nothing).
    assert d.contacts_of_structures(agen, [elsewhere, "00000000-0000-0000-0000-000000000000"]) == {
        elsewhere: [],
        "00000000-0000-0000-0000-000000000000": [],
    }
    assert d.contacts_of_structures(agen, []) == {}


def test_booklet_vcards_and_campaigns_do_not_query_contacts_per_structure(trame: Trame, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = fumel(trame)

    def one_by_one(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("contacts read one structure at a time")

    monkeypatch.setattr(Directory, "contacts", one_by_one)
    booklet = livret.build(trame, "fumel", as_of=day("2012-01-05"))
    [sheet] = [s for g in booklet.groups for s in g.sheets if s.structure.id == ids["pe"]]
    assert [c.person.name for c in sheet.contacts] == ["Sylvie Ancienne"]
    now = livret.build(trame, "fumel")
    [sheet] = [s for g in now.groups for s in g.sheets if s.structure.id == ids["pe"]]
    assert [c.person.name for c in sheet.contacts] == ["Nadia Nouvelle"]
    cards = exchange.export_vcards(trame, "fumel", as_of=day("2012-01-05"))
    assert "FN:Sylvie Ancienne" in cards and "Nadia" not in cards and "ORG:Pôle emploi Fumel" in cards
    stale = {s.structure.id: s.recipient for s in campaigns(trame).stale("fumel", 0)}
    assert stale[ids["pe"]].email == "nadia@francetravail.example"  # the referent contact
    assert stale[ids["cms"]].kind == "structure" and stale[ids["cms"]].email == "cms.fumel@lotetgaronne.example"
    assert stale[ids["udaf"]].kind == "none"
    referent = make_user(trame, "referente@udaf.example", territory="fumel", role="referent", structure_id=ids["udaf"])
    _, links = campaigns(trame).launch("fumel", title="Mise à jour", author=SYSTEM)
    by_structure = {link.structure.id: link.recipient for link in links}
    assert by_structure[ids["udaf"]].kind == "account" and by_structure[ids["udaf"]].id == referent.account_id
    assert by_structure[ids["pe"]].label == "Nadia Nouvelle (référent·e)"


def _relay_network(trame: Trame) -> dict[str, str]:
    """Cultures du cœur (2005) lists two relays: one that joined in 2015, one that left in 2018."""
    d = directory(trame)
    newcomer, _ = d.create_structure(T, StructureIn(name="Secours populaire", effective="2015-03-01"), SYSTEM)
    leaver, _ = d.create_structure(T, StructureIn(name="Épicerie solidaire", effective="2004-01-01"), SYSTEM)
    hub, _ = d.create_structure(T, StructureIn(name="Cultures du cœur", relays=[newcomer, leaver], effective="2005-01-01"), SYSTEM)
    d.leave_structure(T, leaver, "2018-06-30", SYSTEM, "Fermeture")
    return {"hub": hub, "newcomer": newcomer, "leaver": leaver}


def _relays_on_page(text: str) -> str:
    return text.split("<dt>Structures relais</dt>")[1].split("</dd>")[0]


def test_relays_shown_are_those_in_the_network_at_that_date(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = _relay_network(trame)
    user = signed_in(client, trame, "membre@agen.example", "member")
    url = f"{ROOT}/structures/{ids['hub']}"
    in_2010 = _relays_on_page(client.get(url, params={"as_of": "2010-06-01"}).text)
    assert "Épicerie solidaire" in in_2010 and "Secours populaire" not in in_2010  # not a partner yet
    in_2016 = _relays_on_page(client.get(url, params={"as_of": "2016-06-01"}).text)
    assert "Épicerie solidaire" in in_2016 and "Secours populaire" in in_2016
    today = _relays_on_page(client.get(url).text)
    assert "Secours populaire" in today and "Épicerie solidaire" not in today  # left in 2018

    def api_relays(**params: str) -> list[str]:
        one = client.get(f"{API}/{T}/structures/{ids['hub']}", params=params, headers=user.headers)
        assert one.status_code == 200
        listed = client.get(f"{API}/{T}/structures", params={"q": "Cultures", **params}, headers=user.headers).json()["items"]
        assert [s["relays"] for s in listed] == [one.json()["relays"]]
        return list(one.json()["relays"])

    assert api_relays(as_of="2010-06-01") == [ids["leaver"]]
    assert sorted(api_relays(as_of="2016-06-01")) == sorted([ids["newcomer"], ids["leaver"]])
    assert api_relays() == [ids["newcomer"]]
    assert directory(trame).get_structure(T, ids["hub"]).relays == [ids["newcomer"], ids["leaver"]]  # type: ignore[union-attr]


def test_api_says_where_a_merged_structure_went(trame: Trame, client: Any, agen: str, employment: Employment) -> None:
    member = make_user(trame, "membre@agen.example", territory=agen, role="member")
    gone = client.get(f"{API}/{agen}/structures/{employment.assedic}", headers=member.headers)
    assert gone.status_code == 404
    detail = gone.json()["detail"]
    assert "a fusionné le 19 décembre 2008" in detail and "« Pôle emploi – agence d'Agen »" in detail and employment.agency in detail
