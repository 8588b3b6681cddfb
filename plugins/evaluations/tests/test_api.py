"""The questionnaires' JSON API: the coordination drafts, sends and closes; a structure answers
with its own link and no account; members read the results; roles checked on every route, 404
where the module is off or the id belongs to another territory; documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import User, make_user
from plugins.evaluations.tests import helpers
from plugins.evaluations.tests.helpers import T

API = f"/api/v1/territories/{T}/evaluations"


@pytest.fixture
def ids(trame: Trame) -> dict[str, str]:
    return helpers.territory(trame)


@pytest.fixture
def coordinator(trame: Trame, ids: dict[str, str]) -> User:
    return make_user(trame, "coordination@valfleuri.example", territory=T, role="coordinator")


@pytest.fixture
def member(trame: Trame, ids: dict[str, str]) -> User:
    return make_user(trame, "membre@valfleuri.example", territory=T, role="member")


def _sent(client: Any, coordinator: User) -> tuple[str, dict[str, str]]:
    """A questionnaire drafted and sent to the whole directory: its id and each structure's link token."""
    drafted = client.post(f"{API}/", json={"title": "Bilan 2012", "year": 2012}, headers=coordinator.headers)
    assert drafted.status_code == 201, drafted.text
    qid = drafted.json()["id"]
    sent = client.post(
        f"{API}/{qid}/envoi", json={"list_key": "annuaire.territoire", "closes_on": "31/12/2099"}, headers=coordinator.headers
    )
    assert sent.status_code == 200, sent.text
    return qid, {i["structure_id"]: i["link"].rsplit("/", 1)[1] for i in sent.json()["to_copy"]}


def test_the_coordination_drafts_amends_then_sends_and_gets_each_structures_link(
    client: Any, ids: dict[str, str], coordinator: User
) -> None:
    drafted = client.post(f"{API}/", json={"year": 2012}, headers=coordinator.headers)
    assert drafted.status_code == 201, drafted.text
    q = drafted.json()
    assert q["status"] == "draft" and [x["key"] for x in q["questions"]][:2] == ["fonctionne", "freins"] and len(q["questions"]) == 10
    amended = client.put(
        f"{API}/{q['id']}",
        json={
            "title": "Bilan du groupe",
            "year": 2012,
            "questions": [{"label": "Ce qui fonctionne"}, {"label": "Intérêt", "kind": "scale"}],
        },
        headers=coordinator.headers,
    )
    assert amended.status_code == 200 and [x["kind"] for x in amended.json()["questions"]] == ["text", "scale"]
    lists = client.get(f"{API}/listes", headers=coordinator.headers).json()
    assert "annuaire.territoire" in {ml["key"] for ml in lists}
    past = client.post(
        f"{API}/{q['id']}/envoi", json={"list_key": "annuaire.territoire", "closes_on": "2001-01-01"}, headers=coordinator.headers
    )
    assert past.status_code == 400 and "passée" in past.json()["detail"]
    sent = client.post(
        f"{API}/{q['id']}/envoi", json={"list_key": "annuaire.territoire", "closes_on": "2099-12-31"}, headers=coordinator.headers
    )
    assert sent.status_code == 200 and sent.json()["newly_invited"] == 3 and sent.json()["mailing_id"] is None
    assert {i["structure_id"] for i in sent.json()["to_copy"]} == set(ids.values())  # without SMTP: the links to pass on
    again = client.put(
        f"{API}/{q['id']}", json={"title": "Autre", "year": 2012, "questions": [{"label": "x"}]}, headers=coordinator.headers
    )
    assert again.status_code == 409 and "déjà envoyé" in again.json()["detail"]
    listed = client.get(f"{API}/{q['id']}/invitations", headers=coordinator.headers).json()
    assert len(listed) == 3 and all(i["link"].startswith("http") and i["answered_at"] is None for i in listed)


