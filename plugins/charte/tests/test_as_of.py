"""The charter read "as of" a past day: the text adopted then and the status then, not today's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import login
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_charter_page_as_of_a_day_shows_that_days_version_and_status(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s, adopted_on="2010-03-12")
    svc = charters(trame)
    svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["ml"],
        signatory_name="Claire Martin",
        signatory_role="directrice",
        signed_on="2010-03-12",
    )
    v2 = svc.revise(
        "joigny",
        cid,
        author=SYSTEM,
        title="Charte révisée des rencontres",
        preamble="Ouverte aux bailleurs.",
        commitments=["Renforcer le partenariat."],
    )
    svc.adopt("joigny", cid, v2, author=SYSTEM, on="2011-09-16")
    svc.set_status("joigny", cid, "suspended", author=SYSTEM, on="2012-01-10", reason="Réorganisation du CCAS")
    svc.set_status("joigny", cid, "active", author=SYSTEM, on="2012-03-01", reason=None)
    svc.set_status("joigny", cid, "ended", author=SYSTEM, on="2012-06-29", reason="Action plus portée par le CCAS")
    login(client, h.coordinator(trame).email)
    url = f"/t/joigny/charte/{cid}"

    before = _text(client.get(url, params={"au": "2010-01-01"}).text)
    assert "Projet : pas encore adoptée à cette date" in before and "Terminée" not in before.split("Aujourd'hui")[0]

    first = _text(client.get(url, params={"au": "2011-09-15"}).text)  # the day before version 2
    assert "État au 15/09/2011 En vigueur depuis le 12/03/2010" in first
    assert "Version en vigueur au 15/09/2011 version 1, adoptée le 12/03/2010" in first
    assert h.COMMITMENTS[0] in first and "Renforcer le partenariat." not in first
    assert "Aujourd'hui : terminée depuis le 29/06/2012" in first  # today's status is said, apart

    second = _text(client.get(url, params={"au": "2011-09-16"}).text)
    assert "Charte révisée des rencontres" in second
    assert "version 2, adoptée le 16/09/2011" in second and "Renforcer le partenariat." in second
    assert h.COMMITMENTS[0] not in second and "Suspendue" not in second

    suspended = _text(client.get(url, params={"au": "2012-02-01"}).text)
    assert "État au 01/02/2012 Suspendue depuis le 10/01/2012" in suspended and "Réorganisation du CCAS" in suspended
    back = _text(client.get(url, params={"au": "2012-04-01"}).text)
    assert "En vigueur depuis le 01/03/2012" in back and "Réorganisation du CCAS" not in back

    ended = _text(client.get(url, params={"au": "2013-01-01"}).text)
    assert "Terminée depuis le 29/06/2012" in ended and "Action plus portée par le CCAS" in ended
    assert "signataires à sa fin, le vendredi 29 juin 2012" in ended and "Claire Martin, directrice" in ended

    printed = _text(client.get(f"{url}/impression", params={"au": "2011-01-01"}).text)
    assert "Version 1, adoptée le 12/03/2010" in printed and "terminée" not in printed.lower()
    printed = _text(client.get(f"{url}/impression", params={"au": "2012-07-01"}).text)
    assert "charte terminée le 29/06/2012 (Action plus portée par le CCAS)" in printed

    state = svc.state_at("joigny", cid, "2012-02-01")
    assert (state["status"], state["version"]["version_no"]) == ("suspended", 2)


def test_a_status_change_cannot_predate_the_adoption_or_the_last_change(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s, adopted_on="2010-03-12")
    svc = charters(trame)
    with pytest.raises(Refused, match="adoptée le vendredi 12 mars 2010"):
        svc.set_status("joigny", cid, "ended", author=SYSTEM, on="2010-01-01", reason="Erreur")
    svc.set_status("joigny", cid, "suspended", author=SYSTEM, on="2011-01-10", reason="Pause")
    with pytest.raises(Refused, match="dernier changement d'état"):
        svc.set_status("joigny", cid, "ended", author=SYSTEM, on="2011-01-01", reason="Fin")
