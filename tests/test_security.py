"""Hostile input (issue 11): CSRF on every form, ids from another territory, injected cells,
lock-outs, control characters, replayed POSTs. Each test is what an attacker tried."""

from __future__ import annotations

import itertools
import re
from typing import Any, TypedDict

import msgspec
import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM, Context, Write
from core.territories import RESERVED_SLUGS, SLUG, TerritoryCreated, territory_stream
from core.testing import User, csrf_of, login, make_user

# -- 1. CSRF, and slugs that collide with the app's own paths ---------------------------------


def test_a_territory_named_api_keeps_the_csrf_check_on_its_forms(trame: Trame, client: TestClient[Any]) -> None:
    """CSRF used to be skipped for any path containing ``/api/``: ``/t/api/membres`` took a form with no token."""
    # A store may hold such a territory from before slugs were reserved: written as it was then.
    trame.execute(Context(author=SYSTEM, territory="api"), Write(territory_stream("api"), 0, [TerritoryCreated(slug="api", title="Api")]))
    coordinator = make_user(trame, "coord@exemple.fr", territory="api", role="coordinator")
    login(client, coordinator.email)
    forged = client.post("/t/api/membres", data={"role": "coordinator", "email": "pirate@exemple.fr"}, follow_redirects=False)
    assert forged.status_code == 403 and "formulaire a expiré" in forged.text
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM invitations WHERE territory = 'api'") == 0
    page = client.get("/t/api/membres")
    honest = client.post("/t/api/membres", data={"role": "member", "_csrf_token": csrf_of(page.text)})
    assert honest.status_code == 200 and "/invitation/" in honest.text
    # The bearer-token API itself needs no CSRF token, and its exemption is that prefix only.
    assert client.app.csrf_config is not None and client.app.csrf_config.exclude == ["^/api/v1/"]


def test_an_expired_form_comes_back_with_what_was_typed_and_goes_through_when_sent_again(trame: Trame, client: TestClient[Any]) -> None:
    """After a restart (a new key) or a long pause, the token of an open form no longer matches:
    nothing is written, and the page shows what was typed, ready to send again from this site."""
    trame.territories.create("vienne", "Vienne", author=SYSTEM)
    coordinator = make_user(trame, "coord@exemple.fr", territory="vienne", role="coordinator")
    login(client, coordinator.email)
    same_site = {"origin": "http://testserver.local"}
    typed = {"role": "member", "email": "agnes.martin@exemple.fr", "_csrf_token": "jeton-d-avant-le-redemarrage"}
    expired = client.post("/t/vienne/membres", data=typed, headers=same_site, follow_redirects=False)
    assert expired.status_code == 403 and "Formulaire expiré" in expired.text
    assert "agnes.martin@exemple.fr" in expired.text and "rien n'a été enregistré" in expired.text
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM invitations WHERE territory = 'vienne'") == 0
    # Sent again as the page offers it: its hidden fields and its fresh token (and cookie).
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', expired.text))
    assert hidden == {"role": "member", "email": "agnes.martin@exemple.fr"}
    again = client.post("/t/vienne/membres", data={**hidden, "_csrf_token": csrf_of(expired.text)}, headers=same_site)
    assert again.status_code == 200
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM invitations WHERE territory = 'vienne'") == 1
    # A form another site made the browser post is not one click from going through.
    forged = client.post("/t/vienne/membres", data=typed, headers={"origin": "https://pirate.example"}, follow_redirects=False)
    assert forged.status_code == 403 and "Renvoyer le formulaire" not in forged.text


def _top_level_segments(trame: Trame) -> set[str]:
    from core.web.app import create_app

    return {route.path.split("/")[1] for route in create_app(trame).routes} - {""}


def test_slugs_that_collide_with_the_apps_paths_are_refused_in_french(trame: Trame, client: TestClient[Any], admin: User) -> None:
    segments = _top_level_segments(trame)
    assert {"api", "static", "schema", "health", "connexion"} <= segments
    # Every first segment the app serves (plugins' included) that could be a slug is reserved.
    assert {s for s in segments if re.match(SLUG, s)} <= RESERVED_SLUGS
    for slug in sorted(RESERVED_SLUGS & {s for s in segments if re.match(SLUG, s)}):
        refused = client.post("/api/v1/territories", json={"slug": slug, "name": "Essai"}, headers=admin.headers)
        assert refused.status_code == 400, slug
        assert refused.json()["detail"] == (
            f"L'identifiant « {slug} » est réservé par Trame (il sert déjà à une adresse du site) : choisissez-en un autre."
        )
    login(client, admin.email)
    page = client.get("/admin/territoires")
    form = client.post("/admin/territoires", data={"slug": "api", "title": "Api", "_csrf_token": csrf_of(page.text)})
    assert form.status_code == 400 and "est réservé par Trame" in form.text
    assert trame.territories.get("api") is None


# -- 2. A structure id from another territory is absent here ---------------------------------

PLUGINS = ("annuaire", "rencontres", "cafe", "charte", "lexique", "diffusion", "partenariats", "immersions", "evaluations", "projets")
ROUTE_NOT_FOUND = "Cette adresse ne correspond à aucune page."


