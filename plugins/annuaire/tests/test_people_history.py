"""People's details have a history like a sheet's (as_of, known_at), erased with every version;
contacts have a job title; « les personnes ressources » across the territory. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import clock
from core.application import Trame
from core.database import SQLiteDatabase
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import login, make_user, post_form
from plugins.annuaire.schemas import ContactIn, ContactPatch, PersonIn, PersonPatch, StructureIn
from plugins.annuaire.service import Directory
from plugins.annuaire.tests.conftest import Employment

IN_2010 = "2010-06-01T00:00:00.000000Z"


def _new_number(d: Directory, agen: str, employment: Employment) -> str:
    """Laëtitia's line from her start in 2009, a new one from 1 March 2011 (both entered now);
    returns an instant between the two recordings."""
    d.update_person(agen, employment.laetitia, PersonPatch(phone="05 53 22 22 22", effective="2009-09-15"), SYSTEM)
    registered = clock.now()
    d.update_person(agen, employment.laetitia, PersonPatch(phone="05 53 77 77 77", effective="2011-03-01", reason="Nouveau poste"), SYSTEM)
    return registered


def test_our_pole_emploi_contact_in_2010_and_her_number_then(d: Directory, agen: str, employment: Employment) -> None:
    before_change = _new_number(d, agen, employment)
    then = d.contacts(agen, employment.agency, as_of=IN_2010)
    assert [(c.person.name, c.person.phone) for c in then] == [("Laëtitia Faure", "05 53 22 22 22")]
    assert d.person(agen, employment.laetitia, as_of=IN_2010).phone == "05 53 22 22 22"  # type: ignore[union-attr]
    assert d.person(agen, employment.laetitia).phone == "05 53 77 77 77"  # type: ignore[union-attr]  # today
    assert d.person(agen, employment.laetitia, as_of="2012-01-05T00:00:00.000000Z").phone == "05 53 77 77 77"  # type: ignore[union-attr]
    # As the directory knew it before the change was entered, 2012 still had the old number.
    known = d.person(agen, employment.laetitia, as_of="2012-01-05T00:00:00.000000Z", known_at=before_change)
    assert known is not None and known.phone == "05 53 22 22 22"
    # A back-dated correction of her e-mail (2009) leaves today's number as it is.
    d.update_person(agen, employment.laetitia, PersonPatch(email="l.faure@pole-emploi.example", effective="2009-01-01"), SYSTEM)
    now = d.person(agen, employment.laetitia)
    assert now is not None and (now.email, now.phone) == ("l.faure@pole-emploi.example", "05 53 77 77 77")
    old = d.person(agen, employment.laetitia, as_of="2008-06-01T00:00:00.000000Z")
    assert old is not None and (old.email, old.phone) == ("laetitia.faure@pole-emploi.example", None)  # no line before 2009
    line = next(h for h in d.history(agen, person_id=employment.laetitia) if h.effective.startswith("2011-03-01"))
    assert line.label == "Modification des coordonnées" and [(c.field, c.before, c.after) for c in line.changes] == [
        ("phone", "05 53 22 22 22", "05 53 77 77 77")
    ]
    with pytest.raises(Refused, match="pas à venir"):
        d.update_person(agen, employment.laetitia, PersonPatch(phone="01", effective="2999-01-01"), SYSTEM)


def test_erasure_removes_every_version_and_a_rebuild_agrees(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    _new_number(d, agen, employment)
    d.erase_person(agen, employment.laetitia, SYSTEM, reason="demande RGPD")
    for at in (IN_2010, None):
        person = d.person(agen, employment.laetitia, as_of=at)
        assert person is not None and person.erased and (person.name, person.email, person.phone) == (None, None, None)
    assert [c.person.name for c in d.contacts(agen, employment.agency, as_of=IN_2010)] == [None]
    with trame.db.read() as cur:
        states = [r["state"] for r in cur.execute("SELECT state FROM annuaire_people_details").fetchall()]
        patches = [r["patch"] for r in cur.execute("SELECT patch FROM annuaire_people_details_facts").fetchall()]
    stored = " ".join(str(text) for text in (*states, *patches))
    assert states and patches and "05 53" not in stored and "Faure" not in stored and "laetitia" not in stored
    incremental = trame.runner.snapshot(["annuaire.people"])
    trame.runner.rebuild(["annuaire.people"])
    assert trame.runner.snapshot(["annuaire.people"]) == incremental


@pytest.mark.parametrize("backend", ["sqlite"])  # the raw file is SQLite's
def test_after_erasure_no_version_of_her_number_is_in_the_file(
    trame: Trame, d: Directory, agen: str, employment: Employment, tmp_path: Path
) -> None:
    _new_number(d, agen, employment)
    d.erase_person(agen, employment.laetitia, SYSTEM)
    assert isinstance(trame.db, SQLiteDatabase)
    raw = (tmp_path / "trame.db").read_bytes()
    for trace in (b"05 53 22 22 22", b"05 53 77 77 77", "Laëtitia".encode()):
        assert trace not in raw


def test_job_titles_and_the_resource_people_of_the_territory(d: Directory, agen: str, employment: Employment) -> None:
    mds, _ = d.create_structure(agen, StructureIn(name="MDS de l'Agenais", kind="mds", effective="2005-01-01"), SYSTEM)
    ccas, _ = d.create_structure(agen, StructureIn(name="CCAS d'Agen", kind="ccas", effective="2005-01-01"), SYSTEM)
    sophie, _ = d.create_person(agen, PersonIn(name="Sophie Lagarde", phone="05 53 40 40 40"), SYSTEM)
    marc, _ = d.create_person(agen, PersonIn(name="Marc Delpech"), SYSTEM)
    cid, _ = d.start_contact(
        agen, mds, ContactIn(person_id=sophie, role="personne-ressource", title="Assistante sociale de secteur", since="2008-01-01"), SYSTEM
    )
    d.start_contact(
        agen, ccas, ContactIn(person_id=marc, role="referent", title="Conseiller en économie sociale", since="2009-01-01"), SYSTEM
    )
    d.start_contact(agen, employment.agency, ContactIn(person_id=marc, role="personne-ressource", since="2013-01-01"), SYSTEM)
    assert [c.title for c in d.contacts(agen, mds)] == ["Assistante sociale de secteur"]

    # Across the territory, at a date: who is the resource person of each institution.
    in_2010 = d.resource_people(agen, as_of=IN_2010)
    assert [(c.person.name, c.structure_id) for c in in_2010] == [("Sophie Lagarde", mds)]
    assert {c.person.name for c in d.resource_people(agen)} == {"Sophie Lagarde", "Marc Delpech"}
    # Searchable by job title, accents and case ignored; every contact when asked.
    assert [c.person.name for c in d.resource_people(agen, "assistante SOCIALE")] == ["Sophie Lagarde"]
    assert d.resource_people(agen, "economie") == []  # Marc is the CCAS's referent, not its resource person
    assert [c.person.name for c in d.resource_people(agen, "économie", every_role=True)] == ["Marc Delpech"]
    # A correction of the title is in the contact's history.
    d.correct_contact(agen, mds, cid, ContactPatch(title="Assistante sociale polyvalente de secteur"), SYSTEM)
    assert [c.title for c in d.contacts(agen, mds)] == ["Assistante sociale polyvalente de secteur"]
    last = d.history(agen, structure_id=mds)[-1]
    assert [(c.field, c.after) for c in last.changes] == [("title", "Assistante sociale polyvalente de secteur")]


def test_pages_show_the_2010_number_and_the_resource_people(
    trame: Trame, client: Any, d: Directory, agen: str, employment: Employment
) -> None:
    _new_number(d, agen, employment)
    d.correct_contact(
        agen, employment.agency, employment.contact, ContactPatch(role="personne-ressource", title="Conseillère emploi"), SYSTEM
    )
    coordinator = make_user(trame, "coord@agen.example", territory=agen, role="coordinator")
    login(client, coordinator.email)
    sheet = client.get(f"/t/{agen}/annuaire/structures/{employment.agency}", params={"as_of": "2010-06-01"})
    assert sheet.status_code == 200 and "05 53 22 22 22" in sheet.text and "05 53 77 77 77" not in sheet.text
    assert "Conseillère emploi" in sheet.text
    person = client.get(f"/t/{agen}/annuaire/personnes/{employment.laetitia}", params={"as_of": "2010-06-01"})
    assert person.status_code == 200 and "05 53 22 22 22" in person.text and "Coordonnées telles qu'au 01/06/2010" in person.text
    assert "05 53 77 77 77" in client.get(f"/t/{agen}/annuaire/personnes/{employment.laetitia}").text
    listing = client.get(f"/t/{agen}/annuaire/personnes-ressources", params={"as_of": "2010-06-01", "q": "conseillere"})
    assert listing.status_code == 200
    table = listing.text.split("<tbody>")[1].split("</tbody>")[0]
    assert "Laëtitia Faure" in table and "Conseillère emploi" in table and "05 53 22 22 22" in table
    assert "Aucune personne ressource" in client.get(f"/t/{agen}/annuaire/personnes-ressources", params={"as_of": "2013-01-01"}).text
    api = client.get(
        f"/api/v1/territories/{agen}/resource-people", params={"q": "CONSEILLERE", "as_of": "2010-06-01"}, headers=coordinator.headers
    )
    assert api.status_code == 200, api.text
    assert [(c["person"]["name"], c["person"]["phone"], c["title"]) for c in api.json()["items"]] == [
        ("Laëtitia Faure", "05 53 22 22 22", "Conseillère emploi")
    ]
    bad = client.get(f"/api/v1/territories/{agen}/resource-people", params={"as_of": "31/02/2010"}, headers=coordinator.headers)
    assert bad.status_code == 400

    # The person form takes the date of the change.
    edit = f"/t/{agen}/annuaire/personnes/{employment.laetitia}/modifier"
    form = client.get(edit).text
    from plugins.annuaire.tests.test_pages import person_form

    saved = post_form(client, edit, edit, person_form(form, person_email="l.faure@francetravail.example", effective="2024-01-01"))
    assert saved.status_code == 303, saved.text
    assert d.person(agen, employment.laetitia, as_of="2023-06-01T00:00:00.000000Z").email == "laetitia.faure@pole-emploi.example"  # type: ignore[union-attr]
    assert d.person(agen, employment.laetitia).email == "l.faure@francetravail.example"  # type: ignore[union-attr]
    future = post_form(client, edit, edit, person_form(client.get(edit).text, person_phone="05 00", effective="2999-01-01"))
    assert future.status_code == 400 and 'id="erreur-effective"' in future.text


def test_the_demo_shows_laetitias_2010_number_as_of_2010(trame: Trame, client: Any) -> None:
    from plugins.annuaire import demo
    from plugins.annuaire.service import directory
    from plugins.annuaire.tests.conftest import open_territory

    open_territory(trame, "fumel")
    ids = demo.load(trame, "fumel")
    d = directory(trame)
    [laetitia] = [c for c in d.contacts("fumel", ids["france-travail"], as_of=IN_2010) if c.role == "referent"]
    assert (laetitia.person.name, laetitia.person.phone, laetitia.title) == ("Laëtitia Faure", "05 36 49 40 02", "Conseillère à l'emploi")
    assert d.person("fumel", laetitia.person.id).phone == "05 36 49 40 12"  # type: ignore[union-attr]  # her direct line since 2011
    member = make_user(trame, "membre@fumel.example", territory="fumel", role="member")
    login(client, member.email)
    page = client.get(f"/t/fumel/annuaire/structures/{ids['france-travail']}", params={"as_of": "2010-06-01"})
    assert "Laëtitia Faure" in page.text and "05 36 49 40 02" in page.text and "05 36 49 40 12" not in page.text
