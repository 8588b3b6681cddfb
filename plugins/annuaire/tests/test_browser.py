"""The directory in a real browser (Chromium): search, open a sheet, edit it, look at the past."""

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
def test_coordinator_searches_edits_and_looks_at_the_past(trame: Trame, live_server: str, browser_page: Any) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    make_user(trame, "coord@agen.example", territory="agen", role="coordinator")
    d = directory(trame)
    sid, _ = d.create_structure(
        "agen", StructureIn(name="CCAS d'Épernon", acronym="CCAS", kind="ccas", phone="02 37 11 11 11", communes=["Épernon"],
                            email="accueil@ccas-epernon.example", effective="2005-01-01"), SYSTEM)  # fmt: skip
    d.create_structure("agen", StructureIn(name="Mission locale de l'Agenais", kind="mission-locale", effective="2006-01-01"), SYSTEM)

    page = browser_page
    page.goto(f"{live_server}/t/agen/annuaire/")
    assert "/connexion" in page.url
    page.get_by_label("Adresse e-mail").fill("coord@agen.example")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/t/agen/annuaire**")
    assert page.get_by_role("heading", level=1).inner_text() == "Annuaire partagé"

    # Search without accents, find the structure, open its sheet.
    page.get_by_label("Rechercher", exact=True).fill("epernon")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**/annuaire/?q=epernon*")
    results = page.get_by_role("table")
    assert results.get_by_role("link", name="CCAS d'Épernon").is_visible()
    assert results.get_by_role("link", name="Mission locale de l'Agenais").count() == 0
    results.get_by_role("link", name="CCAS d'Épernon").click()
    page.wait_for_url(f"**/structures/{sid}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("CCAS d'Épernon")

    # Edit a field and save.
    page.get_by_role("link", name="Modifier la fiche").click()
    page.get_by_label("Téléphone", exact=True).fill("02 37 22 22 22")
    page.get_by_label("Motif (facultatif)").fill("Nouveau standard")
    # The form has the same button at its top and at its end (a long form): the one after the reason.
    page.get_by_role("button", name="Enregistrer les modifications").last.click()
    page.wait_for_url(f"**/structures/{sid}?fait=modifiee")
    assert page.get_by_role("status").first.inner_text() == "La fiche a été enregistrée."
    assert "02 37 22 22 22" in page.locator("dl.sheet").inner_text()
    assert d.get_structure("agen", sid).phone == "02 37 22 22 22"  # type: ignore[union-attr]

    # The sheet as it was in 2010 still shows the old number.
    page.get_by_label("Voir tel qu'au").fill("2010-06-01")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**as_of=2010-06-01*")
    sheet = page.locator("dl.sheet").inner_text()
    assert "02 37 11 11 11" in sheet and "02 37 22 22 22" not in sheet
    assert "Fiche telle qu'elle était au 01/06/2010" in page.get_by_role("status").first.inner_text()
    assert "Nouveau standard" in page.locator("section.timeline").inner_text()  # the change stays in the timeline

    # Printed, the sheet keeps its content and drops the site's chrome and the controls.
    page.emulate_media(media="print")
    assert page.get_by_role("heading", name="Fiche signalétique").is_visible()
    assert page.locator("dl.sheet").is_visible()
    for hidden in ("Modifier la fiche", "Retour à l'annuaire", "Accueil du territoire"):
        assert not page.get_by_role("link", name=hidden).is_visible()
    assert not page.get_by_role("button", name="Afficher").is_visible()
