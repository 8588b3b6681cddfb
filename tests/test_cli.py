"""The ``trame`` command line, run as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

from core.application import Trame
from core.settings import Settings
from core.testing import make_database, run_cli


def test_user_create_then_token_create_prints_only_the_token(trame: Trame) -> None:
    created = run_cli(trame, "user", "create", "coord@exemple.fr", "--password", "un-long-mot-de-passe", "--admin")
    assert created.returncode == 0, created.stderr
    token = run_cli(trame, "token", "create", "coord@exemple.fr")
    assert token.returncode == 0
    assert re.fullmatch(r"trm_[A-Za-z0-9_-]{40,}\n", token.stdout)
    assert trame.accounts.by_token(token.stdout.strip()) == trame.accounts.by_email("coord@exemple.fr")["account_id"]  # type: ignore[index]


def test_bad_input_gets_a_clear_error_and_exit_code(trame: Trame) -> None:
    result = run_cli(trame, "user", "create", "pas-un-email", "--password", "un-long-mot-de-passe")
    assert result.returncode == 1 and "adresse e-mail valide" in result.stderr
    assert run_cli(trame, "token", "create", "inconnu@exemple.fr").returncode == 1


def test_export_then_import_into_an_empty_store_gives_identical_projections(trame: Trame, tmp_path: Path, backend: str) -> None:
    trame.territories.create("joigny", "Joigny", author="system")
    trame.territories.enable("joigny", "annuaire", author="system", reason="charte 2010")
    account = trame.accounts.create("coord@exemple.fr", "un-long-mot-de-passe")
    trame.accounts.grant(account, "joigny", "coordinator", author="system")
    erased = trame.accounts.create("partie@exemple.fr", "un-long-mot-de-passe")
    trame.accounts.erase(erased, author="system")
    export = tmp_path / "journal.ndjson"
    assert run_cli(trame, "export", str(export)).returncode == 0
    assert b"partie@exemple.fr" not in export.read_bytes() and b"coord@exemple.fr" not in export.read_bytes()

    target_dir = tmp_path / "cible"
    target_dir.mkdir()
    target = Trame(Settings(database_url="unused://"), db=make_database(backend, target_dir))
    try:
        result = run_cli(target, "import", str(export))
        assert result.returncode == 0, result.stderr
        assert target.runner.snapshot() == trame.runner.snapshot(list(target.runner.projections))
        assert target.accounts.authenticate("coord@exemple.fr", "un-long-mot-de-passe") == account
        refused = run_cli(target, "import", str(export))
        assert refused.returncode == 1 and "base vide" in refused.stderr
    finally:
        if hasattr(target.db, "drop_schema"):
            target.db.drop_schema()
        target.close()


def test_import_reports_the_line_of_a_broken_file(trame: Trame, tmp_path: Path) -> None:
    broken = tmp_path / "casse.ndjson"
    broken.write_text('{"kind": "key", "subject_id": "a", "key": "b"}\n{pas du json\n')
    result = run_cli(trame, "import", str(broken))
    assert result.returncode == 1 and "ligne 2" in result.stderr


def test_rebuild_by_name(trame: Trame) -> None:
    trame.territories.create("agen", "Agen", author="system")
    assert run_cli(trame, "rebuild", "territories").returncode == 0
    assert trame.territories.get("agen") is not None
    unknown = run_cli(trame, "rebuild", "inconnue")
    assert unknown.returncode == 1 and "unknown projection" in unknown.stderr


def test_help_and_typos_do_not_create_a_store(tmp_path: Path) -> None:
    """Reading ``trame --help`` in a fresh folder leaves it empty: the store opens only for a command."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TRAME_DATABASE_URL"}
    for args in (["--help"], ["rebuild", "--help"], ["pas-une-commande"]):
        command = [sys.executable, "-m", "core.cli", *args]
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert result.returncode in (0, 2), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_links_follow_the_port_served_when_no_base_url_is_set(trame: Trame) -> None:
    """`trame serve --port 8101` (the demo's --port too) writes invitation links to port 8101."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from core.testing import make_user, url_of

    trame.territories.create("agen", "Agen", author="system")
    admin = make_user(trame, "admin@exemple.fr", admin=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "TRAME_BASE_URL"}
    env["TRAME_DATABASE_URL"] = url_of(trame)
    server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        invitation = {"email": "nouvelle@exemple.fr", "role": "member"}
        answer = httpx.post(f"{base}/api/v1/territories/agen/members", json=invitation, headers=admin.headers)
        assert answer.status_code in (200, 201), answer.text
        assert answer.json()["invitation_url"].startswith(f"{base}/invitation/")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_a_form_opened_before_a_restart_still_posts_after_it(trame: Trame, tmp_path: Path) -> None:
    """Without TRAME_SECRET_KEY the key is generated once and kept beside the store (owner only)."""
    import os
    import signal
    import socket
    import stat
    import subprocess
    import sys
    import time

    import httpx

    from core.testing import PASSWORD, csrf_of, make_user, url_of

    make_user(trame, "camille@exemple.fr")
    url = url_of(trame)
    if url.startswith("sqlite:///"):
        assert Settings.from_env(database_url=url).secret_key == Settings.from_env(database_url=url).secret_key
    env = {k: v for k, v in os.environ.items() if k != "TRAME_SECRET_KEY"}
    env["TRAME_DATABASE_URL"] = url
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "core.cli", "serve", "--port", str(port)]
        proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                return proc
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    server = start()
    with httpx.Client(base_url=base) as browser:
        token = csrf_of(browser.get("/connexion").text)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        server = start()
        try:
            answer = browser.post("/connexion", data={"email": "camille@exemple.fr", "password": PASSWORD, "_csrf_token": token})
            assert answer.status_code == 303, answer.text
            forged = browser.post("/connexion", data={"email": "camille@exemple.fr", "password": PASSWORD, "_csrf_token": "faux"})
            assert forged.status_code == 403 and "Ce formulaire a expiré" in forged.text
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    kept = tmp_path / "var" / "secret_key" if not url.startswith("sqlite:///") else Path(url[len("sqlite:///") :]).parent / "secret_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
