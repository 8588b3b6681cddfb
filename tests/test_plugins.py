"""The plugin host: entry points, needs, per-territory switches, hook documentation."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
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


class _EveryHook:
    """Implements every hook and notes each call: what the core really calls, it calls with
    keywords (pluggy refuses positional arguments)."""

    def __init__(self) -> None:
        self.called: set[str] = set()

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        self.called.add("plugin_info")
        return PluginInfo(name="temoin", title="Témoin", description="appelé par chaque crochet", always_on=True)

    @hookimpl
    def register_events(self) -> list[Any]:
        self.called.add("register_events")
        return []

    @hookimpl
    def register_projections(self) -> list[Any]:
        self.called.add("register_projections")
        return []

    @hookimpl
    def register_routes(self) -> list[Any]:
        self.called.add("register_routes")
        return []

    @hookimpl
    def register_templates(self) -> str | None:
        self.called.add("register_templates")
        return None

    @hookimpl
    def register_static(self) -> str | None:
        self.called.add("register_static")
        return None

    @hookimpl
    def navigation_links(self, territory: str, role: str | None) -> list[Any]:
        self.called.add("navigation_links")
        return []

    @hookimpl
    def page_sections(self, trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[Any]:
        self.called.add("page_sections")
        return []

    @hookimpl
    def structures_in(self, trame: Trame, territory: str, structure_ids: list[str]) -> list[str]:
        self.called.add("structures_in")
        return []

    @hookimpl
    def structure_choices(self, trame: Trame, territory: str) -> list[tuple[str, str]]:
        self.called.add("structure_choices")
        return []

    @hookimpl
    def glossary_terms(self, trame: Trame, territory: str) -> list[Any]:
        self.called.add("glossary_terms")
        return []

    @hookimpl
    def journal_subjects(self, trame: Trame, territory: str, lines: list[Any]) -> dict[int, Any]:
        self.called.add("journal_subjects")
        return {}

    @hookimpl
    def mailing_lists(self, trame: Trame, territory: str) -> list[Any]:
        self.called.add("mailing_lists")
        return []

    @hookimpl
    def subject_erased(self, trame: Trame, territory: str, subject_id: str, names: list[str]) -> list[str]:
        self.called.add("subject_erased")
        return []

    @hookimpl
    def register_commands(self, subparsers: Any) -> None:
        self.called.add("register_commands")

    @hookimpl
    def demo_data(self, trame: Trame, territory: str) -> None:
        self.called.add("demo_data")


def test_every_hook_is_documented_and_really_called(tmp_path: Path) -> None:
    """Each hook in hookspecs.py has a docstring and is called when its moment comes: start-up,
    the app, a page, the CLI, the demo. ``page_sections`` is the structure sheet's (annuaire),
    so the annuaire takes part here, and its own test checks what the sections show."""
    from core.cli import build_parser
    from core.demo import build_demo
    from core.web.app import create_app
    from plugins import annuaire

    specs = {name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "trame_spec")}
    for name in specs:
        doc = getattr(hookspecs, name).__doc__
        assert doc and len(doc.split()) > 10, f"{name} needs a docstring"
    witness = _EveryHook()
    db = make_database("sqlite", tmp_path)
    trame = Trame(Settings(database_url="unused://", secret_key="k"), plugins=[witness, annuaire], entry_points=False, db=db)
    try:
        build_parser(trame.pm)
        build_demo(trame)
        with TestClient(create_app(trame)) as client:
            client.post("/connexion", data={"email": "admin@trame.example", "password": "demo-trame-2026", "_csrf_token": _csrf(client)})
            sheet = next(iter(annuaire_structures(trame, "meaux")))
            assert client.get(f"/t/meaux/annuaire/structures/{sheet}").status_code == 200
            assert client.get("/t/meaux/journal").status_code == 200
        from core import mailings

        mailings.lists(trame, "meaux")  # what a mailing page does
        _erase_one_person(trame, "meaux")  # what erasing a contact does
    finally:
        trame.close()
    assert witness.called == specs


def _csrf(client: TestClient[Any]) -> str:
    from core.testing import csrf_of

    return csrf_of(client.get("/connexion").text)


def _erase_one_person(trame: Trame, territory: str) -> None:
    from plugins.annuaire.service import directory

    with trame.db.read() as cur:
        person_id = cur.scalar("SELECT person_id FROM annuaire_people WHERE territory = ? AND erased = 0 ORDER BY person_id", (territory,))
    directory(trame).erase_person(territory, str(person_id), "system")


def annuaire_structures(trame: Trame, territory: str) -> list[str]:
    with trame.db.read() as cur:
        rows = cur.execute("SELECT DISTINCT entity_id FROM annuaire_structures WHERE territory = ?", (territory,)).fetchall()
    return [r["entity_id"] for r in rows]


def test_every_installed_event_has_a_french_label_for_the_journal(trame: Trame) -> None:
    unlabelled = [e.name for e in trame.events() if not e.journal_label and not e.name.startswith("essai.")]
    assert unlabelled == []


# -- plugins meet through published interfaces ----------------------------------------------
PLUGINS_DIR = Path(__file__).resolve().parent.parent / "plugins"


def _plugin_modules() -> list[tuple[str, Path]]:
    """(plugin, source file) of every product module: a plugin's tests may reuse another's test helpers."""
    out = []
    for package in sorted(p for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").exists()):
        out += [(package.name, f) for f in sorted(package.rglob("*.py")) if "tests" not in f.relative_to(package).parts]
    return out


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def test_a_plugin_imports_nothing_of_another_but_its_public_module() -> None:
    """Another plugin's internals (pages, service, tables) are its own: change them and only its
    ``public.py`` has to keep its promises. Its tables are not queried either."""
    names = {p.name for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").exists()}
    table = re.compile(rf"\b({'|'.join(sorted(names))})_[a-z_]+\b")
    wrong = []
    for plugin, path in _plugin_modules():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for line, name in _imported(tree):
            parts = name.split(".")
            foreign = parts[0] == "plugins" and len(parts) > 1 and parts[1] != plugin and parts[1] in names
            if foreign and parts[2:3] != ["public"]:
                wrong.append(f"{path.relative_to(PLUGINS_DIR.parent)}:{line} imports {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for m in table.finditer(node.value):
                    if m.group(1) != plugin:
                        wrong.append(f"{path.relative_to(PLUGINS_DIR.parent)}:{node.lineno} reads the table {m.group(0)}")
    assert not wrong, "\n".join(wrong)
