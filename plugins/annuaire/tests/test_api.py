"""The directory's JSON API: paths, roles, ETag/If-Match, dates, isolation, the plugin switch."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from core.application import Trame
from core.store import SYSTEM
from core.testing import User, make_user
from plugins.annuaire.tests.conftest import Employment, open_territory

API = "/api/v1/territories"


def _create(client: TestClient[Any], user: User, slug: str, **body: Any) -> str:
    response = client.post(f"{API}/{slug}/structures", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    return str(response.json()["id"])


def test_who_was_the_pole_emploi_contact_in_2010_through_the_api(
    client: TestClient[Any], trame: Trame, agen: str, employment: Employment
) -> None:
    member = make_user(trame, "membre@agen.example", territory=agen, role="member")
    found = client.get(f"{API}/{agen}/structures", params={"q": "Pôle emploi", "as_of": "2010-06-01"}, headers=member.headers).json()
    assert found["total"] == 1 and found["items"][0]["name"] == "Pôle emploi – agence d'Agen"
    sid = found["items"][0]["id"]
    contacts = client.get(f"{API}/{agen}/structures/{sid}/contacts", params={"as_of": "2010-06-01"}, headers=member.headers).json()
    assert [(c["person"]["name"], c["role"], c["role_label"], c["since"], c["until"]) for c in contacts["items"]] == [
        ("Laëtitia Faure", "referent", "Référent·e", "2009-09-15", "2012-07-01")
    ]
    sheet = client.get(f"{API}/{agen}/structures/{sid}", params={"as_of": "2010-06-01T12:00:00+02:00"}, headers=member.headers)
    assert sheet.status_code == 200 and sheet.json()["name"] == "Pôle emploi – agence d'Agen"
    assert client.get(f"{API}/{agen}/structures/{sid}", params={"as_of": "2007-01-01"}, headers=member.headers).status_code == 404
    history = client.get(f"{API}/{agen}/structures/{sid}/history", headers=member.headers).json()["items"]
    assert "Changement de nom" in [h["label"] for h in history]


def test_patch_with_stale_if_match_is_409_and_changes_nothing(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "meaux")
    sid = _create(client, admin, slug, name="Mission locale de Meaux", phone="01 00")
    url = f"{API}/{slug}/structures/{sid}"
    etag = client.get(url, headers=admin.headers).headers["etag"]
    assert etag == '"1"'
    assert client.patch(url, json={"phone": "01 11"}, headers=admin.headers).status_code == 428
    ok = client.patch(url, json={"phone": "01 11", "reason": "nouveau standard"}, headers={**admin.headers, "If-Match": etag})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url, json={"phone": "01 22"}, headers={**admin.headers, "If-Match": etag})
    assert stale.status_code == 409 and "modifiée par quelqu'un d'autre" in stale.json()["detail"]
    now = client.get(url, headers=admin.headers)
    assert now.json()["phone"] == "01 11" and now.headers["etag"] == '"2"'


def test_referent_cannot_edit_other_structure_and_can_edit_own(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "meaux")
    own = _create(client, admin, slug, name="CCAS de Meaux")
    other = _create(client, admin, slug, name="CAF de Seine-et-Marne")
    referent = make_user(trame, "referente@ccas-meaux.example", territory=slug, role="referent", structure_id=own)
    headers = {**referent.headers, "If-Match": '"1"'}
    refused = client.patch(f"{API}/{slug}/structures/{other}", json={"phone": "01"}, headers=headers)
    assert refused.status_code == 403 and "sa propre structure" in refused.json()["detail"]
    assert client.patch(f"{API}/{slug}/structures/{own}", json={"phone": "01"}, headers=headers).status_code == 200
    person = client.post(f"{API}/{slug}/people", json={"name": "Aline Martin"}, headers=referent.headers).json()["id"]
    contact = {"person_id": person, "role": "referent", "since": "2012-01-05"}
    assert client.post(f"{API}/{slug}/structures/{other}/contacts", json=contact, headers=referent.headers).status_code == 403
    started = client.post(f"{API}/{slug}/structures/{own}/contacts", json=contact, headers=referent.headers)
    assert started.status_code == 201
    cid = started.json()["id"]
    # Her details: hers to edit while she holds a role at the referent's structure, never those of others.
    patched = client.patch(f"{API}/{slug}/people/{person}", json={"email": "aline.martin@ccas-meaux.example"}, headers=referent.headers)
    assert patched.status_code == 200
    stranger = client.post(f"{API}/{slug}/people", json={"name": "Bruno Caf"}, headers=admin.headers).json()["id"]
    client.post(f"{API}/{slug}/structures/{other}/contacts", json={"person_id": stranger, "role": "referent"}, headers=admin.headers)
    refused_person = client.patch(f"{API}/{slug}/people/{stranger}", json={"phone": "01"}, headers=referent.headers)
    assert refused_person.status_code == 403 and "sa propre structure" in refused_person.json()["detail"]
    assert client.get(f"{API}/{slug}/people/{stranger}", headers=referent.headers).json()["phone"] is None
    ended = client.post(f"{API}/{slug}/structures/{own}/contacts/{cid}/end", json={"until": "2013-01-01"}, headers=referent.headers)
    assert ended.status_code == 201
    assert client.patch(f"{API}/{slug}/people/{person}", json={"phone": "01"}, headers=referent.headers).status_code == 403  # role ended
    corrected = client.patch(f"{API}/{slug}/structures/{own}/contacts/{cid}", json={"until": "2012-09-01"}, headers=referent.headers)
    assert corrected.status_code == 200
    items = client.get(f"{API}/{slug}/structures/{own}/contacts", params={"as_of": "2012-06-01"}, headers=referent.headers).json()
    assert [c["until"] for c in items["items"]] == ["2012-09-01"]
    # Leaving and merging are for coordinators.
    leave = client.post(f"{API}/{slug}/structures/{own}/leave", json={"effective": "2020-01-01"}, headers=referent.headers)
    assert leave.status_code == 403


def test_member_cannot_write(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "meaux")
    sid = _create(client, admin, slug, name="CCAS de Meaux")
    member = make_user(trame, "membre@meaux.example", territory=slug, role="member")
    h = member.headers
    assert client.post(f"{API}/{slug}/structures", json={"name": "X"}, headers=h).status_code == 403
    assert client.patch(f"{API}/{slug}/structures/{sid}", json={"phone": "1"}, headers={**h, "If-Match": '"1"'}).status_code == 403
    assert client.post(f"{API}/{slug}/people", json={"name": "Y"}, headers=h).status_code == 403
    assert client.get(f"{API}/{slug}/audit", headers=h).status_code == 403
    assert client.get(f"{API}/{slug}/structures/{sid}", headers=h).status_code == 200


def test_bad_as_of_is_400_naming_the_parameter(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "meaux")
    sid = _create(client, admin, slug, name="CCAS de Meaux")
    for path in ("structures", f"structures/{sid}", f"structures/{sid}/contacts"):
        response = client.get(f"{API}/{slug}/{path}", params={"as_of": "2010-13-01"}, headers=admin.headers)
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Paramètre as_of : « 2010-13-01 » n'est pas une date valide")
    response = client.get(f"{API}/{slug}/structures", params={"known_at": "hier"}, headers=admin.headers)
    assert response.status_code == 400 and "known_at" in response.json()["detail"]
    bad_effective = client.post(f"{API}/{slug}/structures", json={"name": "X", "effective": "2010-02-30"}, headers=admin.headers)
    assert bad_effective.status_code == 400 and "effective" in bad_effective.json()["detail"]
    unknown_field = client.post(f"{API}/{slug}/structures", json={"name": "X", "colour": "bleu"}, headers=admin.headers)
    assert unknown_field.status_code == 400


def test_territory_isolation(client: TestClient[Any], trame: Trame, admin: User) -> None:
    a, b = open_territory(trame, "meaux"), open_territory(trame, "joigny")
    sid = _create(client, admin, a, name="Maison départementale des solidarités de Meaux", acronym="MDS")
    person = client.post(f"{API}/{a}/people", json={"name": "Nadège Berthier"}, headers=admin.headers).json()["id"]
    coordinator_b = make_user(trame, "coordination@joigny.example", territory=b, role="coordinator")
    h = coordinator_b.headers
    assert client.get(f"{API}/{b}/structures/{sid}", headers=h).status_code == 404
    assert client.get(f"{API}/{b}/structures/{sid}/history", headers=h).status_code == 404
    assert client.get(f"{API}/{b}/structures/{sid}/contacts", headers=h).status_code == 404
    assert client.patch(f"{API}/{b}/structures/{sid}", json={"phone": "1"}, headers={**h, "If-Match": '"1"'}).status_code == 404
    assert client.post(f"{API}/{b}/structures/{sid}/leave", json={"effective": "2020-01-01"}, headers=h).status_code == 404
    assert client.get(f"{API}/{b}/people/{person}", headers=h).status_code == 404
    assert client.delete(f"{API}/{b}/people/{person}", headers=h).status_code == 404
    assert client.get(f"{API}/{b}/structures", params={"q": "mds"}, headers=h).json() == {"items": [], "total": 0}
    assert client.get(f"{API}/{b}/audit", headers=h).json() == {"items": []}
    # ...and B's coordinator cannot read A at all.
    assert client.get(f"{API}/{a}/structures/{sid}", headers=h).status_code == 403


def test_plugin_off_answers_404(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "meaux")
    sid = _create(client, admin, slug, name="CCAS de Meaux")
    trame.territories.disable(slug, "annuaire", author=SYSTEM)
    assert client.get(f"{API}/{slug}/structures", headers=admin.headers).status_code == 404
    assert client.get(f"{API}/{slug}/structures/{sid}", headers=admin.headers).status_code == 404
    assert client.post(f"{API}/{slug}/structures", json={"name": "X"}, headers=admin.headers).status_code == 404


def test_merge_leave_audit_and_erasure_through_the_api(client: TestClient[Any], trame: Trame, admin: User) -> None:
    slug = open_territory(trame, "agen")
    coordinator = make_user(trame, "coordination@agen.example", territory=slug, role="coordinator")
    h = coordinator.headers
    anpe = _create(client, coordinator, slug, name="ANPE d'Agen", effective="2007-10-05")
    assedic = _create(client, coordinator, slug, name="Assédic d'Agen", effective="2007-10-05")
    merged = client.post(f"{API}/{slug}/structures/{assedic}/merge", json={"into": anpe, "effective": "2008-12-19"}, headers=h)
    assert merged.status_code == 201
    assert client.get(f"{API}/{slug}/structures/{anpe}", headers=h).headers["etag"] == '"2"'
    assert client.get(f"{API}/{slug}/structures/{assedic}", params={"as_of": "2009-01-01"}, headers=h).status_code == 404
    left = client.post(f"{API}/{slug}/structures/{anpe}/leave", json={"effective": "2013-06-28", "reason": "Plus disponible"}, headers=h)
    assert left.status_code == 201
    assert client.get(f"{API}/{slug}/structures", params={"as_of": "2014-01-01"}, headers=h).json()["total"] == 0
    audit = client.get(f"{API}/{slug}/audit", params={"actor": "coordination@agen.example", "structure": anpe}, headers=h).json()
    assert [e["label"] for e in audit["items"]] == ["Départ du réseau", "Absorbe une structure", "Entrée dans le réseau"]
    assert client.get(f"{API}/{slug}/audit", params={"since": "2999-01-01"}, headers=h).json() == {"items": []}
    assert client.get(f"{API}/{slug}/audit", params={"until": "1er mai"}, headers=h).status_code == 400
    person = client.post(f"{API}/{slug}/people", json={"name": "Éric Lacoste", "email": "eric@assedic.example"}, headers=h).json()["id"]
    assert client.get(f"{API}/{slug}/people/{person}", headers=h).json()["email"] == "eric@assedic.example"
    assert client.patch(f"{API}/{slug}/people/{person}", json={"phone": "05"}, headers=h).status_code == 200
    erased = client.delete(f"{API}/{slug}/people/{person}", headers=h)
    assert erased.status_code == 200 and erased.json()["erased"] and erased.json()["name"] is None


def test_openapi_lists_the_directory_paths(client: TestClient[Any]) -> None:
    spec = client.get("/schema/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith("/api/v1/territories/{slug}/")}
    for expected in (
        "structures",
        "structures/{structure_id}",
        "structures/{structure_id}/merge",
        "structures/{structure_id}/leave",
        "structures/{structure_id}/history",
        "people",
        "people/{person_id}",
        "structures/{structure_id}/contacts",
        "structures/{structure_id}/contacts/{contact_id}/end",
        "structures/{structure_id}/contacts/{contact_id}",
        "audit",
    ):
        assert f"/api/v1/territories/{{slug}}/{expected}" in paths
    assert "annuaire" in spec["paths"]["/api/v1/territories/{slug}/structures"]["get"]["tags"]
