"""In a real Chromium: the Joigny coordinator reads the CCAS's partner map in 2010 and today, records a
partnership, reads the network; axe-core finds no WCAG 2.1 AA violation on these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.application import Trame
from core.demo import PASSWORD, build_demo
from core.testing import REQUIRE_BROWSER
from plugins.annuaire import public as annuaire

AXE = Path(__file__).resolve().parents[3] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _audit(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{page.url}: {v['id']} {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_joigny_coordinator_reads_the_partner_map_and_records_a_partnership(trame: Trame, live_server: str, browser_page: Any) -> None:
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing: run ./scripts/test")
        pytest.skip("axe-core not installed (./scripts/test installs it with npm): accessibility audit skipped")
    build_demo(trame)
    ccas = annuaire.find_by_name(trame, "joigny", "CCAS de Joigny")
    assert ccas is not None
    context = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR")  # only so that axe can be injected
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill("coordination.joigny@trame.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    violations: list[str] = []

    page.goto(f"{live_server}/t/joigny/annuaire/structures/{ccas.id}?as_of=2010-06-01")
    table = page.locator("table.partner-map-table")
    assert table.get_by_role("rowheader", name="Udaf de l'Yonne").count() == 1
    assert "partenariat d'initiative" in table.inner_text()
    assert page.get_by_role("img", name="Carte des partenaires de CCAS de Joigny au 01/06/2010").is_visible()
    violations += _audit(page)
    page.goto(f"{live_server}/t/joigny/annuaire/structures/{ccas.id}")
    assert "Conseil départemental de l'Yonne" in page.locator("table.partner-map-table").inner_text()

    page.get_by_role("link", name="Partenariats").first.click()
    page.wait_for_load_state()
    violations += _audit(page)
    page.get_by_role("link", name="Enregistrer un partenariat").click()
    violations += _audit(page)
    page.get_by_label("Intitulé").fill("Permanence commune d'accès aux droits")
    page.get_by_label("Type").select_option("relais")
    page.get_by_label("Partenaire 1", exact=True).select_option(label="CCAS de Joigny")
    page.get_by_label("Partenaire 2", exact=True).select_option(label="CLIC de Joigny")
    page.get_by_label("Date de début").fill("2025-09-01")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Permanence commune d'accès aux droits").is_visible()
    violations += _audit(page)

    page.goto(f"{live_server}/t/joigny/partenariats/reseau")
    assert page.get_by_role("img", name="Graphe du réseau").is_visible() or page.locator("svg.network-svg").count() == 1
    assert "structure isolée" in page.locator("#structures").inner_text()
    violations += _audit(page)
    page.goto(f"{live_server}/t/joigny/partenariats/rappels")
    assert "Convention d'accompagnement des allocataires du RSA" in page.inner_text("main")
    violations += _audit(page)
    context.close()
    assert violations == [], "\n".join(violations)
