"""Imports and exports of the directory: a spreadsheet's CSV, data·inclusion JSON, vCards."""

from __future__ import annotations

import json
from typing import Any

import vobject

from core.application import Trame
from core.store import SYSTEM
from core.testing import User, csrf_of, login, make_user
from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn, StructurePatch
from plugins.annuaire.service import directory


def territory(trame: Trame, slug: str, title: str | None = None) -> str:
    trame.territories.create(slug, title or slug.capitalize(), author=SYSTEM)
    trame.territories.enable(slug, "annuaire", author=SYSTEM)
    return slug


def coordinator(trame: Trame, slug: str) -> User:
    return make_user(trame, f"coordination@{slug}.example", territory=slug, role="coordinator")


def names(trame: Trame, slug: str) -> list[str]:
    items, _ = directory(trame).list_structures(slug, limit=500)
    return sorted(s.name for s in items)


BAD_CSV = (
    "Nom;Sigle;Type;E-mail;Téléphone;Adresse;Communes;Missions;Publics;Thèmes\r\n"
    "Centre communal d'action sociale de Meaux;CCAS;CCAS;ccas@meaux.example;01 60 00 00 00;"
    "2 place de l'Hôtel de ville, 77100 Meaux;Meaux;Aide sociale légale et facultative;Tous publics;Accès aux droits\r\n"
    "Maison bidule;MB;Bidule;contact@bidule.example;;;Meaux;;;\r\n"
    'Mission locale du Nord-Est 77;ML;Mission locale;ml@nord-est.example;;;Meaux, Provins;"Accompagnement des jeunes\r\n'
    'de 16 à 25 ans";Jeunes 16-25 ans;Emploi, insertion | Jeunesse\r\n'
    "Croix-Rouge française, unité de Meaux;;Association caritative;pas-une-adresse;;;Meaux;Aide alimentaire;;Alimentation\r\n"
)
FIXED_CSV = BAD_CSV.replace("Bidule;", "Association;").replace("pas-une-adresse", "meaux@croix-rouge.example")


# == CSV import ==============================================================================
def test_csv_dry_run_reports_both_bad_lines_with_spreadsheet_numbers_and_imports_nothing(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    user = coordinator(trame, slug)
    raw = BAD_CSV.encode("cp1252")  # Excel's French default: read through the fallback
    response = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv?dry_run=true", content=raw, headers={**user.headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 400, response.text
    report = response.json()
    # Line 4 spans two physical lines (a quoted line break): a spreadsheet still shows it as
    # one row, so the Croix-Rouge row is line 5.
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(5, "E-mail")]
    assert "pas-une-adresse" in report["errors"][0]["message"]
    # An unknown type does not refuse the file (issue 17): the line is an "Autre structure", and the report says so.
    bidule = [w for w in report["warnings"] if (w["line"], w["column"]) == (3, "Type")]
    assert len(bidule) == 1 and "Bidule" in bidule[0]["message"] and "Autre structure" in bidule[0]["message"]
    assert report["encoding"] == "cp1252" and report["delimiter"] == ";"
    assert report["imported"] is False and report["created"] == []
    assert names(trame, slug) == []

    # Without dry run, the same file still writes nothing while errors remain.
    response = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv", content=raw, headers={**user.headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 400
    assert names(trame, slug) == []


