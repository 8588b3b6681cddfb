"""Accounts: argon2id, sessions, CSRF, throttled login, invitations, API tokens."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from core.accounts import AccountCreated, PasswordSet, email_digest
from core.application import Trame
from core.refusals import Refused
from core.settings import Settings
from core.store import Context, Write
from core.testing import PASSWORD, User, csrf_of, login, make_database, make_user, post_form


def test_passwords_are_stored_as_argon2id(trame: Trame) -> None:
    make_user(trame, "lea@exemple.fr")
    account = trame.accounts.by_email("lea@exemple.fr")
    assert account is not None and account["password_hash"].startswith("$argon2id$")


def test_short_password_is_refused_with_a_clear_message(trame: Trame) -> None:
    with pytest.raises(Refused, match="au moins 10 caractères"):
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
    with pytest.raises(Refused, match="expiré"):
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


# -- random account ids, e-mails found by their digest (issue 15 §4) ---------------------------
OLD_NAMESPACE_ID = "trame:account:{}"  # how ids were made before: uuid5 of the e-mail


def _old_id(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, OLD_NAMESPACE_ID.format(email)))


def _log_strings(trame: Trame) -> set[str]:
    """Every stream id and author in the log, as stored."""
    out: set[str] = set()
    for _position, stream_id, _version, _topic, state in trame.store.raw(0, 100_000):
        out.add(str(stream_id))
        out.add(msgspec.json.decode(state)[1])  # the envelope's author
    return out


def test_an_erased_account_leaves_nothing_that_confirms_its_address(trame: Trame) -> None:
    user = make_user(trame, "partie@exemple.fr")
    assert uuid.UUID(user.account_id).version == 4
    key = trame.accounts._key()
    trame.accounts.erase(user.account_id, author=user.account_id)
    logged = _log_strings(trame)
    assert user.account_id in logged and _old_id("partie@exemple.fr") not in logged
    assert trame.accounts.by_email("partie@exemple.fr") is None
    with trame.db.read() as cur:
        found = cur.scalar("SELECT COUNT(*) FROM accounts WHERE email_digest = ?", (email_digest(key, "partie@exemple.fr"),))
        digests = [r[0] for r in cur.rows("SELECT email_digest FROM accounts")]
    assert found == 0 and digests == [None]
    trame.runner.rebuild(["accounts"])  # nor does a rebuild bring it back
    assert trame.accounts.by_email("partie@exemple.fr") is None


def test_an_erased_address_can_sign_up_again_as_a_new_account(trame: Trame) -> None:
    first = make_user(trame, "partie@exemple.fr")
    trame.accounts.erase(first.account_id, author="system")
    again = trame.accounts.create("partie@exemple.fr", "un-autre-long-mot-de-passe")
    assert again != first.account_id
    assert trame.accounts.authenticate("Partie@Exemple.fr ", "un-autre-long-mot-de-passe") == again
    assert trame.accounts.authenticate("partie@exemple.fr", PASSWORD) is None
    with pytest.raises(Refused, match="effacé"):
        trame.accounts.grant(first.account_id, "", "member", author="system")


def test_an_address_has_one_account_whatever_its_case(trame: Trame) -> None:
    make_user(trame, "lea@exemple.fr")
    with pytest.raises(Refused, match="existe déjà"):
        trame.accounts.create("LEA@exemple.fr", "un-long-mot-de-passe")
    assert trame.accounts.authenticate("Lea@Exemple.FR", PASSWORD) is not None


def test_an_address_has_one_account_even_when_projections_run_elsewhere(backend: str, tmp_path: Path) -> None:
    lagging = Trame(Settings(database_url="unused://", secret_key="k", project_inline=False), db=make_database(backend, tmp_path))
    try:
        lagging.accounts.create("lea@exemple.fr", "un-long-mot-de-passe")
        with pytest.raises(Refused, match="existe déjà"):
            lagging.accounts.create("lea@exemple.fr", "un-autre-long-mot-de-passe")
        assert [name for _p, _s, _v, name, _st in lagging.store.raw(0, 100)].count("core.AccountCreated") == 1
    finally:
        if hasattr(lagging.db, "drop_schema"):
            lagging.db.drop_schema()
        lagging.close()


def test_two_simultaneous_sign_ups_of_one_address_make_one_account(trame: Trame) -> None:
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def sign_up(n: int) -> None:
        start.wait()
        try:
            outcomes.append(trame.accounts.create("lea@exemple.fr", f"mot-de-passe-numero-{n}"))
        except Refused as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = [o for o in outcomes if "existe déjà" not in o]
    assert len(created) == 1 and len(outcomes) == 4
    account = trame.accounts.by_email("lea@exemple.fr")
    assert account is not None and account["account_id"] == created[0]


def test_accounts_of_an_older_store_with_uuid5_ids_keep_working(trame: Trame) -> None:
    """A store written before random ids: its events are read as stored (nothing rewritten),
    the upgraded read model digests their e-mails, and they sign in, get roles, are erased."""
    old = _old_id("ancienne@exemple.fr")
    trame.territories.create("agen", "Agen", author="system")
    trame.execute(  # exactly what the former Accounts.create appended
        Context(author="system", territory=""),
        Write(
            uuid.UUID(old),
            0,
            [
                AccountCreated(account_id=old, email="ancienne@exemple.fr", display_name="Ancienne"),
                PasswordSet(account_id=old, password_hash=PasswordHasher().hash(PASSWORD)),
            ],
        ),
    )
    with trame.db.write() as cur:  # the read model as the previous version left it
        cur.execute("UPDATE projection_positions SET schema_version = 1 WHERE name = 'accounts'")
        cur.execute("UPDATE accounts SET email_digest = NULL")
    upgraded = Trame(trame.settings, db=trame.db)  # start-up after the upgrade: rebuilds it
    upgraded.runner.catch_up()
    assert upgraded.accounts.authenticate("Ancienne@exemple.fr", PASSWORD) == old
    upgraded.accounts.grant(old, "agen", "member", author="system")
    assert upgraded.accounts.role_in(old, "agen") == ("member", None)
    with pytest.raises(Refused, match="existe déjà"):
        upgraded.accounts.create("ancienne@exemple.fr", "un-long-mot-de-passe")
    upgraded.accounts.erase(old, author="system")
    assert upgraded.accounts.authenticate("ancienne@exemple.fr", PASSWORD) is None
    renewed = upgraded.accounts.create("ancienne@exemple.fr", "un-long-mot-de-passe")
    assert uuid.UUID(renewed).version == 4
    assert upgraded.accounts.authenticate("ancienne@exemple.fr", "un-long-mot-de-passe") == renewed
    assert [r.version for r in upgraded.store.stream(uuid.UUID(old))] == [1, 2, 3, 4]  # created, password, role, erased
