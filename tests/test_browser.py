"""A person in a real browser (Chromium): sign in, reach their territory, switch a module on."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.testing import PASSWORD, make_user


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_coordinator_signs_in_and_enables_a_module(trame: Trame, live_server: str, browser_page: Any) -> None:
    trame.territories.create("agen", "Agen – quartier de Montanou", author="system")
    make_user(trame, "coord@exemple.fr", territory="agen", role="coordinator")
    page = browser_page
    page.goto(f"{live_server}/t/agen/modules")
    assert "/connexion" in page.url  # sent to sign in first, then back
    page.get_by_label("Adresse e-mail").fill("coord@exemple.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/t/agen/modules")
    page.get_by_role("button", name="Activer Annuaire partagé").click()
    page.wait_for_load_state()
    assert trame.territories.is_enabled("agen", "annuaire")
    page.get_by_role("link", name="Accueil du territoire").click()
    assert page.get_by_role("link", name="Annuaire partagé").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