def test_fixed_csv_imports_every_line_with_kinds_and_themes(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    user = coordinator(trame, slug)
    raw = _to_comma_csv(FIXED_CSV)  # ",", cells quoted as a spreadsheet does, UTF-8 with BOM
    dry = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv?dry_run=true", content=raw, headers={**user.headers, "Content-Type": "text/csv"}
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["valid"] == 4 and dry.json()["delimiter"] == "," and names(trame, slug) == []
    done = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv?effective=2011-09-01",
        content=raw,
        headers={**user.headers, "Content-Type": "text/csv"},
    )
    assert done.status_code == 201, done.text
    assert [c["line"] for c in done.json()["created"]] == [2, 3, 4, 5]
    assert len(names(trame, slug)) == 4
    items, _ = directory(trame).list_structures(slug, as_of="2011-09-02T00:00:00.000000Z", limit=10)
    by_name = {s.name: s for s in items}
    ml = by_name["Mission locale du Nord-Est 77"]
    assert ml.kind == "mission-locale"
    assert ml.themes == ["emploi-insertion", "jeunesse"]
    assert ml.communes == ["Meaux", "Provins"]
    assert ml.missions == "Accompagnement des jeunes\nde 16 à 25 ans"
    assert by_name["Croix-Rouge française, unité de Meaux"].kind == "association-caritative"
    assert by_name["Centre communal d'action sociale de Meaux"].themes == ["acces-aux-droits"]

    # Importing the same file again changes nothing: the structures are already there.
    again = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv", content=raw, headers={**user.headers, "Content-Type": "text/csv"}
    )
    assert again.status_code == 201 and len(again.json()["skipped"]) == 4 and again.json()["created"] == []
    assert len(names(trame, slug)) == 4