def test_a_structure_answers_with_its_link_without_an_account_until_the_questionnaire_closes(
    client: Any, ids: dict[str, str], coordinator: User, member: User
) -> None:
    qid, links = _sent(client, coordinator)
    url = f"{API}/reponse/{links[ids['ccas']]}"
    form = client.get(url)  # no Authorization header
    assert form.status_code == 200 and form.json()["structure_name"] == "CCAS du Val-Fleuri" and form.json()["answers"] == []
    body = {"answers": [{"key": "fonctionne", "text": "On se connaît mieux."}, {"key": "note_interet", "score": 4}]}
    answered = client.put(url, json=body)
    assert answered.status_code == 200, answered.text
    assert {a["key"]: a["text"] or a["score"] for a in answered.json()["answers"]} == {
        "fonctionne": "On se connaît mieux.",
        "note_interet": 4,
    }
    replaced = client.put(url, json={"answers": [{"key": "note_interet", "score": 5}]})
    assert [a["score"] for a in replaced.json()["answers"]] == [5]  # the whole answer is replaced
    assert client.put(url, json={"answers": [{"key": "note_interet", "score": 9}]}).status_code == 400
    results = client.get(f"{API}/{qid}/resultats", headers=member.headers)
    assert results.status_code == 200
    r = results.json()
    assert (r["invited"], r["answered"]) == (3, 1) and round(r["rate"], 2) == 0.33
    (interest,) = [s for s in r["scales"] if s["key"] == "note_interet"]
    assert interest["counts"]["5"] == 1 and interest["mean"] == 5.0
    year = client.get(f"{API}/annee/2012", headers=member.headers).json()
    assert [x["questionnaire"]["id"] for x in year] == [qid]
    closed = client.post(f"{API}/{qid}/cloture", headers=coordinator.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = client.put(f"{API}/reponse/{links[ids['ml']]}", json={"answers": [{"key": "fonctionne", "text": "Trop tard."}]})
    assert late.status_code == 409 and "clos" in late.json()["detail"]
    assert client.post(f"{API}/{qid}/cloture", headers=coordinator.headers).status_code == 409
    assert client.get(f"{API}/reponse/inventé", headers={}).status_code == 404


def test_roles_are_checked_on_every_route(client: Any, ids: dict[str, str], coordinator: User, member: User) -> None:
    qid, _links = _sent(client, coordinator)
    assert client.get(f"{API}/", headers=member.headers).status_code == 200
    assert client.get(f"{API}/{qid}", headers=member.headers).status_code == 200
    for method, path, body in [
        ("post", f"{API}/", {"year": 2012}),
        ("put", f"{API}/{qid}", {"title": "x", "year": 2012, "questions": [{"label": "x"}]}),
        ("post", f"{API}/{qid}/envoi", {"list_key": "annuaire.territoire", "closes_on": "2099-12-31"}),
        ("post", f"{API}/{qid}/cloture", None),
        ("get", f"{API}/{qid}/invitations", None),
        ("get", f"{API}/listes", None),
    ]:
        refused = client.request(method, path, json=body, headers=member.headers)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "coordinateur" in refused.json()["detail"]
    assert client.get(f"{API}/").status_code == 401


def test_another_territorys_questionnaire_link_or_a_module_off_answer_404(
    trame: Trame, client: Any, ids: dict[str, str], coordinator: User
) -> None:
    qid, links = _sent(client, coordinator)
    helpers.territory(trame, "autreville")
    other = make_user(trame, "coordination@autreville.example", territory="autreville", role="coordinator")
    elsewhere = "/api/v1/territories/autreville/evaluations"
    assert client.get(f"{elsewhere}/{qid}", headers=other.headers).status_code == 404
    closing = client.post(f"{elsewhere}/{qid}/cloture", headers=other.headers)
    assert closing.status_code == 404 and "n'existe pas" in closing.json()["detail"]
    assert client.get(f"{API}/{qid}", headers=coordinator.headers).json()["status"] == "sent"  # untouched
    token = next(iter(links.values()))
    assert client.put(f"{elsewhere}/reponse/{token}", json={"answers": [{"key": "fonctionne", "text": "x"}]}).status_code == 404
    trame.territories.disable(T, "evaluations", author=SYSTEM)
    off = client.get(f"{API}/", headers=coordinator.headers)
    assert off.status_code == 404 and "module non activé" in off.json()["detail"]
    assert client.get(f"{API}/reponse/{token}").status_code == 404  # the answer link too, without an account
    assert client.get(f"/t/{T}/evaluations/reponse/{token}").status_code == 404


def test_an_idempotency_key_drafts_once(client: Any, ids: dict[str, str], coordinator: User) -> None:
    headers = {**coordinator.headers, "Idempotency-Key": "brouillon-2012"}
    first = client.post(f"{API}/", json={"title": "Bilan 2012", "year": 2012}, headers=headers)
    second = client.post(f"{API}/", json={"title": "Bilan 2012", "year": 2012}, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert len(client.get(f"{API}/", headers=coordinator.headers).json()) == 1


def test_the_schema_documents_the_routes_with_their_french_errors(client: Any) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    base = "/api/v1/territories/{slug}/evaluations"
    for path, method in [
        (base, "get"),
        (base, "post"),
        (f"{base}/{{questionnaire_id}}", "put"),
        (f"{base}/{{questionnaire_id}}/envoi", "post"),
        (f"{base}/{{questionnaire_id}}/resultats", "get"),
        (f"{base}/reponse/{{token}}", "put"),
    ]:
        responses = paths[path][method]["responses"]
        assert responses["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Erreur", path
    assert "401" not in paths[f"{base}/reponse/{{token}}"]["put"]["responses"]  # no account needed
