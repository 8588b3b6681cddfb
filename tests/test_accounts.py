"""Accounts: argon2id, sessions, CSRF, throttled login, invitations, API tokens."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.testing import PASSWORD, User, csrf_of, login, make_user, post_form


def test_passwords_are_stored_as_argon2id(trame: Trame) -> None:
    make_user(trame, "lea@exemple.fr")
    account = trame.accounts.by_email("lea@exemple.fr")
    assert account is not None and account["password_hash"].startswith("$argon2id$")


def test_short_password_is_refused_with_a_clear_message(trame: Trame) -> None:
    with pytest.raises(ValueError, match="au moins 10 caractères"):
        trame.accounts.create("x@exemple.fr", "court")


def test_login_sets_an_httponly_samesite_session_and_rotates_it(trame: Trame, client: TestClient[Any]) -> None:
    make_user(trame, "lea@exemple.fr")
    page = client.get("/connexion")
    client.cookies.set("trame_session", "fixe-par-un-attaquant", domain="testserver.local", path="/")
    response = client.post(
        "/connexion", data={"email": "lea@exemple.fr", "password": PASSWORD, "_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    issued = response.cookies["trame_session"]
    assert issued != "fixe-par-un-attaquant"
    assert "lea@exemple.fr" in client.get("/").text


def test_secure_deployments_use_host_prefixed_secure_cookies(backend: str, tmp_path: Any) -> None:
    from core.settings import Settings
    from core.testing import make_database
    from core.web.app import create_app

    trame = Trame(Settings(database_url="unused://", secure_cookies=True), db=make_database(backend, tmp_path))
    try:
        make_user(trame, "lea@exemple.fr")
        with TestClient(create_app(trame), base_url="https://testserver.local") as client:
            page = client.get("/connexion")
            assert "__Host-csrftoken" in page.headers["set-cookie"] and "Secure" in page.headers["set-cookie"]
            response = client.post(
                "/connexion",
                data={"email": "lea@exemple.fr", "password": PASSWORD, "_csrf_token": csrf_of(page.text)},
                follow_redirects=False,
            )
            assert response.headers["set-cookie"].startswith("__Host-trame_session=")
            assert "Secure" in response.headers["set-cookie"]
    finally:
        trame.close()


def test_form_without_csrf_token_is_refused(trame: Trame, client: TestClient[Any]) -> None:
    make_user(trame, "lea@exemple.fr")
    client.get("/connexion")
    response = client.post("/connexion", data={"email": "lea@exemple.fr", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/").text.count("lea@exemple.fr") == 0


def test_login_is_rate_limited_even_with_the_right_password(trame: Trame, client: TestClient[Any]) -> None:
    make_user(trame, "lea@exemple.fr")
    for _ in range(5):
        page = client.get("/connexion")
        bad = client.post(
            "/connexion", data={"email": "lea@exemple.fr", "password": "mauvais-mot-de-passe", "_csrf_token": csrf_of(page.text)}
        )
        assert bad.status_code == 400 and "incorrect" in bad.text
    page = client.get("/connexion")
    blocked = client.post("/connexion", data={"email": "lea@exemple.fr", "password": PASSWORD, "_csrf_token": csrf_of(page.text)})
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text


def test_logout_ends_the_session(trame: Trame, client: TestClient[Any]) -> None:
    make_user(trame, "lea@exemple.fr")
    login(client, "lea@exemple.fr")
    response = post_form(client, "/", "/deconnexion", {})
    assert response.status_code == 303
    assert "Se connecter" in client.get("/").text


def test_invitation_link_is_single_use_and_grants_the_role(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("joigny", "Joigny", author="system")
    response = client.post(
        "/api/v1/territories/joigny/members", json={"email": "nouvelle@exemple.fr", "role": "member"}, headers=admin.headers
    )
    assert response.status_code == 201 and response.json()["granted"] is False
    path = response.json()["invitation_url"].split("8000", 1)[1]
    accepted = post_form(client, path, path, {"email": "nouvelle@exemple.fr", "password": "un-long-mot-de-passe"})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/t/joigny/"
    account = trame.accounts.by_email("nouvelle@exemple.fr")
    assert account is not None
    assert trame.accounts.role_in(account["account_id"], "joigny") == ("member", None)
    assert client.get(path).status_code == 404  # used: gone


def test_expired_invitation_is_refused(trame: Trame) -> None:
    trame.territories.create("joigny", "Joigny", author="system")
    invitation_id, token = trame.accounts.invite("joigny", "member", author="system")
    with trame.db.write() as cur:  # time travel for the test only
        cur.execute("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE invitation_id = ?", (invitation_id,))
    with pytest.raises(ValueError, match="expiré"):
        trame.accounts.accept_invitation(token, "tard@exemple.fr", "un-long-mot-de-passe")


def test_api_token_authenticates_and_a_wrong_one_does_not(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author="system")
    assert client.get("/api/v1/territories/agen", headers=admin.headers).status_code == 200
    assert client.get("/api/v1/territories/agen", headers={"Authorization": "Bearer trm_faux"}).status_code == 401


def test_events_are_authored_by_the_signed_in_account(trame: Trame, client: TestClient[Any], admin: User) -> None:
    client.post("/api/v1/territories", json={"slug": "agen", "name": "Agen"}, headers=admin.headers)
    client.put("/api/v1/territories/agen/plugins/annuaire", headers=admin.headers)
    with trame.db.read() as cur:
        authors = {r["author"] for r in cur.execute("SELECT author FROM journal WHERE territory = 'agen'").fetchall()}
    assert authors == {admin.account_id}


def test_erased_account_cannot_sign_in_and_its_email_is_gone(trame: Trame, client: TestClient[Any]) -> None:
    user = make_user(trame, "partie@exemple.fr")
    trame.accounts.erase(user.account_id, author="system")
    assert trame.accounts.authenticate("partie@exemple.fr", PASSWORD) is None
    assert trame.accounts.by_token(user.token) is None
    with trame.db.read() as cur:
        assert cur.scalar("SELECT email FROM accounts WHERE account_id = ?", (user.account_id,)) is None
