"""Pytest fixtures shared by the core's and the plugins' tests (loaded by the root conftest).

Every test that takes ``trame`` runs twice: on a fresh SQLite file and on a fresh
PostgreSQL schema. Without a reachable PostgreSQL the second run is skipped, and the
session says so; with ``TRAME_REQUIRE_POSTGRES=1`` (CI) it fails instead.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.database import PostgresDatabase, SQLiteDatabase
from core.refusals import Refused, Why
from core.settings import Settings
from core.store import SYSTEM

PG_URL = os.environ.get("TRAME_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TRAME_REQUIRE_POSTGRES") == "1"
PASSWORD = "mot-de-passe-de-test"  # noqa: S105

_pg_error: str | None = None
_pg_checked = False


def postgres_unavailable() -> str | None:
    """None if PostgreSQL answers, else why not (checked once per session)."""
    global _pg_error, _pg_checked
    if not _pg_checked:
        _pg_checked = True
        try:
            import psycopg

            with psycopg.connect(PG_URL.split("?")[0], connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            _pg_error = f"{type(exc).__name__}: {exc}".strip()
    return _pg_error


def pytest_terminal_summary(terminalreporter: Any) -> None:
    error = postgres_unavailable() if _pg_checked else None
    if error:
        terminalreporter.write_sep("=", "PostgreSQL suite SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(f"PostgreSQL at {PG_URL} is not reachable ({error}).")
        terminalreporter.write_line("Only the SQLite suite ran. Set TRAME_TEST_POSTGRES_URL to run both.")


def make_database(backend: str, tmp_path: Path) -> Any:
    if backend == "sqlite":
        return SQLiteDatabase(str(tmp_path / "trame.db"))
    error = postgres_unavailable()
    if error:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (TRAME_REQUIRE_POSTGRES=1) but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    from urllib.parse import urlparse

    u = urlparse(PG_URL)
    return PostgresDatabase(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        dbname=u.path.lstrip("/") or "test",
        user=u.username or "postgres",
        password=u.password or "",
        schema=f"t_{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def extra_plugins() -> list[object]:
    """Plugins registered besides the installed ones; override in a conftest to add test plugins."""
    return []


@pytest.fixture
def trame(backend: str, tmp_path: Path, extra_plugins: list[object]) -> Iterator[Trame]:
    db = make_database(backend, tmp_path)
    settings = Settings(database_url="unused://", secret_key="test-secret")  # noqa: S106
    app = Trame(settings, db=db, plugins=extra_plugins)
    yield app
    if isinstance(db, PostgresDatabase):
        db.drop_schema()
    app.close()


@contextmanager
def refused(why: Why, match: str | None = None) -> Iterator[None]:
    """The block is refused for that reason (``Why.ABSENT``: answered 404, as an unknown id)."""
    with pytest.raises(Refused, match=match) as caught:
        yield
    assert caught.value.why is why, f"refused as {caught.value.why.name}, not {why.name}: {caught.value.message}"


@dataclass
class User:
    account_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(
    trame: Trame, email: str, *, admin: bool = False, territory: str | None = None, role: str | None = None, structure_id: str | None = None
) -> User:
    account_id = trame.accounts.create(email, PASSWORD, admin=admin)
    if territory and role:
        trame.accounts.grant(account_id, territory, role, structure_id, author=SYSTEM)
    return User(account_id, email, trame.accounts.issue_token(account_id, author=SYSTEM))


@pytest.fixture
def admin(trame: Trame) -> User:
    return make_user(trame, "admin@exemple.fr", admin=True)


@pytest.fixture
def client(trame: Trame) -> Iterator[TestClient[Any]]:
    from core.web.app import create_app

    with TestClient(create_app(trame)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient[Any], email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would."""
    page = client.get("/connexion")
    response = client.post(
        "/connexion", data={"email": email, "password": password, "_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient[Any], page_url: str, action: str, data: dict[str, str]) -> Any:
    """Load a page, take its CSRF token, and submit a form to ``action``."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "_csrf_token": csrf_of(page.text)}, follow_redirects=False)


def url_of(trame: Trame) -> str:
    """The TRAME_DATABASE_URL that opens the same store as ``trame`` (for CLI subprocesses)."""
    db = trame.db
    if isinstance(db, SQLiteDatabase):
        return f"sqlite:///{db.path}"
    assert isinstance(db, PostgresDatabase)
    return PG_URL.split("?")[0] + f"?schema={db.schema}"


def run_cli(trame: Trame, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run ``trame ARGS`` in a subprocess against the test store, as a user would."""
    import subprocess
    import sys

    full_env = {**os.environ, "TRAME_DATABASE_URL": url_of(trame), **(env or {})}
    return subprocess.run(  # noqa: S603 - our own CLI, arguments from the test
        [sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )


REQUIRE_BROWSER = os.environ.get("TRAME_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(trame: Trame) -> Iterator[str]:
    """The full app served by uvicorn on a free local port, in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    from core.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(trame), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page in Debian's headless Chromium driven by Playwright (no browser download)."""
    import shutil

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is required (TRAME_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
        pytest.skip("Chromium not installed (apt-get install chromium): real-browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="fr-FR")
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