def _network(trame: Trame) -> dict[str, str]:
    """Agen and Fumel with every module; in Agen a structure, a contact, a café, a meeting, a charter and its poll,
    a glossary term, a partnership, an immersion programme and a project."""
    from plugins.annuaire import public as annuaire
    from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn
    from plugins.annuaire.service import directory
    from plugins.cafe.service import cafes
    from plugins.charte.service import charters
    from plugins.immersions.service import immersions
    from plugins.lexique.service import TermIn, lexique
    from plugins.partenariats.service import PartnerIn, PartnershipIn, partnerships
    from plugins.projets.service import SheetIn, projects

    for slug in ("agen", "fumel"):
        trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
        for plugin in PLUGINS:
            trame.territories.enable(slug, plugin, author=SYSTEM)
    ids = {
        "own": annuaire.create(trame, "agen", author=SYSTEM, data=StructureIn(name="Centre social d'Agen", email="cs@agen.example")),
        "other": annuaire.create(trame, "agen", author=SYSTEM, data=StructureIn(name="Mission locale d'Agen", email="ml@agen.example")),
        "foreign": annuaire.create(trame, "fumel", author=SYSTEM, data=StructureIn(name="CCAS de Fumel", email="ccas@fumel.example")),
    }
    d = directory(trame)
    person, _ = d.create_person("agen", PersonIn(name="Aline Martin"), SYSTEM)
    ids["person"] = person
    ids["contact"], _ = d.start_contact("agen", ids["own"], ContactIn(person_id=person, role="referent", since="2020-01-01"), SYSTEM)
    ids["cafe"] = cafes(trame).plan("agen", author=SYSTEM, day="2030-03-01", host_structure_id=ids["own"])
    svc = charters(trame)
    ids["charter"] = svc.draft(
        "agen", author=SYSTEM, title="Charte", preamble="", commitments=["Coopérer."], carrier_structure_id=ids["own"], form="initiative"
    )
    svc.adopt("agen", ids["charter"], 1, author=SYSTEM, on="2020-01-01")
    ids["poll"] = svc.open_poll("agen", ids["charter"], author=SYSTEM, question="", slots=[(4, "09:00", "10:30"), (1, "14:00", "15:30")])
    poll = svc.poll("agen", ids["poll"])
    assert poll is not None
    ids["slot"] = poll["slots"][0]["slot_id"]
    ids["term"] = lexique(trame).add("agen", TermIn(term="CCAS", expansion="Centre communal d'action sociale"), author=SYSTEM)
    partners = [PartnerIn(structure_id=ids["own"], role="terrain"), PartnerIn(structure_id=ids["other"], role="prescripteur")]
    ids["partnership"] = partnerships(trame).record(
        "agen", PartnershipIn(title="Accueil des jeunes", kind="convention", form="initiative", partners=partners, starts_on="2020-01-01"),
        author=SYSTEM,
    )  # fmt: skip
    ids["programme"] = immersions(trame).open_programme(
        "agen", author=SYSTEM, title="Du social à l'emploi", starts_on="2030-01-01", ends_on="2030-06-30", fields=["social", "emploi"]
    )
    ids["project"] = projects(trame).open("agen", SheetIn(title="Diagnostic partagé"), author=SYSTEM)
    return ids


def _api_cases(ids: dict[str, str], meeting: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body): every API operation that names a structure, with Fumel's id where it does."""
    api, f = "/api/v1/territories/agen", ids["foreign"]
    structure = f"{api}/structures/{f}"
    terms = {
        "title": "Volée",
        "kind": "convention",
        "form": "initiative",
        "partners": [{"structure_id": ids["own"], "role": "terrain"}, {"structure_id": f, "role": "financeur"}],
    }
    cases: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{api}/members", {"email": "ref@exemple.fr", "role": "referent", "structure_id": f}),
        ("POST", f"{api}/structures", {"name": "Nouvelle", "relays": [f]}),
        ("PATCH", f"{api}/structures/{ids['own']}", {"relays": [f]}),
        ("POST", f"{api}/structures/{ids['own']}/merge", {"into": f, "effective": "2024-01-01"}),
        ("GET", structure, None),
        ("PATCH", structure, {"name": "Volée"}),
        ("POST", f"{structure}/merge", {"into": ids["own"], "effective": "2024-01-01"}),
        ("POST", f"{structure}/leave", {"effective": "2024-01-01"}),
        ("POST", f"{structure}/rejoin", {"effective": "2024-01-01"}),
        ("POST", f"{structure}/confirm", {}),
        ("GET", f"{structure}/history", None),
        ("GET", f"{structure}/contacts", None),
        ("POST", f"{structure}/contacts", {"person_id": ids["contact"], "role": "referent"}),
        ("POST", f"{structure}/contacts/{ids['contact']}/end", {"until": "2024-01-01"}),
        ("PATCH", f"{structure}/contacts/{ids['contact']}", {"until": "2024-01-01"}),
        ("POST", f"{api}/cafe/cafes", {"day": "2030-04-05", "host_structure_id": f}),
        ("POST", f"{api}/cafe/series", {"first_day": "2030-04-05", "host_structure_id": f, "count": 2}),
        ("POST", f"{api}/cafe/cafes/{ids['cafe']}/round-table", {"structure_id": f, "news": "Nouvelles"}),
        ("PUT", f"{api}/cafe/hosts/{f}", {"willing": True, "has_room": True}),
        (
            "POST",
            f"{api}/charte/charters",
            {"title": "Autre", "commitments": ["Coopérer."], "form": "initiative", "carrier_structure_id": f},
        ),
        (
            "POST",
            f"{api}/charte/charters/{ids['charter']}/signatures",
            {"structure_id": f, "signatory_name": "A B", "signatory_role": "directrice", "signed_on": "2021-01-01"},
        ),
        ("POST", f"{api}/charte/polls/{ids['poll']}/votes", {"structure_id": f, "slot_ids": [ids["slot"]]}),
        (
            "POST",
            f"{api}/rencontres/meetings",
            {"title": "Réunion", "day": "2030-05-02", "place": {"kind": "structure", "structure_id": f}},
        ),
        (
            "POST",
            f"{api}/rencontres/meetings/{meeting}/reschedule",
            {"day": "2030-05-09", "start": "09:00", "end": "10:30", "place": {"kind": "structure", "structure_id": f}},
        ),
        ("POST", f"{api}/rencontres/meetings/{meeting}/invitations", {"structure_ids": [ids["other"], f]}),
        ("PUT", f"{api}/rencontres/meetings/{meeting}/attendance", {"entries": [{"structure_id": f, "status": "present"}]}),
        ("POST", f"{api}/rencontres/meetings/{meeting}/actions", {"title": "Relancer", "owner_structure_id": f}),
        # The glossary: a term names the structure it designates (also in an imported file).
        ("POST", f"{api}/lexique", {"term": "MDS", "expansion": "Maison départementale des solidarités", "structure_id": f}),
        ("PUT", f"{api}/lexique/{ids['term']}", {"expansion": "Centre communal d'action sociale", "structure_id": f, "reason": "Lien"}),
        ("POST", f"{api}/lexique/import", {"csv": f"terme,signification,definition,portee,structure_id\nMDS,Maison,,local,{f}\n"}),
        # Partnerships: their partners, and a structure's map.
        ("POST", f"{api}/partenariats/partnerships", {**terms, "starts_on": "2024-01-01"}),
        ("POST", f"{api}/partenariats/partnerships/{ids['partnership']}/amendments", {**terms, "effective": "2024-01-01"}),
        ("GET", f"{api}/partenariats/structures/{f}/map", None),
        # Immersions: a participant speaks for a structure.
        (
            "POST",
            f"{api}/immersions/programmes/{ids['programme']}/participants",
            {"structure_id": f, "field": "social", "full_name": "Inès Moreau"},
        ),
        # Projects: partners, the structure in charge of a step, the one that observed a need.
        ("POST", f"{api}/projets/{ids['project']}/partenaires", {"structure_id": f, "role": "Pilote"}),
        ("DELETE", f"{api}/projets/{ids['project']}/partenaires/{f}", None),
        ("POST", f"{api}/projets/{ids['project']}/etapes", {"title": "Restitution", "owner_structure_id": f}),
        (
            "POST",
            f"{api}/projets/{ids['project']}/besoins",
            {"structure_id": f, "theme": "logement", "need": "Places", "source": "Accueil"},
        ),
        # The services of the directory (« qui peut aider »).
        ("POST", f"{structure}/services", {"name": "Accueil social", "description": "Un accueil sans rendez-vous."}),
    ]
    return cases


