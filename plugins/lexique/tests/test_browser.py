"""In a real Chromium: a coordinator adopts the starter list, then an acronym on a directory
sheet explains itself; the glossary's pages have no WCAG 2.1 AA violation (axe-core)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import PASSWORD, REQUIRE_BROWSER, make_user
from plugins.annuaire import public as annuaire
from plugins.annuaire.schemas import StructureIn

AXE = Path(__file__).resolve().parents[3] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_coordinator_adopts_the_list_and_acronyms_explain_themselves(trame: Trame, live_server: str, browser_page: Any) -> None:
    trame.territories.create("meaux", "Meaux", author=SYSTEM)
    trame.territories.enable("meaux", "annuaire", author=SYSTEM)
    trame.territories.enable("meaux", "lexique", author=SYSTEM)
    sid = annuaire.create(trame, "meaux", author=SYSTEM, data=StructureIn(name="MDS de Meaux", acronym="MDS", missions="La MDS accueille."))
    make_user(trame, "coordination@meaux.example", territory="meaux", role="coordinator")
    page = browser_page
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("coordination@meaux.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/t/meaux/lexique/")
    page.get_by_role("button", name="Adopter la liste de départ").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="MDS").count() == 1
    page.get_by_label("Sigle ou terme").fill("RESO77")
    page.locator("#n-definition").fill("Le réseau du groupe de travail de Meaux et Provins.")
    page.get_by_role("button", name="Ajouter au lexique").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="RESO77").is_visible()
    page.goto(f"{live_server}/t/meaux/annuaire/structures/{sid}")
    abbr = page.locator("main abbr").first
    assert abbr.inner_text() == "MDS" and abbr.get_attribute("title") == "Maison départementale des solidarités"
    audited = [f"{live_server}/t/meaux/lexique/", f"{live_server}/t/meaux/lexique/imprimer", f"{live_server}/t/meaux/lexique/importer"]
    audited.append(f"{live_server}{page.evaluate('location.pathname')}")
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing")
        pytest.skip("axe-core not installed: the accessibility part of this test is skipped")
    context = page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    context.add_cookies(page.context.cookies())
    audit = context.new_page()
    page.goto(f"{live_server}/t/meaux/lexique/")
    audited.append(f"{live_server}{page.locator('tbody a').first.get_attribute('href')}")
    violations = []
    for url in audited:
        audit.goto(url)
        audit.add_script_tag(path=str(AXE))
        result = audit.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        violations += [f"{url}: {v['id']} {v['help']} {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]
    context.close()
    assert violations == [], "\n".join(violations)
