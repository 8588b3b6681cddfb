"""The web shell: French and accessible pages, friendly errors, security headers, OpenAPI, health."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from core.application import Trame
from core.testing import User, login, make_user
from tests.events_for_tests import NoteWritten


def test_pages_are_french_with_a_skip_link_and_landmarks(trame: Trame, client: TestClient[Any]) -> None:
    page = client.get("/connexion").text
    assert '<html lang="fr">' in page
    assert 'href="#contenu"' in page and '<main id="contenu"' in page
    assert '<label for="email">' in page and '<label for="password">' in page
    icon = client.get("/static/favicon.svg")  # linked from every page: no 404 in the browser's console
    assert 'rel="icon" href="/static/favicon.svg"' in page and icon.status_code == 200 and "<svg" in icon.text


def test_security_headers_on_pages_api_and_errors(client: TestClient[Any]) -> None:
    for path in ("/connexion", "/health", "/nulle-part", "/api/v1/territories/x"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_unknown_page_is_a_friendly_french_404(client: TestClient[Any]) -> None:
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text and "Revenir à l'accueil" in response.text


def test_api_errors_are_json_with_a_detail(trame: Trame, client: TestClient[Any], admin: User) -> None:
    response = client.post("/api/v1/territories", json={"slug": "Pas Bon", "name": ""}, headers=admin.headers)
    assert response.status_code == 400
    assert "slug" in response.json()["detail"]
    client.post("/api/v1/territories", json={"slug": "agen", "name": "Agen"}, headers=admin.headers)
    again = client.post("/api/v1/territories", json={"slug": "agen", "name": "Agen bis"}, headers=admin.headers)
    assert again.status_code == 400 and "existe déjà" in again.json()["detail"]


def test_conflict_page_explains_what_happened(trame: Trame, client: TestClient[Any]) -> None:
    from core.store import Conflict

    # any Conflict escaping a handler becomes a 409 page a person understands
    from core.web.errors import handle

    class FakeRequest:
        method = "PATCH"

        def __init__(self) -> None:
            self.url = type("U", (), {"path": "/api/v1/x", "query": ""})()
            self.scope = {"path": "/api/v1/x"}

    response = handle(FakeRequest(), Conflict(uuid.uuid4(), 3))  # type: ignore[arg-type]
    assert response.status_code == 409
    assert "modifiée par quelqu'un d'autre" in response.content["detail"]


def test_unexpected_error_is_a_500_page_without_internals(trame: Trame, client: TestClient[Any], monkeypatch: Any) -> None:
    make_user(trame, "lea@exemple.fr")
    login(client, "lea@exemple.fr")
    monkeypatch.setattr(trame.accounts, "territories_of", lambda _: 1 / 0)
    response = client.get("/")
    assert response.status_code == 500
    assert "erreur inattendue" in response.text and "ZeroDivisionError" not in response.text


def test_openapi_documents_the_core_api(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/territories",
        "/api/v1/territories/{slug}",
        "/api/v1/territories/{slug}/plugins",
        "/api/v1/territories/{slug}/plugins/{plugin}",
        "/api/v1/territories/{slug}/members",
    ):
        assert path in paths, path


def test_health_reports_projection_lag(trame: Trame, client: TestClient[Any]) -> None:
    from core.store import Context, Write

    trame.store.append(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body="pas encore projetée")]))
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["projections_behind"]["essai.notes"] == 1
    trame.runner.catch_up()
    assert client.get("/health").json()["projections_behind"]["essai.notes"] == 0


def test_coordinator_switches_modules_from_the_page_without_javascript(trame: Trame, client: TestClient[Any]) -> None:
    from core.testing import post_form

    trame.territories.create("agen", "Agen", author="system")
    make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator")
    login(client, "coord@exemple.fr")
    response = post_form(client, "/t/agen/modules", "/t/agen/modules/annuaire", {"action": "activer"})
    assert response.status_code == 303
    assert trame.territories.is_enabled("agen", "annuaire")
    assert 'href="/t/agen/annuaire/"' in client.get("/t/agen/").text


def test_signed_in_member_reaches_their_territory_from_home_and_errors_keep_the_header(trame: Trame, client: TestClient[Any]) -> None:
    trame.territories.create("agen", "Agen", author="system")
    make_user(trame, "membre@exemple.fr", territory="agen", role="member")
    login(client, "membre@exemple.fr")
    home = client.get("/").text
    assert 'href="/t/agen/"' in home
    assert client.get("/t/agen/").status_code == 200
    missing = client.get("/nulle-part").text
    assert "membre@exemple.fr" in missing and "Se déconnecter" in missing


def test_french_alphabetical_order_puts_accented_letters_among_their_letter() -> None:
    from core.text import collation_key

    names = ["Veille sociale", "Épicerie solidaire", "Emmaüs", "Cœur de ville", "CCAS", "espace emploi"]
    assert sorted(names, key=collation_key) == ["CCAS", "Cœur de ville", "Emmaüs", "Épicerie solidaire", "espace emploi", "Veille sociale"]


def test_a_refused_module_change_redirects_and_says_why_once(trame: Trame, client: TestClient[Any]) -> None:
    """Post/redirect/get: a refresh after a refused change asks nothing again; the reason shows once."""
    from core.testing import post_form

    trame.territories.create("agen", "Agen", author="system")
    make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator")
    login(client, "coord@exemple.fr")
    needy = next(i for i in trame.catalog.optional() if i.needs)
    response = post_form(client, "/t/agen/modules", f"/t/agen/modules/{needy.name}", {"action": "activer"})
    assert response.status_code == 303 and response.headers["location"].startswith("/t/agen/modules?refus=")
    shown = client.get(response.headers["location"])
    assert shown.status_code == 200 and 'role="alert"' in shown.text
    assert 'role="alert"' not in client.get(response.headers["location"]).text  # once
    assert not trame.territories.is_enabled("agen", needy.name)


def test_the_journal_says_who_did_what_to_what_and_why_in_french(trame: Trame, client: TestClient[Any]) -> None:
    from core.testing import post_form

    trame.territories.create("agen", "Agen", author="system")
    make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator")
    login(client, "coord@exemple.fr")
    post_form(client, "/t/agen/modules", "/t/agen/modules/annuaire", {"action": "activer", "reason": "Annuaire partagé demandé en réunion"})
    page = client.get("/t/agen/journal").text
    line = page.split("<tbody>")[1].split("</tr>")[0]
    title = trame.catalog.info["annuaire"].title
    assert "Module activé" in line and f"module « {title} »" in line and 'href="/t/agen/modules"' in line
    assert "coord@exemple.fr" in line and "Annuaire partagé demandé en réunion" in line
    assert "core.PluginEnabled" not in page and "lien:" not in page
