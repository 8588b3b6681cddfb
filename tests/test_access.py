"""Roles are checked on every core page and API route: allowed and refused, per role."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.testing import User, login, make_user

ROLES = ["admin", "coordinator", "referent", "member", "outsider"]

# (method, path, roles allowed); every other role is refused (403).
PAGES = [
    ("GET", "/t/agen/", {"admin", "coordinator", "referent", "member"}),
    ("GET", "/t/agen/modules", {"admin", "coordinator"}),
    ("GET", "/t/agen/membres", {"admin", "coordinator"}),
    ("GET", "/t/agen/journal", {"admin", "coordinator"}),
    ("GET", "/admin/territoires", {"admin"}),
]
API = [
    ("GET", "/api/v1/territories/agen", {"admin", "coordinator", "referent", "member"}),
    ("GET", "/api/v1/territories/agen/plugins", {"admin", "coordinator", "referent", "member"}),
    ("PUT", "/api/v1/territories/agen/plugins/annuaire", {"admin", "coordinator"}),
    ("DELETE", "/api/v1/territories/agen/plugins/annuaire", {"admin", "coordinator"}),
    ("POST", "/api/v1/territories/agen/members", {"admin", "coordinator"}),
    ("POST", "/api/v1/territories", {"admin"}),
]


@pytest.fixture
def people(trame: Trame) -> dict[str, User]:
    trame.territories.create("agen", "Agen", author="system")
    trame.territories.create("fumel", "Fumel", author="system")
    structure = _structure(trame, "agen")
    return {
        "admin": make_user(trame, "admin@exemple.fr", admin=True),
        "coordinator": make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator"),
        "referent": make_user(trame, "ref@exemple.fr", territory="agen", role="referent", structure_id=structure),
        "member": make_user(trame, "membre@exemple.fr", territory="agen", role="member"),
        # coordinator elsewhere: no standing in Agen
        "outsider": make_user(trame, "fumel@exemple.fr", territory="fumel", role="coordinator"),
    }


def _structure(trame: Trame, territory: str) -> str:
    """A structure of the territory's directory (a referent is attached to one)."""
    from plugins.annuaire.schemas import StructureIn
    from plugins.annuaire.service import directory

    trame.territories.enable(territory, "annuaire", author="system")
    structure_id, _ = directory(trame).create_structure(territory, StructureIn(name="CCAS", effective="2020-01-01"), "system")
    return structure_id


@pytest.mark.parametrize("role", ROLES)
def test_api_routes_allow_and_refuse_by_role(trame: Trame, client: TestClient[Any], people: dict[str, User], role: str) -> None:
    bodies = {
        "/api/v1/territories/agen/members": {"email": "invite@exemple.fr", "role": "member"},
        "/api/v1/territories": {"slug": f"t-{role}", "name": "Nouveau"},
    }
    for method, path, allowed in API:
        response = client.request(method, path, headers=people[role].headers, json=bodies.get(path))
        if role in allowed:
            assert response.status_code in (200, 201), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert response.json()["detail"]
        anonymous = client.request(method, path, json=bodies.get(path))
        assert anonymous.status_code == 401 and "Authorization: Bearer" in anonymous.json()["detail"]
        revoked = client.request(method, path, json=bodies.get(path), headers={"Authorization": "Bearer pas-un-jeton"})
        assert revoked.status_code == 401 and "Jeton d'API inconnu" in revoked.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_pages_allow_and_refuse_by_role(trame: Trame, client: TestClient[Any], people: dict[str, User], role: str) -> None:
    for _method, path, _allowed in PAGES:
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/connexion?suite=")
    login(client, people[role].email)
    for _method, path, allowed in PAGES:
        response = client.get(path)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, path)
        if expected == 403:
            assert "Accès refusé" in response.text


def test_territories_are_isolated(trame: Trame, client: TestClient[Any], people: dict[str, User]) -> None:
    coordinator = people["coordinator"]
    client.put("/api/v1/territories/agen/plugins/annuaire?reason=secret-agen", headers=coordinator.headers)
    fumel = people["outsider"]
    assert client.get("/api/v1/territories/agen", headers=fumel.headers).status_code == 403
    login(client, fumel.email)
    journal = client.get("/t/fumel/journal").text
    assert "secret-agen" not in journal and "PluginEnabled" not in journal
    assert client.get("/t/agen/journal").status_code == 403
    assert "Agen" not in client.get("/").text
