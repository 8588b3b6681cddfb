"""In a real Chromium: a coordinator pairs two professionals, the host confirms through its link
without an account, and axe-core finds no WCAG 2.1 AA violation on the immersion pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import PASSWORD, REQUIRE_BROWSER, make_user
from plugins.immersions.service import immersions
from plugins.immersions.tests import helpers

AXE = Path(__file__).resolve().parents[3] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _audit(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{page.url}: {v['id']} {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_pair_two_professionals_and_confirm_by_link_accessibly(trame: Trame, live_server: str, browser_page: Any) -> None:
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing: run ./scripts/test")
        pytest.skip("axe-core not installed (./scripts/test installs it with npm): accessibility audit skipped")
    from playwright.sync_api import expect

    ids = helpers.territory(trame)
    prog = helpers.programme(trame, ids)
    svc = immersions(trame)
    svc.offer("valfleuri", prog.id, author=SYSTEM, host_participant_id=prog.people["marie"], day="2012-10-12", length="matin")
    user = make_user(trame, "coordination@valfleuri.example", territory="valfleuri", role="coordinator")
    # axe is injected as a script: this context only lets it past the pages' CSP.
    context = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/t/valfleuri/immersions/")
    expect(page.get_by_role("heading", name="Immersions en binômes", exact=True)).to_be_visible()
    violations += _audit(page)
    page.get_by_role("link", name="Du social à l'emploi", exact=True).click()
    page.get_by_text("Demander une immersion").click()
    page.select_option("#r_who", prog.people["paul"])
    page.get_by_role("button", name="Demander", exact=True).click()
    expect(page.get_by_role("button", name="Former le binôme de Paul Lemaire")).to_be_visible()
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # audit the folded forms too
    violations += _audit(page)
    page.get_by_role("button", name="Former le binôme de Paul Lemaire").click()
    expect(page.get_by_role("status")).to_contain_text("Binôme formé")
    host_link = page.get_by_label("Lien de confirmation — Structure d'accueil : Marie Dufour (CHRS Les Tilleuls)").input_value()
    page.goto(f"{live_server}/t/valfleuri/immersions/programmes/{prog.id}/bilan")
    expect(page.get_by_role("heading", name="En chiffres")).to_be_visible()
    violations += _audit(page)
    # The host has no account: a fresh context, the link only.
    anonymous = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR").new_page()
    anonymous.goto(live_server + urlparse(host_link).path)  # the link's path, on this test server
    expect(anonymous.get_by_text("accueille Paul Lemaire", exact=False)).to_be_visible()
    anonymous.get_by_label("Je confirme").check()
    anonymous.get_by_role("button", name="Envoyer ma réponse").click()
    expect(anonymous.get_by_role("status")).to_contain_text("Confirmé")
    violations += _audit(anonymous)
    assert svc.pairs("valfleuri", prog.id)[0]["answers"]["host"] == "confirmed"
    assert violations == [], "\n".join(violations)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_demo_programme_and_its_report_are_accessible(trame: Trame, live_server: str, browser_page: Any) -> None:
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing: run ./scripts/test")
        pytest.skip("axe-core not installed (./scripts/test installs it with npm): accessibility audit skipped")
    from plugins.immersions.demo import load

    helpers.territory(trame, "marseille")
    load(trame, "marseille")
    (programme,) = immersions(trame).programmes("marseille")
    user = make_user(trame, "coordination@marseille.example", territory="marseille", role="coordinator")
    context = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    violations: list[str] = []
    base = f"{live_server}/t/marseille/immersions/programmes/{programme['programme_id']}"
    for url in (base, f"{base}/bilan"):
        page.goto(url)
        violations += _audit(page)
    assert "29" in page.get_by_role("row", name="Participant·es").inner_text()
    assert violations == [], "\n".join(violations)