#: Plugins whose page forms are walked with a structure id in their fields (the others' forms
#: are walked through their API, which their pages call the same way).
FORM_PLUGINS = ("lexique", "partenariats", "immersions", "projets", "evaluations", "diffusion")
_STRUCTURE_FIELD = re.compile(r"structure|^partner|^relays$")


def _page_form_cases(ids: dict[str, str]) -> list[tuple[str, dict[str, str], dict[str, Any] | None]]:
    """(path, fields, files): every page form of FORM_PLUGINS whose fields name a structure, with Fumel's id."""
    t, f = "/t/agen", ids["foreign"]
    partnership = {"title": "Volée", "kind": "convention", "form": "initiative", "partner_1": ids["own"], "role_1": "terrain"}
    partnership |= {"partner_2": f, "role_2": "financeur"}
    project = f"{t}/projets/{ids['project']}"
    programme = f"{t}/immersions/programmes/{ids['programme']}"
    csv = f"terme,signification,definition,portee,structure_id\nMDS,Maison,,local,{f}\n".encode()
    return [
        (f"{t}/lexique/nouveau", {"term": "MDPH", "expansion": "Maison départementale des personnes handicapées", "structure_id": f}, None),
        (f"{t}/lexique/termes/{ids['term']}/modifier", {"expansion": "Centre communal", "structure_id": f, "reason": "Lien"}, None),
        (f"{t}/lexique/importer", {"reason": "Import"}, {"file": ("lexique.csv", csv, "text/csv")}),
        (f"{t}/partenariats/nouveau", {**partnership, "starts_on": "2024-01-01"}, None),
        (f"{t}/partenariats/{ids['partnership']}/modifier", {**partnership, "effective": "2024-01-01"}, None),
        (f"{programme}/participants", {"structure_id": f, "field": "social", "full_name": "Inès Moreau"}, None),
        # A contact chosen from the menu carries its structure ("person|structure"): a forged one too.
        (f"{programme}/participants", {"person_id": f"{ids['person']}|{f}", "field": "social"}, None),
        (f"{project}/partenaire", {"structure_id": f, "role": "Pilote"}, None),
        (f"{project}/retrait", {"structure_id": f}, None),
        (f"{project}/etape", {"step_title": "Restitution", "owner_structure_id": f}, None),
        (f"{project}/besoin", {"need_structure_id": f, "theme": "logement", "need": "Places", "source": "Accueil"}, None),
    ]


def _template_structure_fields() -> set[tuple[str, str]]:
    """(plugin, field) of every form field of FORM_PLUGINS' templates that names a structure (``partner_{{ i }}`` -> ``partner_``)."""
    from pathlib import Path

    import plugins

    found: set[tuple[str, str]] = set()
    for plugin in FORM_PLUGINS:
        for template in (Path(plugins.__file__).parent / plugin / "templates").rglob("*.html"):
            text = template.read_text()
            names = re.findall(r'name="([^"]+)"', text) + re.findall(r'forms\.\w+\(\s*"([^"]+)"', text)
            for name in names:
                field = re.sub(r"\{\{.*?\}\}", "", name)
                if _STRUCTURE_FIELD.search(field):
                    found.add((plugin, field))
    return found


def _structure_operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """Operations of the OpenAPI schema that take a structure id: in the path, or in the body (one level of nesting)."""
    components = schema["components"]["schemas"]

    def names(ref: str, depth: int = 0) -> set[str]:
        found: set[str] = set()
        for key, prop in components[ref.rsplit("/", 1)[-1]].get("properties", {}).items():
            if "structure" in key or key in ("relays", "into"):
                found.add(key)
            nested = [prop, prop.get("items", {}), *prop.get("oneOf", [])]
            for p in nested:
                for candidate in [p, p.get("items", {})]:
                    if depth < 2 and "$ref" in candidate:
                        found |= names(candidate["$ref"], depth + 1)
        return found

    out: set[tuple[str, str]] = set()
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            wanted = bool(names(body["$ref"])) if "$ref" in body else False
            if "{structure_id}" in path or wanted:
                out.add((method.upper(), path))
    return out


