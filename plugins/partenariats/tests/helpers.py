"""A territory built through the same commands a person would use: the directory's API, then ours."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from core.application import Trame
from core.testing import User, make_user

API = "/api/v1/territories/{t}"


def territory(trame: Trame, slug: str = "testville", plugins: tuple[str, ...] = ("annuaire", "partenariats")) -> None:
    trame.territories.create(slug, f"Territoire {slug}", author="system")
    for p in plugins:
        trame.territories.enable(slug, p, author="system")


def coordinator(trame: Trame, slug: str = "testville") -> User:
    return make_user(trame, f"coordination.{slug}@exemple.fr", territory=slug, role="coordinator")


def structure(client: TestClient[Any], user: User, name: str, joined: str = "2009-01-05", slug: str = "testville", **more: Any) -> str:
    body = {"name": name, "effective": joined, **more}
    r = client.post(API.format(t=slug) + "/structures", json=body, headers=user.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def rename(client: TestClient[Any], user: User, structure_id: str, name: str, effective: str, slug: str = "testville") -> None:
    url = API.format(t=slug) + f"/structures/{structure_id}"
    etag = client.get(url, headers=user.headers).headers["etag"]
    r = client.patch(url, json={"name": name, "effective": effective}, headers={**user.headers, "If-Match": etag})
    assert r.status_code == 200, r.text


def partnership(client: TestClient[Any], user: User, partners: list[tuple[str, str]], slug: str = "testville", **terms: Any) -> str:
    body = {
        "title": "Convention de test",
        "kind": "convention",
        "form": "impose",
        "starts_on": "2010-01-01",
        **terms,
        "partners": [{"structure_id": s, "role": r} for s, r in partners],
    }
    r = client.post(API.format(t=slug) + "/partenariats/partnerships", json=body, headers=user.headers)
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])
