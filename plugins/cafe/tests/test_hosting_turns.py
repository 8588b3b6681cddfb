"""Hosting in turn counts every café held at a structure, a monthly series' too, and only those
already held: "Dernier accueil" is never a day still to come."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from markupsafe import escape

from core import clock
from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
from plugins.cafe.service import cafes
from plugins.rencontres.tests import helpers


def _days_from_today(days: int) -> str:
    return (date.fromisoformat(clock.paris_today()) + timedelta(days=days)).isoformat()


def test_a_monthly_series_at_a_structure_counts_as_its_hosting(trame: Trame, client: Any) -> None:
    helpers.territory(trame, "fumel", plugins=("annuaire", "rencontres", "cafe"))
    s = helpers.structures(trame, "fumel")
    svc = cafes(trame)
    for key in ("cs", "cms"):
        svc.offer_hosting("fumel", s[key], author=SYSTEM, willing=True, has_room=True)
    # Monthly since about ten weeks ago, six cafés: some held already, the others to come.
    svc.start_series("fumel", author=SYSTEM, first_day=_days_from_today(-70), count=6, host_structure_id=s["cs"])
    today = clock.paris_today()
    held = [m["day"] for m in svc.cafes("fumel") if m["day"] <= today]
    coming = [m["day"] for m in svc.cafes("fumel") if m["day"] > today]
    assert held and coming
    by_structure = {h["structure_id"]: h for h in svc.hosts("fumel")}
    assert by_structure[s["cs"]]["last_hosted"] == max(held)  # the series' host is counted, as of today
    assert by_structure[s["cs"]]["next_hosting"] == min(coming)
    assert by_structure[s["cms"]]["last_hosted"] is None
    suggested = svc.suggest_host("fumel")
    assert suggested is not None and suggested["structure_id"] == s["cms"]  # the one that never hosted is next

    make_user(trame, "coord@fumel.example", territory="fumel", role="coordinator")
    login(client, "coord@fumel.example")
    page = client.get("/t/fumel/cafe/accueil")
    assert page.status_code == 200
    name = escape(helpers.STRUCTURES["cs"][0])
    row = re.search(rf'<tr><td data-label="Structure">{re.escape(name)}</td>.*?</tr>', page.text)
    assert row, page.text
    assert f'<td data-label="Dernier accueil">{clock.french_date(max(held))}</td>' in row.group(0)
    assert "jamais" not in row.group(0)


def test_the_demo_never_shows_a_last_hosting_in_the_future(trame: Trame) -> None:
    from core.demo import build_demo

    build_demo(trame)
    today = clock.paris_today()
    svc = cafes(trame)
    for territory in ("agen", "fumel"):
        hosts = svc.hosts(territory)
        assert hosts, territory
        assert all(h["last_hosted"] is None or h["last_hosted"] <= today for h in hosts), territory
        assert all(h["next_hosting"] is None or h["next_hosting"] > today for h in hosts), territory
        # Every structure that held a café by today, at its address or as a series' place, counts it.
        held_at = {m["host_structure_id"] or m["place_structure_id"] for m in svc.cafes(territory) if m["day"] <= today}
        assert {h["structure_id"] for h in hosts if h["last_hosted"]} == held_at & {h["structure_id"] for h in hosts}, territory
