"""The plugin host: entry points, needs, per-territory switches, hook documentation."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core import hookspecs
from core.application import Trame
from core.hookspecs import hookimpl
from core.plugins import PluginInfo
from core.settings import Settings
from core.testing import User, make_database, make_user

EXAMPLE = Path(__file__).parent / "example_plugin"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the example plugin package into a private folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
        check=True,
        capture_output=True,
    )
    return target


def test_third_party_plugin_installed_through_its_entry_point_is_listed(installed_example: Path) -> None:
    import os

    env = {**os.environ, "PYTHONPATH": str(installed_example), "TRAME_DATABASE_URL": f"sqlite:///{installed_example}/t.db"}
    out = subprocess.run([sys.executable, "-m", "core.cli", "plugins"], capture_output=True, text=True, env=env, check=True).stdout
    assert "exemple\tLexique (exemple)" in out
    assert "annuaire\t" in out


def test_third_party_plugin_serves_its_page_only_where_enabled(installed_example: Path, backend: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(installed_example))
    importlib.invalidate_caches()
    try:
        trame = Trame(Settings(database_url="unused://"), db=make_database(backend, tmp_path))
    finally:
        sys.path.remove(str(installed_example))
    try:
        from core.web.app import create_app

        assert "exemple" in trame.catalog.info
        trame.territories.create("meaux", "Meaux", author="system")
        trame.territories.create("agen", "Agen", author="system")
        trame.territories.enable("meaux", "exemple", author="system")
        make_user(trame, "admin@exemple.fr", admin=True)
        with TestClient(create_app(trame)) as client:
            from core.testing import login

            login(client, "admin@exemple.fr")
            page = client.get("/t/meaux/exemple/")
            assert page.status_code == 200 and "maison départementale des solidarités" in page.text
            assert 'href="/t/meaux/exemple/"' in client.get("/t/meaux/").text
            assert client.get("/t/agen/exemple/").status_code == 404
            assert 'href="/t/agen/exemple/"' not in client.get("/t/agen/").text
    finally:
        trame.close()


class NeedsAnnuaire:
    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="dependant", title="Module dépendant", needs=("annuaire",))


@pytest.fixture
def extra_plugins() -> list[object]:
    return [NeedsAnnuaire()]


def test_enabling_a_plugin_without_its_needs_is_refused(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("joigny", "Joigny", author="system")
    refused = client.put("/api/v1/territories/joigny/plugins/dependant", headers=admin.headers)
    assert refused.status_code == 400
    assert "Annuaire" in refused.json()["detail"] and "activez-le d'abord" in refused.json()["detail"]
    assert client.put("/api/v1/territories/joigny/plugins/annuaire", headers=admin.headers).status_code == 200
    assert client.put("/api/v1/territories/joigny/plugins/dependant", headers=admin.headers).json()["enabled"] is True
    blocked = client.delete("/api/v1/territories/joigny/plugins/annuaire", headers=admin.headers)
    assert blocked.status_code == 400 and "en dépend" in blocked.json()["detail"]


def test_plugin_switches_are_events_with_their_author(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author="system")
    client.put("/api/v1/territories/agen/plugins/annuaire?reason=demande du comité", headers=admin.headers)
    client.delete("/api/v1/territories/agen/plugins/annuaire", headers=admin.headers)
    with trame.db.read() as cur:
        rows = cur.execute("SELECT event, author, reason FROM journal WHERE territory = 'agen' ORDER BY position").fetchall()
    assert [(r["event"], r["author"]) for r in rows][1:] == [
        ("core.PluginEnabled", admin.account_id),
        ("core.PluginDisabled", admin.account_id),
    ]
    assert rows[1]["reason"] == "demande du comité"
    plugins = client.get("/api/v1/territories/agen/plugins", headers=admin.headers).json()
    assert {p["name"]: p["enabled"] for p in plugins}["annuaire"] is False


def test_unknown_plugin_is_404(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author="system")
    response = client.put("/api/v1/territories/agen/plugins/inexistant", headers=admin.headers)
    assert response.status_code == 404 and "inexistant" in response.json()["detail"]


def test_every_hook_is_documented_and_called_with_keywords() -> None:
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "trame_spec")]
    assert len(specs) >= 9
    for spec in specs:
        assert spec.__doc__ and len(spec.__doc__.split()) > 10, f"{spec.__name__} needs a docstring"
    core = Path(__file__).parents[1] / "core"
    source = "\n".join(p.read_text() for p in core.rglob("*.py"))
    for spec in specs:
        if spec.__name__ in ("plugin_info",):
            continue
        assert spec.__name__ in source.replace("hookspecs.py", ""), f"the core never calls {spec.__name__}"


def test_every_installed_event_has_a_french_label_for_the_journal(trame: Trame) -> None:
    unlabelled = [e.name for e in trame.events() if not e.journal_label and not e.name.startswith("essai.")]
    assert unlabelled == []
