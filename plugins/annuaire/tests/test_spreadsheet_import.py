"""A spreadsheet as a partner has it (issue 17): Excel's French CSV with title rows above the header,
CP / Ville / contact columns, phones that lost their zero, and a structure already in the directory
under a slightly different name. The dry run maps the columns and offers the duplicate for merging;
nothing is written before the coordinator chooses."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import csrf_of, login
from plugins.annuaire.exchange import read_csv
from plugins.annuaire.import_checks import french_phone
from plugins.annuaire.schemas import StructureIn
from plugins.annuaire.service import directory
from plugins.annuaire.tests.test_exchange import coordinator, names, territory

FIXTURE = Path(__file__).parent / "fixtures" / "excel_france_meaux.csv"
IMPORT = "/t/meaux/annuaire/echanges/import"


def _form_of(page: str) -> dict[str, str]:
    """What a browser sends back from the report's form: hidden fields and each select's choice."""
    form = page[page.index(f'action="{IMPORT}"') :]
    data = {m[0]: html.unescape(m[1]) for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    for name, options in re.findall(r'<select id="[^"]+" name="(colonne_\d+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = chosen[1] if chosen else ""
    return data


def _post(client: Any, page: str, **extra: str) -> Any:
    data = {**_form_of(page), "_csrf_token": csrf_of(page), **extra}
    return client.post(IMPORT, data=data, files={"vide": ("", b"", "application/octet-stream")})


def test_the_excel_france_file_imports_towns_and_contacts_after_mapping_and_merges_the_croix_rouge(trame: Trame, client: Any) -> None:
    territory(trame, "meaux")
    d = directory(trame)
    croix_rouge, _ = d.create_structure("meaux", StructureIn(name="Croix-Rouge", phone="01 60 09 12 34", effective="2011-09-01"), SYSTEM)
    login(client, coordinator(trame, "meaux").email)
    token = csrf_of(client.get("/t/meaux/annuaire/echanges").text)

    dry = client.post(IMPORT, data={"_csrf_token": token, "format": "csv"}, files={"fichier": ("partenaires.csv", FIXTURE.read_bytes())})
    assert dry.status_code == 200, dry.text
    page = html.unescape(dry.text)
    assert "encodage cp1252" in page and "titres lus ligne 4" in page  # the title rows above are skipped
    assert "Colonne « Responsable » non reconnue" in page
    assert "a perdu son 0 initial" in page and "01 60 09 12 34" in page  # reported, not silently dropped
    assert "Collectif d'habitants" in page and "Autre structure" in page  # an unknown type is "autre", with a warning
    assert "Ligne 5 : « Croix Rouge de Meaux » ressemble à une structure" in page
    assert f'value="{croix_rouge}"' in page and "Fusionner avec « Croix-Rouge » (même téléphone, nom proche)" in page
    assert names(trame, "meaux") == ["Croix-Rouge"]

    # The mapping step: "Responsable" is the contact's name. Checked again, still nothing written.
    responsable = re.search(r'<label for="(colonne_\d+)">Responsable</label>', dry.text)
    assert responsable
    mapped = _post(client, dry.text, mode="simulation", **{responsable[1]: "contact_name"})
    assert mapped.status_code == 200 and "non reconnue" not in mapped.text
    # Importing before choosing for the likely duplicate writes nothing.
    undecided = _post(client, mapped.text, mode="importer")
    assert undecided.status_code == 400 and "Doublon probable" in html.unescape(undecided.text)
    assert names(trame, "meaux") == ["Croix-Rouge"]

    done = _post(client, mapped.text, mode="importer", doublon_5=croix_rouge)
    assert done.status_code == 200, done.text
    assert "2 structures importées, 1 fusionnée avec une fiche existante, 3 contacts ajoutés" in html.unescape(done.text)
    assert names(trame, "meaux") == ["Collectif des Hauts de Meaux", "Croix-Rouge", "Secours populaire de Meaux"]
    by_name = {s.name: s for s in directory(trame).list_structures("meaux", limit=10)[0]}
    secours = by_name["Secours populaire de Meaux"]
    assert secours.address == "5 rue de la Justice, 77100 Meaux" and secours.communes == ["Meaux"] and secours.phone == "01 64 33 22 11"
    assert by_name["Collectif des Hauts de Meaux"].kind == "autre"
    merged = by_name["Croix-Rouge"]
    assert (
        merged.address == "12 rue du Faubourg Saint-Nicolas, 77100 Meaux" and merged.phone == "01 60 09 12 34"
    )  # completed, not overwritten
    contacts = {c.person.name: c for c in d.contacts("meaux", croix_rouge) + d.contacts("meaux", secours.id)}
    assert contacts["Marie Dupont"].title == "Présidente de l'unité locale" and contacts["Marie Dupont"].structure_id == croix_rouge
    assert contacts["Jean Martin"].title == "Bénévole référent" and contacts["Jean Martin"].role == "referent"

    # The next file of this territory gets the same mapping, remembered.
    again = client.post(
        IMPORT, data={"_csrf_token": csrf_of(done.text), "format": "csv"}, files={"fichier": ("partenaires.csv", FIXTURE.read_bytes())}
    )
    assert f'<label for="{responsable[1]}">Responsable</label> <span class="badge">choix mémorisé</span>' in again.text
    assert _form_of(again.text)[responsable[1]] == "contact_name"


def test_the_api_writes_nothing_while_a_likely_duplicate_is_undecided(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    directory(trame).create_structure(slug, StructureIn(name="Croix-Rouge", email="meaux@croix-rouge.example"), SYSTEM)
    raw = "Nom;E-mail\r\nUnité locale de Meaux;MEAUX@croix-rouge.example\r\nRestos du cœur;restos@example.org\r\n".encode()
    headers = {**coordinator(trame, slug).headers, "Content-Type": "text/csv"}
    dry = client.post(f"/api/v1/territories/{slug}/structures/import.csv?dry_run=true", content=raw, headers=headers)
    assert dry.status_code == 200
    assert [(d["line"], d["matches"][0]["name"], d["matches"][0]["why"]) for d in dry.json()["duplicates"]] == [
        (2, "Croix-Rouge", "même e-mail")
    ]
    refused = client.post(f"/api/v1/territories/{slug}/structures/import.csv", content=raw, headers=headers)
    assert refused.status_code == 400 and "Doublon probable" in refused.json()["errors"][0]["message"]
    assert names(trame, slug) == ["Croix-Rouge"]
    anyway = client.post(f"/api/v1/territories/{slug}/structures/import.csv?doublons=2:creer", content=raw, headers=headers)
    assert anyway.status_code == 201, anyway.text
    assert names(trame, slug) == ["Croix-Rouge", "Restos du cœur", "Unité locale de Meaux"]


def test_phones_are_kept_as_typed_and_checked_as_french_numbers() -> None:
    assert french_phone("01 60 09 12 34").text == "01 60 09 12 34" and french_phone("01 60 09 12 34").message is None
    assert french_phone("+33 1 60 09 12 34").message is None and french_phone("0590 12 34 56").message is None
    lost = french_phone("160091234")
    assert lost.text == "01 60 09 12 34" and lost.message and not lost.error
    assert french_phone("1,6E+08").error and french_phone("60 09 12").error


def test_a_title_row_above_the_header_and_commas_in_cells_fool_neither_header_nor_delimiter() -> None:
    raw = "Annuaire, édition 2012\r\nNom;Missions\r\nCCAS;Aide, écoute, orientation, accompagnement, domiciliation\r\n"
    table = read_csv(raw.encode("cp1252"))
    assert table.delimiter == ";" and table.header_line == 2 and table.errors == []
    assert table.rows == [(3, {"name": "CCAS", "missions": "Aide, écoute, orientation, accompagnement, domiciliation"})]


def test_two_lines_merged_into_the_same_sheet_both_complete_it(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    sid, _ = directory(trame).create_structure(slug, StructureIn(name="Croix-Rouge", phone="01 60 09 12 34"), SYSTEM)
    raw = (
        "Nom;Téléphone;Site web;Adresse\r\n"
        "Croix Rouge Meaux;01 60 09 12 34;;12 rue du Faubourg\r\n"
        "Croix-Rouge unité locale;;croix-rouge.fr;\r\n"
    )
    headers = {**coordinator(trame, slug).headers, "Content-Type": "text/csv"}
    done = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv?doublons=2:{sid}&doublons=3:{sid}", content=raw.encode(), headers=headers
    )
    assert done.status_code == 201, done.text
    assert [m["line"] for m in done.json()["merged"]] == [2, 3] and done.json()["created"] == []
    s = directory(trame).get_structure(slug, sid)
    assert s is not None and s.address == "12 rue du Faubourg" and s.website == "croix-rouge.fr" and names(trame, slug) == ["Croix-Rouge"]
