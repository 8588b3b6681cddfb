"""A referent signs the charter for their structure in a real browser (Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.testing import PASSWORD
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_referent_signs_the_charter_in_a_browser(trame: Trame, live_server: str, browser_page: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    ref = h.referent(trame, s["ml"])
    page = browser_page
    page.goto(f"{live_server}/t/joigny/charte/{cid}")
    assert "/connexion" in page.url
    page.get_by_label("Adresse e-mail").fill(ref.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/t/joigny/charte/{cid}")
    page.get_by_label("Nom de la personne qui signe").fill("Claire Martin")
    page.get_by_label("Fonction (personne habilitée à engager la structure)").fill("directrice")
    page.get_by_label("Date de signature").fill("2010-04-02")
    page.get_by_label("Adaptation à votre contexte (facultatif)").fill("Une conseillère à chaque rencontre.")
    page.get_by_role("button", name="Signer la charte").click()
    page.wait_for_load_state()
    assert page.get_by_text("Mission locale de Joigny est signataire de la version 1").is_visible()
    (signature,) = charters(trame).signatories("joigny", cid, "2010-04-02")
    assert signature["signatory_name"] == "Claire Martin" and signature["adaptation"] == "Une conseillère à chaque rencontre."
    # One click to the signatories at a past date.
    page.get_by_label("Signataires à la date du").fill("2010-04-01")
    page.get_by_role("button", name="Afficher les signataires à cette date").click()
    page.wait_for_load_state()
    assert "au=2010-04-01" in page.url
    assert page.get_by_text("Aucune structure signataire à cette date.").is_visible()
