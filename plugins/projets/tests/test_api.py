"""The project sheets' JSON API: the coordination writes the sheet, its partners, steps, the
meetings' actions and documents; each referent writes its own structure's part of the shared
diagnosis; members read; every change is in the history; another territory's ids and a module
off answer 404."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import User, make_user
from plugins.evaluations.tests import helpers
from plugins.rencontres import public as rencontres

T = "valfleuri"
API = f"/api/v1/territories/{T}/projets"
PLUGINS = ("annuaire", "rencontres", "projets")


@pytest.fixture
def ids(trame: Trame) -> dict[str, str]:
    return helpers.territory(trame, plugins=PLUGINS)


@pytest.fixture
def coordinator(trame: Trame, ids: dict[str, str]) -> User:
    return make_user(trame, "coordination@valfleuri.example", territory=T, role="coordinator")


@pytest.fixture
def referent(trame: Trame, ids: dict[str, str]) -> User:
    return make_user(trame, "referent@ccas.example", territory=T, role="referent", structure_id=ids["ccas"])


def _opened(client: Any, coordinator: User, **fields: Any) -> dict[str, Any]:
    opened = client.post(f"{API}/", json={"title": "Épicerie sociale", **fields}, headers=coordinator.headers)
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


def test_the_coordination_builds_a_sheet_and_its_history_says_who_and_why(
    trame: Trame, client: Any, ids: dict[str, str], coordinator: User
) -> None:
    p = _opened(client, coordinator, objectives=["Ouvrir en 2013", " "], starts_on="01/09/2012", scope="reseau")
    assert (p["status"], p["starts_on"], p["objectives"]) == ("idee", "2012-09-01", ["Ouvrir en 2013"])
    one = f"{API}/{p['id']}"
    partner = client.post(f"{one}/partenaires", json={"structure_id": ids["ccas"], "role": "porteur"}, headers=coordinator.headers)
    assert partner.status_code == 200 and [(x["name"], x["role"]) for x in partner.json()["partners"]] == [
        ("CCAS du Val-Fleuri", "porteur")
    ]
    step = client.post(
        f"{one}/etapes",
        json={"title": "Trouver un local", "due": "2012-11-30", "owner_structure_id": ids["ml"]},
        headers=coordinator.headers,
    )
    assert step.status_code == 201 and step.json()["owner_name"] == "Mission locale du Val-Fleuri" and step.json()["done_at"] is None
    done = client.post(f"{one}/etapes/{step.json()['id']}/realisee", headers=coordinator.headers)
    assert done.status_code == 200 and done.json()["done_at"]
    assert client.post(f"{one}/etapes/{step.json()['id']}/realisee", headers=coordinator.headers).status_code == 409
    m = rencontres.meetings(trame)
    meeting_id = m.schedule(T, author=SYSTEM, title="Groupe de travail", day="2012-09-14", start="09:00", end="10:30",
                            place=m.place(T, kind="text", text="Mairie"))  # fmt: skip
    action_id = m.open_action(T, meeting_id, author=SYSTEM, title="Chiffrer le projet", owner_structure_id=ids["chrs"])
    attached = client.post(f"{one}/suites", json={"action_id": action_id}, headers=coordinator.headers)
    assert attached.status_code == 201 and (attached.json()["meeting_day"], attached.json()["owner_name"]) == (
        "2012-09-14",
        "CHRS Les Tilleuls",
    )
    assert client.post(f"{one}/suites", json={"action_id": action_id}, headers=coordinator.headers).status_code == 409
    bad = client.post(f"{one}/documents", json={"title": "Note", "url": "javascript:alert(1)"}, headers=coordinator.headers)
    assert bad.status_code == 400 and "https://" in bad.json()["detail"]
    doc = client.post(
        f"{one}/documents", json={"title": "Note d'opportunité", "url": "https://exemple.fr/note.pdf"}, headers=coordinator.headers
    )
    assert doc.status_code == 201
    removed = client.delete(f"{one}/documents/{doc.json()['id']}", headers=coordinator.headers)
    assert removed.status_code == 200 and removed.json()["documents"] == []
    amended = client.put(
        one, json={"title": "Épicerie sociale du Val-Fleuri", "status": "en-cours", "reason": "nom choisi"}, headers=coordinator.headers
    )
    assert amended.status_code == 200 and amended.json()["status_label"] == "En cours" and amended.json()["partners"]
    wrong = client.put(one, json={"title": "x", "starts_on": "2012-09-01", "ends_on": "2012-01-01"}, headers=coordinator.headers)
    assert wrong.status_code == 400 and "fin" in wrong.json()["detail"]
    history = client.get(f"{one}/historique", headers=coordinator.headers).json()
    assert history[0]["label"] == "Fiche projet modifiée" and history[0]["reason"] == "nom choisi"
    assert history[0]["author_name"] == "coordination@valfleuri.example" and history[-1]["label"] == "Fiche projet créée"
    assert len(history) == 8
    sheet = client.get(one, headers=coordinator.headers).json()
    assert [a["title"] for a in sheet["actions"]] == ["Chiffrer le projet"] and [s["title"] for s in sheet["steps"]] == ["Trouver un local"]
    assert [p["title"] for p in client.get(f"{API}/", headers=coordinator.headers).json()] == ["Épicerie sociale du Val-Fleuri"]


def test_each_referent_writes_only_its_own_part_of_the_diagnosis_and_members_read(
    trame: Trame, client: Any, ids: dict[str, str], coordinator: User, referent: User
) -> None:
    p = _opened(client, coordinator)
    one = f"{API}/{p['id']}"
    need = {"structure_id": ids["ccas"], "theme": "logement", "need": "Des demandes d'hébergement d'urgence sans réponse le week-end.",
            "source": "Registre de l'accueil, 2012"}  # fmt: skip
    written = client.post(f"{one}/besoins", json=need, headers=referent.headers)
    assert written.status_code == 201 and (written.json()["structure_name"], written.json()["theme_label"]) == (
        "CCAS du Val-Fleuri", "Logement, hébergement",
    )  # fmt: skip
    other = client.post(f"{one}/besoins", json={**need, "structure_id": ids["ml"]}, headers=referent.headers)
    assert other.status_code == 403 and "votre seule structure" in other.json()["detail"]
    assert client.post(f"{one}/besoins", json={**need, "theme": "astrologie"}, headers=referent.headers).status_code == 400
    by_coordination = client.post(f"{one}/besoins", json={**need, "structure_id": ids["ml"]}, headers=coordinator.headers)
    assert by_coordination.status_code == 201
    not_hers = client.delete(f"{one}/besoins/{by_coordination.json()['id']}", headers=referent.headers)
    assert not_hers.status_code == 409
    mine = client.delete(f"{one}/besoins/{written.json()['id']}", headers=referent.headers)
    assert mine.status_code == 200 and [n["structure_name"] for n in mine.json()["needs"]] == ["Mission locale du Val-Fleuri"]
    for method, path, body in [
        ("post", f"{API}/", {"title": "x"}),
        ("put", one, {"title": "x"}),
        ("post", f"{one}/partenaires", {"structure_id": ids["ccas"]}),
        ("post", f"{one}/etapes", {"title": "x"}),
        ("post", f"{one}/documents", {"title": "x", "url": "https://exemple.fr"}),
    ]:
        refused = client.request(method, path, json=body, headers=referent.headers)
        assert refused.status_code == 403, (method, path, refused.text)
    member = make_user(trame, "membre@valfleuri.example", territory=T, role="member")
    assert client.get(one, headers=member.headers).status_code == 200
    assert client.post(f"{one}/besoins", json=need, headers=member.headers).status_code == 403


def test_another_territorys_ids_and_a_module_off_answer_404(trame: Trame, client: Any, ids: dict[str, str], coordinator: User) -> None:
    p = _opened(client, coordinator)
    other_ids = helpers.territory(trame, "autreville", plugins=PLUGINS)
    other = make_user(trame, "coordination@autreville.example", territory="autreville", role="coordinator")
    elsewhere = f"/api/v1/territories/autreville/projets/{p['id']}"
    assert client.get(elsewhere, headers=other.headers).status_code == 404
    involved = client.post(f"{elsewhere}/partenaires", json={"structure_id": other_ids["ccas"]}, headers=other.headers)
    assert involved.status_code == 404 and "n'existe pas" in involved.json()["detail"]
    assert client.get(f"{API}/{p['id']}", headers=coordinator.headers).json()["partners"] == []  # untouched
    foreign = client.post(f"{API}/{p['id']}/partenaires", json={"structure_id": other_ids["ccas"]}, headers=coordinator.headers)
    assert foreign.status_code == 404
    assert client.post(f"{API}/{p['id']}/suites", json={"action_id": "pas-une-action"}, headers=coordinator.headers).status_code == 404
    trame.territories.disable(T, "projets", author=SYSTEM)
    off = client.get(f"{API}/", headers=coordinator.headers)
    assert off.status_code == 404 and "module non activé" in off.json()["detail"]


def test_the_schema_documents_the_routes(client: Any) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    base = "/api/v1/territories/{slug}/projets"
    for path, method in [
        (base, "get"),
        (base, "post"),
        (f"{base}/{{project_id}}", "put"),
        (f"{base}/{{project_id}}/besoins", "post"),
        (f"{base}/{{project_id}}/besoins/{{need_id}}", "delete"),
        (f"{base}/{{project_id}}/historique", "get"),
    ]:
        responses = paths[path][method]["responses"]
        assert {"401", "403", "404"} <= set(responses), path
        assert responses["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Erreur"