def _template(path: str, ids: dict[str, str], meeting: str) -> str:
    """A concrete path back to its OpenAPI template."""
    path = path.replace(ids["foreign"], "{structure_id}").replace(ids["own"], "{structure_id}")
    for key, name in (
        ("contact", "contact_id"),
        ("cafe", "meeting_id"),
        ("charter", "charter_id"),
        ("poll", "poll_id"),
        ("term", "term_id"),
        ("partnership", "partnership_id"),
        ("programme", "programme_id"),
        ("project", "project_id"),
    ):
        path = path.replace(ids[key], "{" + name + "}")
    return path.replace(meeting, "{meeting_id}").replace("/agen", "/{slug}")


def test_every_route_that_takes_a_structure_id_refuses_another_territorys(trame: Trame, client: TestClient[Any], admin: User) -> None:
    ids = _network(trame)
    meeting = client.post(
        "/api/v1/territories/agen/rencontres/meetings",
        json={"title": "Rencontre", "day": "2030-05-02", "place": {"kind": "text", "text": "Mairie"}},
        headers=admin.headers,
    )
    assert meeting.status_code == 201, meeting.text
    meeting_id = meeting.json()["meetings"][0]["id"]
    before = trame.store.max_position()
    cases = _api_cases(ids, meeting_id)
    for method, path, body in cases:
        response = client.request(method, path, json=body, headers={**admin.headers, "If-Match": '"1"'})
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        detail = response.json()["detail"]
        assert detail != ROUTE_NOT_FOUND and "structure" in detail.lower(), (method, path, detail)
    assert trame.store.max_position() == before, "a refused command wrote an event"
    # Every API operation that names a structure was walked (a new one is walked or this fails).
    walked = {(m, _template(p, ids, meeting_id)) for m, p, _ in cases}
    missing = _structure_operations(client.get("/schema/openapi.json").json()) - walked
    # Answers name a structure only beside their unguessable token, which decides (403 for another structure).
    missing -= {("POST", "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/answers")}
    assert not missing, f"routes taking a structure id not walked: {sorted(missing)}"

    # The pages: every one whose path holds a structure id, and the members' form.
    login(client, admin.email)
    from core.web.app import create_app

    pages = sorted(
        {(r.path, m) for r in create_app(trame).routes for m in r.methods if "{structure_id" in r.path and r.path.startswith("/t/")}
        - {(r.path, "OPTIONS") for r in create_app(trame).routes}
        - {(r.path, "HEAD") for r in create_app(trame).routes}
    )
    token = csrf_of(client.get("/t/agen/membres").text)
    for template, method in pages:
        path = re.sub(r"\{territory:str\}", "agen", template)
        path = re.sub(r"\{structure_id:str\}", ids["foreign"], path)
        path = re.sub(r"\{contact_id:str\}", ids["contact"], path)
        response = client.request(method, path, data={"_csrf_token": token} if method == "POST" else None, follow_redirects=False)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "structure" in response.text.lower() and ROUTE_NOT_FOUND not in response.text, (method, path)
    form = client.post(
        "/t/agen/membres", data={"role": "referent", "structure_id": ids["foreign"], "_csrf_token": token}, follow_redirects=False
    )
    assert form.status_code == 404 and "pas sur ce territoire" in form.text
    assert len(pages) >= 8
    # The forms of the newer plugins, whose fields (not their paths) carry structure ids.
    sent: set[tuple[str, str]] = set()
    for path, fields, files in _page_form_cases(ids):
        response = client.post(path, data={**fields, "_csrf_token": token}, files=files, follow_redirects=False)
        assert response.status_code == 404, (path, fields, response.status_code)
        assert "structure" in response.text.lower() and ROUTE_NOT_FOUND not in response.text, (path, fields)
        sent |= {(path.split("/")[3], re.sub(r"\d+$", "", k)) for k in fields}
    unsent = _template_structure_fields() - sent
    assert not unsent, f"form fields naming a structure not walked: {sorted(unsent)}"
    assert trame.store.max_position() == before


def test_a_structure_of_the_territory_is_still_accepted(trame: Trame, client: TestClient[Any], admin: User) -> None:
    ids = _network(trame)
    granted = client.post(
        "/api/v1/territories/agen/members",
        json={"email": "ref@exemple.fr", "role": "referent", "structure_id": ids["own"]},
        headers=admin.headers,
    )
    assert granted.status_code == 201 and granted.json()["structure_id"] == ids["own"]
    hosted = client.put(
        f"/api/v1/territories/agen/cafe/hosts/{ids['own']}", json={"willing": True, "has_room": True}, headers=admin.headers
    )
    assert hosted.status_code == 200, hosted.text
    with pytest.raises(Refused, match="n'existe pas sur ce territoire"):
        trame.accounts.invite("fumel", "referent", structure_id=ids["own"], author=SYSTEM)

    # The newer plugins' requests walked above go through with an Agen structure instead of
    # Fumel's: their 404 was the foreign id's, nothing else in them was wrong.
    def here(text: str) -> str:
        return text.replace(f"{ids['person']}|{ids['foreign']}", f"{ids['person']}|{ids['own']}").replace(ids["foreign"], ids["other"])

    newer = ("/lexique", "/partenariats/", "/immersions/", "/projets/", "/services")
    for method, path, body in [c for c in _api_cases(ids, "sans-objet") if any(n in c[1] for n in newer)]:
        sent = None if body is None else msgspec.json.decode(here(msgspec.json.encode(body).decode()))
        answer = client.request(method, here(path), json=sent, headers=admin.headers)
        assert answer.status_code in (200, 201), (method, path, answer.text)
    login(client, admin.email)
    token = csrf_of(client.get("/t/agen/membres").text)
    for path, fields, files in _page_form_cases(ids):
        upload = {k: (name, here(data.decode()).encode(), kind) for k, (name, data, kind) in files.items()} if files else None
        page = client.post(
            path, data={k: here(v) for k, v in fields.items()} | {"_csrf_token": token}, files=upload, follow_redirects=False
        )
        assert page.status_code in (200, 303), (path, fields, page.status_code)


# -- 3. Exports a spreadsheet or an address book cannot be tricked by ------------------------


class Formulas(TypedDict):
    """Text fields of a structure, each starting as a spreadsheet formula would."""

    name: str
    acronym: str
    phone: str
    address: str
    missions: str


