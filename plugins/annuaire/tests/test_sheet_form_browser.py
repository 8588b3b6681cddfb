"""The structure sheet form in a real browser: saved from its top, and a refused save puts the
keyboard focus on the error summary (no JavaScript: ``autofocus`` on a ``tabindex=-1`` box)."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import PASSWORD, make_user
from plugins.annuaire.schemas import StructureIn
from plugins.annuaire.service import directory


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_sheet_saved_from_the_top_and_a_refusal_takes_the_focus(trame: Trame, live_server: str, browser_page: Any) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    make_user(trame, "coord@agen.example", territory="agen", role="coordinator")
    sid, _ = directory(trame).create_structure("agen", StructureIn(name="CCAS d'Épernon", kind="ccas", effective="2005-01-01"), SYSTEM)
    page = browser_page
    page.goto(f"{live_server}/t/agen/annuaire/structures/{sid}/modifier")
    page.get_by_label("Adresse e-mail").fill("coord@agen.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/t/agen/annuaire/structures/{sid}/modifier")

    # The first button of the form is a save button, reached before any field of the sheet.
    save = page.locator("form.sheet-form button[type=submit]")
    assert save.count() == 2 and save.first.inner_text() == save.last.inner_text() == "Enregistrer les modifications"
    name = page.get_by_label("Nom de la structure")
    assert save.first.bounding_box()["y"] < name.bounding_box()["y"]

    name.fill("")
    save.first.click()
    page.wait_for_load_state()
    focused = page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('role')]")
    assert focused == ["erreurs", "alert"]  # a keyboard or screen-reader user lands on what to fix
    page.locator("#erreurs a[href='#name']").click()
    assert page.evaluate("document.activeElement.id") == "name"

    name.fill("CCAS d'Épernon-sur-Eure")
    save.first.click()
    page.wait_for_url(f"{live_server}/t/agen/annuaire/structures/{sid}**")
    assert page.get_by_role("heading", level=1).inner_text() == "CCAS d'Épernon-sur-Eure"