def _to_comma_csv(text: str) -> bytes:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    out = io.StringIO()
    csv.writer(out, delimiter=",").writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def test_import_page_dry_run_then_confirm_without_choosing_the_file_again(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    user = coordinator(trame, slug)
    login(client, user.email)
    page = client.get(f"/t/{slug}/annuaire/echanges")
    assert page.status_code == 200 and 'type="file"' in page.text
    token = csrf_of(page.text)
    bad = client.post(
        f"/t/{slug}/annuaire/echanges/import",
        data={"_csrf_token": token, "format": "csv", "mode": "importer"},
        files={"fichier": ("annuaire.csv", BAD_CSV.encode("utf-8"), "text/csv")},
    )
    assert bad.status_code == 400
    assert "rien n'a été importé" in bad.text and '"Ligne">3</td>' in bad.text and '"Ligne">5</td>' in bad.text
    assert names(trame, slug) == []

    dry = client.post(
        f"/t/{slug}/annuaire/echanges/import",
        data={"_csrf_token": token, "format": "csv", "mode": "simulation"},
        files={"fichier": ("annuaire.csv", FIXED_CSV.encode("utf-8"), "text/csv")},
    )
    assert dry.status_code == 200 and "Importer ces 4 structures" in dry.text
    assert names(trame, slug) == []
    import re

    content = re.search(r'name="contenu" value="([^"]+)"', dry.text)
    assert content
    done = client.post(
        f"/t/{slug}/annuaire/echanges/import",
        data={
            "_csrf_token": csrf_of(dry.text),
            "format": "csv",
            "mode": "importer",
            "contenu": content.group(1),
            "nom_fichier": "annuaire.csv",
        },
        files={"vide": ("", b"", "application/octet-stream")},
    )
    assert done.status_code == 200, done.text
    assert "4 structures importées" in done.text
    assert len(names(trame, slug)) == 4


def test_members_may_export_but_not_import(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    member = make_user(trame, "membre@meaux.example", territory=slug, role="member")
    assert client.get(f"/api/v1/territories/{slug}/structures/export.csv", headers=member.headers).status_code == 200
    refused = client.post(
        f"/api/v1/territories/{slug}/structures/import.csv",
        content=FIXED_CSV.encode(),
        headers={**member.headers, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 403
    assert names(trame, slug) == []
    login(client, member.email)
    page = client.get(f"/t/{slug}/annuaire/echanges")
    assert page.status_code == 200 and 'type="file"' not in page.text
    download = client.get(f"/t/{slug}/annuaire/echanges/structures.csv?as_of=&version=3.0")
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/t/{slug}/annuaire/echanges/contacts.vcf?as_of=2012-01-05&version=4.0").status_code == 200
    assert client.get(f"/t/{slug}/annuaire/echanges/structures.datainclusion.json").json() == {"structures": [], "services": []}


# == exports =================================================================================
def _structure(trame: Trame, slug: str, name: str, **fields: Any) -> str:
    sid, _ = directory(trame).create_structure(slug, StructureIn(name=name, **fields), SYSTEM)
    return sid


def _contact(trame: Trame, slug: str, sid: str, name: str, email: str, role: str = "referent", since: str | None = None) -> str:
    d = directory(trame)
    pid, _ = d.create_person(slug, PersonIn(name=name, email=email, phone="01 02 03 04 05"), SYSTEM)
    d.start_contact(slug, sid, ContactIn(person_id=pid, role=role, since=since), SYSTEM)
    return pid


def _same_but_ids(exported: dict[str, Any], slug: str) -> str:
    """The v1 export with Trame's ids (and the links that carry them) numbered in order of
    appearance and the territory's slug taken out: what must survive a round trip."""
    import re

    text = json.dumps(exported, ensure_ascii=False, sort_keys=True).replace(f"/t/{slug}/", "/t/_/")
    ids: dict[str, str] = {}
    for found in re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text):
        ids.setdefault(found, f"id{len(ids)}")
    for uuid, name in ids.items():
        text = text.replace(uuid, name)
    return text


def test_datainclusion_v1_export_import_export_round_trip_is_identical(trame: Trame, client: Any) -> None:
    from plugins.annuaire.services import ServiceIn, services

    agen = territory(trame, "agen")
    fumel = territory(trame, "fumel")
    ccas = _structure(
        trame, agen, "CCAS d'Agen", kind="ccas", email="ccas@agen.example", address="Place du Docteur Esquirol, 47000 Agen",
        missions="Aide sociale légale. " * 30, themes=["acces-aux-droits", "logement"], communes=["Agen"],
        opening_hours="du lundi au vendredi 9h-12h",
    )  # fmt: skip
    _structure(trame, agen, "Mission locale de l'Agenais", kind="mission-locale", themes=["emploi-insertion", "jeunesse"])
    _structure(trame, agen, "Secours populaire", kind="association-caritative", missions="Aide alimentaire et vestimentaire")
    _structure(trame, agen, "Le Café des parents", missions="Un lieu pour les parents")  # no kind
    services(trame).offer(
        agen, ccas,
        ServiceIn(name="Domiciliation administrative", description="Une adresse pour recevoir son courrier.", type="accompagnement",
                  themes=["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"],
                  publics=["tous-publics"], fees="gratuit", reception=["en-presentiel"], referrers=["usagers", "professionnels"],
                  communes=["Agen"]),
        author=SYSTEM,
    )  # fmt: skip
    reader = make_user(trame, "membre@agen.example", territory=agen, role="member")
    exported = client.get(f"/api/v1/territories/{agen}/structures/export.datainclusion.json", headers=reader.headers)
    assert exported.status_code == 200, exported.text
    first = exported.json()
    assert set(first) == {"structures", "services"}
    ccas_v1 = next(i for i in first["structures"] if i["nom"] == "CCAS d'Agen")
    # v1's names, so that a v1 consumer gets the description and the hours (v0's are gone).
    assert ccas_v1["description"].startswith("Aide sociale légale.") and "presentation_resume" not in ccas_v1
    assert "typologie" not in ccas_v1 and ccas_v1["reseaux_porteurs"] == ["ccas-cias"]
    assert ccas_v1["code_postal"] == "47000" and ccas_v1["commune"] == "Agen" and ccas_v1["adresse"] == "Place du Docteur Esquirol"
    assert ccas_v1["horaires_accueil"] == "Mo-Fr 09:00-12:00"
    assert [s["nom"] for s in first["services"]] == ["Domiciliation administrative"]
    assert first["services"][0]["structure_id"] == ccas_v1["id"]
    strict = client.get(f"/api/v1/territories/{agen}/structures/export.datainclusion.json?strict=true", headers=reader.headers).json()
    assert all(not key.startswith("_") for record in [*strict["structures"], *strict["services"]] for key in record)

    importer = coordinator(trame, fumel)
    response = client.post(
        f"/api/v1/territories/{fumel}/structures/import.datainclusion.json",
        content=json.dumps(first).encode(),
        headers={**importer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    again = client.get(f"/api/v1/territories/{fumel}/structures/export.datainclusion.json", headers=importer.headers).json()
    assert _same_but_ids(again, fumel) == _same_but_ids(first, agen)

    # From a strict file (another producer's), v1's own fields still give the names, and the
    # kinds where v1's network says exactly which.
    other = territory(trame, "villeneuve")
    response = client.post(
        f"/api/v1/territories/{other}/structures/import.datainclusion.json",
        content=json.dumps(strict).encode(),
        headers={**coordinator(trame, other).headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    plain = {s.name: s for s in directory(trame).list_structures(other, limit=50)[0]}
    assert sorted(plain) == sorted(names(trame, agen))
    assert plain["CCAS d'Agen"].kind == "ccas" and plain["Mission locale de l'Agenais"].kind == "mission-locale"
    assert plain["CCAS d'Agen"].opening_hours == "Du lundi au vendredi, 9 h – 12 h"  # read back from OpenStreetMap form


def test_datainclusion_v1_import_reports_structures_then_services_by_line(trame: Trame, client: Any) -> None:
    slug = territory(trame, "fumel")
    user = coordinator(trame, slug)
    payload = {
        "structures": [
            {"source": "x", "id": "x--1", "nom": "Bonne structure"},
            {"source": "x", "id": "x--2", "reseaux_porteurs": ["ccas-cias"]},
            {"source": "x", "id": "x--3", "nom": "Courriel faux", "courriel": "non"},
        ],
        "services": [
            {"source": "x", "id": "s--1", "structure_id": "x--1", "nom": "Aide", "description": "Colis alimentaires",
             "thematiques": ["equipement-et-alimentation--alimentation", "theme-inconnu"]},
            {"source": "x", "id": "s--2", "structure_id": "x--9", "nom": "Sans structure", "description": "Rien ici"},
        ],
    }  # fmt: skip
    response = client.post(
        f"/api/v1/territories/{slug}/structures/import.datainclusion.json?dry_run=true",
        content=json.dumps(payload).encode(),
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    report = response.json()
    # Structures are lines 1 to 3, then services 4 and 5.
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(2, "nom"), (3, "courriel"), (5, "structure_id")]
    assert [(w["line"], w["column"]) for w in report["warnings"]] == [(4, "thematiques")]
    assert "« theme-inconnu » inconnu" in report["warnings"][0]["message"]
    # Without dry run, the same file still writes nothing while errors remain.
    refused = client.post(
        f"/api/v1/territories/{slug}/structures/import.datainclusion.json",
        content=json.dumps(payload).encode(),
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert refused.status_code == 400 and names(trame, slug) == []


def test_vcard_export_parses_back_and_holds_no_erased_person(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    mds = _structure(trame, slug, "MDS de Meaux", kind="mds", email="mds@meaux.example")
    cr = _structure(trame, slug, "Croix-Rouge de Meaux", kind="association-caritative")
    _contact(trame, slug, mds, "Cathy CLERC", "cathy.clerc@mds.example")
    _contact(trame, slug, cr, "Marie Josée Chaumette", "mj.chaumette@croix-rouge.example", role="direction")
    gone = _contact(trame, slug, cr, "Effacée Personne", "effacee@croix-rouge.example")
    directory(trame).erase_person(slug, gone, SYSTEM, reason="demande RGPD")
    member = make_user(trame, "membre@meaux.example", territory=slug, role="member")
    for version in ("3.0", "4.0"):
        response = client.get(f"/api/v1/territories/{slug}/contacts/export.vcf?version={version}", headers=member.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/vcard")
        assert "Effacée" not in response.text and "effacee@" not in response.text
        cards = list(vobject.readComponents(response.text))
        assert {c.version.value for c in cards} == {version}
        by_name = {c.fn.value: c for c in cards}
        assert set(by_name) == {"Cathy CLERC", "Marie Josée Chaumette"}
        cathy = by_name["Cathy CLERC"]
        assert cathy.email.value == "cathy.clerc@mds.example" and cathy.org.value == ["MDS de Meaux"]
        assert cathy.n.value.family == "CLERC" and cathy.n.value.given == "Cathy"
        assert by_name["Marie Josée Chaumette"].title.value == "Direction"


def test_a_contact_s_job_title_is_the_vcard_title_and_its_role_the_vcard_role(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    ml = _structure(trame, slug, "Mission locale de Meaux", kind="mission-locale")
    d = directory(trame)
    pid, _ = d.create_person(slug, PersonIn(name="Inès Morel", email="ines.morel@ml-meaux.example"), SYSTEM)
    d.start_contact(slug, ml, ContactIn(person_id=pid, role="referent", title="Conseillère en insertion"), SYSTEM)
    member = make_user(trame, "membre@meaux.example", territory=slug, role="member")
    for version in ("3.0", "4.0"):
        text = client.get(f"/api/v1/territories/{slug}/contacts/export.vcf?version={version}", headers=member.headers).text
        (card,) = vobject.readComponents(text)
        assert card.title.value == "Conseillère en insertion"
        assert card.role.value == "Référent·e"


def test_exports_hold_only_the_territory_structures(trame: Trame, client: Any) -> None:
    meaux = territory(trame, "meaux")
    agen = territory(trame, "agen")
    m = _structure(trame, meaux, "MDS de Meaux", kind="mds")
    a = _structure(trame, agen, "Centre social d'Agen", kind="centre-social")
    _contact(trame, meaux, m, "Cathy Clerc", "cathy@meaux.example")
    _contact(trame, agen, a, "Agnès Agenaise", "agnes@agen.example")
    member = make_user(trame, "membre@meaux.example", territory=meaux, role="member")
    for path in ("structures/export.csv", "structures/export.datainclusion.json", "contacts/export.vcf"):
        body = client.get(f"/api/v1/territories/{meaux}/{path}", headers=member.headers)
        assert body.status_code == 200, (path, body.text)
        assert "Agen" not in body.text and "agnes" not in body.text
        # and Meaux's member cannot read Agen's
        assert client.get(f"/api/v1/territories/{agen}/{path}", headers=member.headers).status_code == 403
    assert "MDS de Meaux" in client.get(f"/api/v1/territories/{meaux}/structures/export.csv", headers=member.headers).text


def test_csv_export_as_of_a_past_date_and_back_into_an_import(trame: Trame, client: Any) -> None:
    slug = territory(trame, "meaux")
    sid = _structure(trame, slug, "Pôle emploi Meaux", kind="france-travail", effective="2009-01-05", email="pe@meaux.example")
    d = directory(trame)
    d.update_structure(slug, sid, StructurePatch(name="France Travail Meaux", effective="2024-01-01"), d.version(slug, sid), SYSTEM)
    user = coordinator(trame, slug)
    old = client.get(f"/api/v1/territories/{slug}/structures/export.csv?as_of=2012-01-05", headers=user.headers)
    assert old.status_code == 200 and old.text.startswith("\ufeffNom;Sigle;Type")
    assert "Pôle emploi Meaux" in old.text and "France Travail Meaux" not in old.text
    assert 'filename="annuaire-meaux-2012-01-05.csv"' in old.headers["content-disposition"]
    now = client.get(f"/api/v1/territories/{slug}/structures/export.csv", headers=user.headers)
    assert "France Travail Meaux" in now.text
    bad = client.get(f"/api/v1/territories/{slug}/structures/export.csv?as_of=32/01/2012", headers=user.headers)
    assert bad.status_code == 400 and "as_of" in bad.json()["detail"]
    # The export is a valid import file for another territory.
    other = territory(trame, "provins")
    other_user = coordinator(trame, other)
    response = client.post(
        f"/api/v1/territories/{other}/structures/import.csv",
        content=now.content,
        headers={**other_user.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    copied, _ = d.list_structures(other)
    assert [(s.name, s.kind, s.email) for s in copied] == [("France Travail Meaux", "france-travail", "pe@meaux.example")]


def test_exports_are_in_openapi_under_annuaire(trame: Trame, client: Any) -> None:
    schema = client.get("/schema/openapi.json").json()
    for path in (
        "/api/v1/territories/{slug}/structures/export.csv",
        "/api/v1/territories/{slug}/structures/export.datainclusion.json",
        "/api/v1/territories/{slug}/structures/import.csv",
        "/api/v1/territories/{slug}/structures/import.datainclusion.json",
        "/api/v1/territories/{slug}/contacts/export.vcf",
    ):
        operations = schema["paths"][path]
        assert all("annuaire" in op["tags"] for op in operations.values()), path