FORMULAS: Formulas = {
    "name": '=HYPERLINK("https://pirate.example","Cliquez")',
    "acronym": "@SUM(A1)",
    "phone": "+33 5 53 00 00 00",
    "address": "-1+1, rue des Tests",
    "missions": "'=déjà une apostrophe",
}


def test_csv_export_neutralises_formulas_and_imports_them_back_as_typed(trame: Trame, client: TestClient[Any], admin: User) -> None:
    import csv
    import io

    from core.spreadsheet import FORMULA_STARTS, neutralise, restore
    from plugins.annuaire.schemas import StructureIn
    from plugins.annuaire.service import directory

    for slug in ("agen", "fumel"):
        trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
        trame.territories.enable(slug, "annuaire", author=SYSTEM)
    directory(trame).create_structure("agen", StructureIn(**FORMULAS, effective="2020-01-01"), SYSTEM)
    exported = client.get("/api/v1/territories/agen/structures/export.csv", headers=admin.headers)
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], "a cell a spreadsheet would evaluate"
    assert "'=HYPERLINK(" in exported.text and "'@SUM(A1)" in exported.text and "'+33 5 53" in exported.text
    imported = client.post(
        "/api/v1/territories/fumel/structures/import.csv",
        content=exported.content,
        headers={**admin.headers, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    (copy,), _ = directory(trame).list_structures("fumel")
    assert {field: getattr(copy, field) for field in FORMULAS} == FORMULAS
    for text in ("=1+1", "+", "-", "@x", "\tx", "\rx", "'=x", "''@x", "'x", "x=1", ""):
        assert restore(neutralise(text)) == text
        assert not neutralise(text).startswith(FORMULA_STARTS)


def test_vcard_and_ics_values_are_escaped_by_their_libraries(trame: Trame, client: TestClient[Any], admin: User) -> None:
    import icalendar
    import vobject

    from plugins.annuaire.exchange import export_vcards
    from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn
    from plugins.annuaire.service import directory
    from plugins.rencontres import ics
    from plugins.rencontres.service import meetings

    trame.territories.create("agen", "Agen", author=SYSTEM)
    for plugin in ("annuaire", "rencontres"):
        trame.territories.enable("agen", plugin, author=SYSTEM)
    d = directory(trame)
    name = "CCAS; service, « accueil » \\ Agen"
    sid, _ = d.create_structure("agen", StructureIn(name=name, effective="2020-01-01"), SYSTEM)
    person, _ = d.create_person("agen", PersonIn(name="=Aline; MARTIN,", email="aline@ccas.example"), SYSTEM)
    d.start_contact("agen", sid, ContactIn(person_id=person, role="referent", since="2020-01-01"), SYSTEM)
    cards = list(vobject.readComponents(export_vcards(trame, "agen")))
    assert len(cards) == 1
    assert cards[0].fn.value == "=Aline; MARTIN," and cards[0].org.value == [name]
    injected = "Ordre du jour\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Faux; rendez-vous, \\ piégé"
    created = client.post(
        "/api/v1/territories/agen/rencontres/meetings",
        json={
            "title": "Rencontre; partenaires, \\ Agen",
            "day": "2030-05-02",
            "place": {"kind": "text", "text": "Mairie"},
            "description": injected,
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    m = meetings(trame).require("agen", created.json()["meetings"][0]["id"])
    parsed = icalendar.Calendar.from_ical(ics.calendar([m], name="Agen"))
    events = [c for c in parsed.walk("VEVENT")]
    assert len(events) == 1
    assert str(events[0]["summary"]) == "Rencontre; partenaires, \\ Agen"
    assert str(events[0]["description"]).replace("\r\n", "\n") == injected.replace("\r\n", "\n")


# -- 4. Login throttling that slows a guesser and locks nobody out ---------------------------


def _attempt(client: TestClient[Any], email: str, password: str, origin: str) -> Any:
    page = client.get("/connexion")
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "_csrf_token": csrf_of(page.text)},
        headers={"x-test-client": origin},
        follow_redirects=False,
    )


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Each request says which machine it comes from; the time is ours to move."""
    from datetime import UTC, datetime, timedelta

    from core.web import pages, throttle

    monkeypatch.setattr(pages, "_client", lambda request: request.headers.get("x-test-client", "testclient"))
    clock = {"now": datetime.now(UTC)}
    monkeypatch.setattr(throttle, "_now", lambda: clock["now"])

    def advance(**delta: float) -> None:
        clock["now"] += timedelta(**delta)

    return {"advance": advance}


def test_failures_elsewhere_never_lock_the_owner_out(trame: Trame, client: TestClient[Any], clients: dict[str, Any]) -> None:
    from core.testing import PASSWORD

    make_user(trame, "lea@exemple.fr")
    for _ in range(30):  # someone hammers Léa's account from their machine
        _attempt(client, "lea@exemple.fr", "mauvais-mot-de-passe", "10.0.0.66")
    blocked = _attempt(client, "lea@exemple.fr", PASSWORD, "10.0.0.66")
    assert blocked.status_code == 429 and "Patientez" in blocked.text and int(blocked.headers["retry-after"]) > 0
    # Léa, from her own machine, signs in at once.
    assert _attempt(client, "lea@exemple.fr", PASSWORD, "192.168.1.10").status_code == 303


def test_the_wait_grows_with_each_failure_of_one_client_on_one_account(
    trame: Trame, client: TestClient[Any], clients: dict[str, Any]
) -> None:
    from core.testing import PASSWORD

    make_user(trame, "lea@exemple.fr")
    for _ in range(5):  # typos cost nothing
        assert _attempt(client, "lea@exemple.fr", "mauvais-mot-de-passe", "a").status_code == 400
    waits = []
    for _ in range(4):
        refused = _attempt(client, "lea@exemple.fr", PASSWORD, "a")
        assert refused.status_code == 429 and "Trop de tentatives" in refused.text
        waits.append(int(refused.headers["retry-after"]))
        clients["advance"](seconds=waits[-1])
        assert _attempt(client, "lea@exemple.fr", "mauvais-mot-de-passe", "a").status_code == 400
    assert waits[0] <= 61 and all(b > a for a, b in itertools.pairwise(waits)), waits  # 1, 2, 4, 8 minutes
    clients["advance"](minutes=16)
    assert _attempt(client, "lea@exemple.fr", PASSWORD, "a").status_code == 303


def test_one_client_has_a_higher_ceiling_across_accounts(trame: Trame, client: TestClient[Any], clients: dict[str, Any]) -> None:
    import dataclasses

    from core.testing import PASSWORD

    assert trame.settings.login_client_ceiling == 100
    trame.settings = dataclasses.replace(trame.settings, login_client_ceiling=20)  # the same rule, with fewer argon2 checks
    make_user(trame, "lea@exemple.fr")
    # An office behind one NAT: 8 colleagues mistype twice each, and everyone still signs in.
    for n in range(8):
        for _ in range(2):
            assert _attempt(client, f"collegue{n}@exemple.fr", "mauvais-mot-de-passe", "nat").status_code == 400
    assert _attempt(client, "lea@exemple.fr", PASSWORD, "nat").status_code == 303
    # A machine walking through accounts stops at the ceiling (20 here, 100 by default, in 15 minutes)...
    for n in range(4):
        _attempt(client, f"autre{n}@exemple.fr", "mauvais-mot-de-passe", "nat")
    walled = _attempt(client, "lea@exemple.fr", PASSWORD, "nat")
    assert walled.status_code == 429 and "depuis votre réseau" in walled.text
    # ...which does not reach anyone else.
    assert _attempt(client, "lea@exemple.fr", PASSWORD, "ailleurs").status_code == 303


# -- 5. Control characters, and paging bounds ------------------------------------------------


def test_nul_bytes_and_control_characters_are_refused_in_french_everywhere(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    api = "/api/v1/territories/agen"
    payloads = ["CCAS\x00", "CCAS\x07 d'Agen", "\x1b[31mCCAS", "CCAS\x7f", "CCAS\x0b"]
    for text in payloads:
        response = client.post(f"{api}/structures", json={"name": text, "effective": "2020-01-01"}, headers=admin.headers)
        assert response.status_code == 400, (text, response.text)
        assert response.json() == {
            "detail": "Le champ « name » contient un caractère de contrôle invisible (octet nul ou semblable), "
            "souvent venu d'un copier-coller : retirez-le et réessayez.",
            "status": 400,
            "field": "name",  # the field to correct, as every refusal of the API names it
        }
    nested = client.post(f"{api}/structures", json={"name": "CCAS", "communes": ["Agen", "Boé\x00"]}, headers=admin.headers)
    assert nested.status_code == 400 and "« communes[1] »" in nested.json()["detail"]
    query = client.get(f"{api}/structures", params={"q": "CCAS\x00"}, headers=admin.headers)
    assert query.status_code == 400 and "« q »" in query.json()["detail"]
    # Pages: the same refusal, as a French page, before the handler (and the CSRF check) runs.
    login(client, admin.email)
    token = csrf_of(client.get("/admin/territoires").text)
    form = client.post("/admin/territoires", data={"slug": "boe", "title": "Boé\x00", "_csrf_token": token})
    assert form.status_code == 400 and "caractère de contrôle invisible" in form.text and trame.territories.get("boe") is None
    # Line breaks and tabs are text: accepted.
    fine = client.post(
        f"{api}/structures",
        json={"name": "CCAS", "missions": "Accueil\r\n\tAide sociale", "effective": "2020-01-01"},
        headers=admin.headers,
    )
    assert fine.status_code == 201, fine.text
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM journal WHERE event = 'annuaire.StructureJoined'") == 1


def test_list_limits_are_capped_and_a_negative_offset_is_a_400(trame: Trame, client: TestClient[Any], admin: User) -> None:
    from plugins.annuaire.schemas import StructureIn
    from plugins.annuaire.service import directory

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    for n in range(3):
        directory(trame).create_structure("agen", StructureIn(name=f"Structure {n}", effective="2020-01-01"), SYSTEM)
    api = "/api/v1/territories/agen"
    for path in (f"{api}/structures", f"{api}/audit"):
        negative = client.get(path, params={"offset": -1}, headers=admin.headers)
        assert negative.status_code == 400 and negative.json()["detail"] == "« offset » doit être positif ou nul (0 pour la première page)."
        assert client.get(path, params={"limit": 0}, headers=admin.headers).status_code == 400
        assert client.get(path, params={"limit": 10**9}, headers=admin.headers).status_code == 200
    seen: list[tuple[int, int]] = []
    from plugins.annuaire import service

    original = service.Directory.list_structures

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((kwargs["limit"], kwargs["offset"]))
        return original(self, *args, **kwargs)

    service.Directory.list_structures = spy  # type: ignore[method-assign]
    try:
        page = client.get(f"{api}/structures", params={"limit": 100000}, headers=admin.headers)
    finally:
        service.Directory.list_structures = original  # type: ignore[method-assign]
    assert page.status_code == 200 and page.json()["total"] == 3 and seen == [(200, 0)]


# -- 6. Idempotency-Key: a retry after a timeout does not write twice ------------------------


def _structures(trame: Trame, slug: str) -> int:
    with trame.db.read() as cur:
        return int(cur.scalar("SELECT COUNT(*) FROM journal WHERE territory = ? AND event = 'annuaire.StructureJoined'", (slug,)))


def test_the_same_idempotency_key_replays_the_first_answer(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    url = "/api/v1/territories/agen/structures"
    body = {"name": "CCAS d'Agen", "effective": "2020-01-01"}
    first = client.post(url, json=body, headers={**admin.headers, "Idempotency-Key": "cle-1"})
    again = client.post(url, json=body, headers={**admin.headers, "Idempotency-Key": "cle-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _structures(trame, "agen") == 1
    other_body = client.post(url, json={**body, "name": "Autre"}, headers={**admin.headers, "Idempotency-Key": "cle-1"})
    assert other_body.status_code == 422 and "déjà servi pour une autre requête" in other_body.json()["detail"]
    # Keys are per account, and a request without one writes as before.
    colleague = make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator")
    assert client.post(url, json=body, headers={**colleague.headers, "Idempotency-Key": "cle-1"}).status_code == 201
    assert client.post(url, json=body, headers=admin.headers).status_code == 201
    assert _structures(trame, "agen") == 3
    # A refusal is an answer too: replayed, not run again.
    bad = {"name": "", "effective": "2020-01-01"}
    refused = [client.post(url, json=bad, headers={**admin.headers, "Idempotency-Key": "cle-2"}) for _ in range(2)]
    assert [r.status_code for r in refused] == [400, 400] and refused[1].headers["idempotent-replayed"] == "true"
    # Documented on every POST of the JSON API.
    schema = client.get("/schema/openapi.json").json()
    posts = [(p, op) for p, item in schema["paths"].items() if p.startswith("/api/v1/") for m, op in item.items() if m == "post"]
    assert len(posts) > 20
    for path, op in posts:
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in op.get("parameters", [])), path


def test_two_concurrent_requests_with_one_key_write_once(trame: Trame, live_server: str, admin: User, monkeypatch: Any) -> None:
    import threading
    import time

    import httpx

    from plugins.annuaire import service

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    original = service.Directory.create_structure

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # the client times out and retries while the first request still runs
        return original(self, *args, **kwargs)

    monkeypatch.setattr(service.Directory, "create_structure", slow)
    barrier = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def post() -> None:
        barrier.wait()
        answers.append(
            httpx.post(
                f"{live_server}/api/v1/territories/agen/structures",
                json={"name": "CCAS d'Agen", "effective": "2020-01-01"},
                headers={**admin.headers, "Idempotency-Key": "course"},
                timeout=30,
            )
        )

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [201, 201], [r.text for r in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(r.headers.get("idempotent-replayed", "") for r in answers) == ["", "true"]
    assert _structures(trame, "agen") == 1


# -- 7. The API keeps its own contract -------------------------------------------------------


def test_downloads_name_their_charset_once(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    for plugin in ("annuaire", "rencontres"):
        trame.territories.enable("agen", plugin, author=SYSTEM)
    api = "/api/v1/territories/agen"
    token = client.post(f"{api}/rencontres/feed-token", headers=admin.headers).json()["url"].rsplit("/", 1)[-1].removesuffix(".ics")
    for path, media in (
        (f"{api}/structures/export.csv", "text/csv"),
        (f"{api}/contacts/export.vcf", "text/vcard"),
        (f"{api}/rencontres/feed.ics?token={token}", "text/calendar"),
    ):
        response = client.get(path, headers=admin.headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == f"{media}; charset=utf-8", path


# -- §5 erasure and old copies --------------------------------------------------------------------
def _empty_store(backend: str, tmp_path: Any, name: str) -> Trame:
    from core.settings import Settings
    from core.testing import make_database

    folder = tmp_path / name
    folder.mkdir()
    return Trame(Settings(database_url="unused://"), db=make_database(backend, folder))


def _dispose(store: Trame) -> None:
    if hasattr(store.db, "drop_schema"):
        store.db.drop_schema()
    store.close()


def test_an_old_backup_imported_with_a_newer_register_does_not_bring_an_erased_person_back(
    trame: Trame, tmp_path: Any, backend: str
) -> None:
    from core.testing import run_cli

    kept = trame.accounts.create("garde@exemple.fr", "un-long-mot-de-passe")
    gone = trame.accounts.create("partie@exemple.fr", "un-long-mot-de-passe")
    before = tmp_path / "avant.ndjson"
    assert run_cli(trame, "export", str(before)).returncode == 0
    trame.accounts.erase(gone, author=SYSTEM)
    after = tmp_path / "apres.ndjson"
    assert run_cli(trame, "export", str(after)).returncode == 0
    # The register comes first, holds ids and dates only, and the key is gone from the newer export.
    first = after.read_text().splitlines()[0]
    assert first.startswith('{"kind":"erased"') and gone in first and "partie" not in after.read_text()
    assert [subject for subject, _ in trame.keys.register()] == [gone]

    restored = _empty_store(backend, tmp_path, "sans-registre")
    honoured = _empty_store(backend, tmp_path, "avec-registre")
    try:
        # What an old backup alone does (and why the register exists): the person comes back.
        assert run_cli(restored, "import", str(before)).returncode == 0
        back = restored.accounts.by_email("partie@exemple.fr")
        assert back is not None and back["email"] == "partie@exemple.fr"
        result = run_cli(honoured, "import", str(before), "--erasures", str(after))
        assert result.returncode == 0, result.stderr
        assert "1 clés de personnes effacées" in result.stderr
        shredded = honoured.accounts.by_email("partie@exemple.fr")
        assert shredded is None or shredded["email"] is None
        assert honoured.accounts.authenticate("partie@exemple.fr", "un-long-mot-de-passe") is None
        assert honoured.accounts.authenticate("garde@exemple.fr", "un-long-mot-de-passe") == kept
        assert gone not in dict(honoured.keys.export()) and [s for s, _ in honoured.keys.register()] == [gone]
        again = tmp_path / "reexport.ndjson"
        assert run_cli(honoured, "export", str(again)).returncode == 0
        assert "partie@exemple.fr" not in again.read_text() and '"kind":"erased"' in again.read_text().splitlines()[0]
    finally:
        _dispose(restored)
        _dispose(honoured)


def test_importing_an_export_keeps_its_erasure_register(trame: Trame, tmp_path: Any, backend: str) -> None:
    from core.testing import run_cli

    gone = trame.accounts.create("partie@exemple.fr", "un-long-mot-de-passe")
    trame.accounts.erase(gone, author=SYSTEM)
    export = tmp_path / "journal.ndjson"
    assert run_cli(trame, "export", str(export)).returncode == 0
    target = _empty_store(backend, tmp_path, "cible")
    try:
        assert run_cli(target, "import", str(export)).returncode == 0
        assert target.keys.register() == trame.keys.register()
        assert target.keys.restore(gone, "AAAA") is False  # an erased person's key is never put back
    finally:
        _dispose(target)


# -- §3 imports that cannot hurt the store --------------------------------------------------------
_HEADER = "Nom;Sigle;Type;E-mail\n"


def _lines(count: int) -> bytes:
    return (_HEADER + "".join(f"Structure partenaire {n};SP{n};CCAS;accueil{n}@partenaire.example\n" for n in range(count))).encode()


def test_a_csv_import_is_one_command(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    before = trame.store.max_position()
    answer = client.post(
        "/api/v1/territories/agen/structures/import.csv", content=_lines(40), headers={**admin.headers, "Content-Type": "text/csv"}
    )
    assert answer.status_code == 201, answer.text
    written = trame.store.read(before, 1000)
    joined = [r for r in written if r.event.name == "annuaire.StructureJoined"]
    assert len(joined) == 40 == len(answer.json()["created"])
    # One command: one recorded time, one author, one reason, contiguous positions, 40 new streams.
    assert {(r.recorded_at, r.author, r.reason) for r in joined} == {
        (joined[0].recorded_at, admin.account_id, "Import CSV (40 structures)")
    }
    assert [r.position for r in joined] == list(range(joined[0].position, joined[0].position + 40))
    assert len({r.stream_id for r in joined}) == 40


def test_a_csv_import_that_fails_while_writing_leaves_nothing(trame: Trame, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.annuaire import exchange
    from plugins.annuaire.service import directory

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    project = trame.runner.project_inline

    def fail_after_inserting(cur: Any, recorded: list[Any]) -> None:
        project(cur, recorded[:10])  # some read models written, in the same transaction...
        raise OSError("disque plein")  # ...then the write fails

    monkeypatch.setattr(trame.runner, "project_inline", fail_after_inserting)
    with pytest.raises(OSError):
        exchange.import_csv(trame, "agen", _lines(25), author=SYSTEM, dry_run=False)
    monkeypatch.undo()
    assert directory(trame).list_structures("agen", limit=5)[1] == 0
    assert not [r for r in trame.store.read(0, 1000) if r.event.name == "annuaire.StructureJoined"]


def test_an_import_past_its_stated_limits_is_refused_up_front_in_french(
    trame: Trame, client: TestClient[Any], admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugins.annuaire import exchange

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    monkeypatch.setattr(exchange, "MAX_IMPORT_LINES", 10)
    before = trame.store.max_position()
    url = "/api/v1/territories/agen/structures/import.csv"
    csv_headers = {**admin.headers, "Content-Type": "text/csv"}
    too_long = client.post(url, content=_lines(11), headers=csv_headers)
    assert too_long.status_code == 400 and "Trop de lignes (11 structures)" in too_long.json()["detail"]
    assert client.post(url, content=_lines(10), headers=csv_headers).status_code == 201
    monkeypatch.setattr(exchange, "MAX_IMPORT_BYTES", 200)
    too_big = client.post(url, content=_lines(8), headers=csv_headers)
    assert too_big.status_code == 400 and "Fichier trop volumineux" in too_big.json()["detail"]
    assert trame.store.max_position() == before + 10


def test_the_cli_imports_structures_with_a_progress_line(trame: Trame, tmp_path: Any) -> None:
    from core.testing import run_cli
    from plugins.annuaire.service import directory

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    source = tmp_path / "structures.csv"
    source.write_bytes(_lines(1500))
    checked = run_cli(trame, "import-structures", "agen", str(source), "--simulation")
    assert checked.returncode == 0 and "1500 structures vérifiées (simulation)" in checked.stderr, checked.stderr
    assert "Vérification des lignes [" in checked.stderr and "1000/1500" in checked.stderr
    done = run_cli(trame, "import-structures", "agen", str(source))
    assert done.returncode == 0 and "1500 structures importées en une seule fois" in done.stderr, done.stderr
    assert directory(trame).list_structures("agen", limit=1)[1] == 1500
    refused = run_cli(trame, "import-structures", "fumel", str(source))
    assert refused.returncode == 1 and "pas d'annuaire" in refused.stderr


def test_a_big_import_from_the_page_runs_in_the_background_with_a_page_that_refreshes(
    trame: Trame, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from plugins.annuaire import exchange
    from plugins.annuaire.service import directory

    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    coordinator = make_user(trame, "coordination@agen.example", territory="agen", role="coordinator")
    login(client, coordinator.email)
    monkeypatch.setattr(exchange, "BACKGROUND_LINES", 20)

    def send(lines: int, mode: str) -> Any:
        page = client.get("/t/agen/annuaire/echanges")
        return client.post(
            "/t/agen/annuaire/echanges/import",
            data={"_csrf_token": csrf_of(page.text), "format": "csv", "mode": mode},
            files={"fichier": ("partenaires.csv", _lines(lines), "text/csv")},
            follow_redirects=False,
        )

    held = monkeypatch.context()
    with held as m:  # a job that has not started yet: what a person sees while it runs
        m.setattr(exchange, "_run_job", lambda *args: None)
        waiting = send(30, "importer")
        assert waiting.status_code == 303
        progress = client.get(waiting.headers["location"])
        assert progress.status_code == 200 and '<meta http-equiv="refresh" content="3">' in progress.text
        assert "<progress" in progress.text and "tout ou rien" in progress.text
        still = client.get(waiting.headers["location"] + "?auto=0")
        assert "http-equiv" not in still.text and "Reprendre la mise à jour automatique" in still.text

    started = send(30, "importer")
    assert started.status_code == 303
    deadline = time.monotonic() + 30
    page = client.get(started.headers["location"])
    while "Import en cours" in page.text and time.monotonic() < deadline:
        time.sleep(0.2)
        page = client.get(started.headers["location"])
    assert page.status_code == 200 and "30 structures importées" in page.text, page.text[-2000:]
    assert directory(trame).list_structures("agen", limit=1)[1] == 30
    assert client.get("/t/agen/annuaire/echanges/import/pas-un-import").status_code == 404
