"""The yearly evaluation exists for the years the charter existed, and says so for any other year."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import login
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h


def test_evaluation_years_run_from_adoption_to_the_end(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s, adopted_on="2010-03-12")  # recorded today, adopted in 2010
    svc = charters(trame)
    assert svc.evaluation_years("joigny", cid) == list(range(2010, date.today().year + 1))  # while it lasts: up to this year
    svc.set_status("joigny", cid, "ended", author=SYSTEM, on="2012-06-29", reason="Action plus portée par le CCAS")
    assert svc.evaluation_years("joigny", cid) == [2010, 2011, 2012]
    coord = h.coordinator(trame)
    login(client, coord.email)
    base = f"/t/joigny/charte/{cid}/evaluation"

    page = client.get(f"{base}/2011")
    assert page.status_code == 200
    offered = {y for y in range(1977, 2047) if f'href="{base}/{y}"' in page.text}
    assert offered == {2010, 2012}  # and 2011, the page itself, marked as current
    assert 'aria-current="page">2011<' in page.text
    assert "état au 31/12/2011 : en vigueur" in page.text
    assert "état au 31/12/2012 : terminée (Action plus portée par le CCAS)" in client.get(f"{base}/2012").text

    for year in (2009, 2013, 1977):
        refused = client.get(f"{base}/{year}")
        assert refused.status_code == 404
        assert f"Pas d'évaluation pour {year} : cette charte couvre les années 2010 à 2012." in html.unescape(refused.text)
    assert f'href="{base}/2012"' in client.get(f"/t/joigny/charte/{cid}").text  # the charter links to its last year

    api = f"/api/v1/territories/joigny/charte/charters/{cid}/reports"
    got = client.get(f"{api}/2046", headers=coord.headers)
    assert got.status_code == 404 and "couvre les années 2010 à 2012" in got.json()["detail"]
    put = client.put(f"{api}/2009", json={"what_works": "x"}, headers=coord.headers)
    assert put.status_code == 404
    assert client.put(f"{api}/2011", json={"what_works": "La dynamique."}, headers=coord.headers).status_code == 200


def test_a_draft_is_evaluated_in_the_year_it_was_drafted(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = charters(trame).draft(
        "joigny",
        author=SYSTEM,
        title="Projet de charte",
        preamble="",
        commitments=h.COMMITMENTS,
        carrier_structure_id=s["ccas"],
        form="initiative",
    )
    assert charters(trame).evaluation_years("joigny", cid) == [date.today().year]
