"""A new service in the directory is news at the next café's round table (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import msgspec

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
from plugins.annuaire import public as annuaire
from plugins.annuaire.services import ServiceIn, services
from plugins.cafe.service import cafes
from plugins.rencontres.tests import helpers


def _service(trame: Trame, structure_id: str, name: str, since: str) -> str:
    data = {
        "name": name, "description": "Colis alimentaires après un entretien.", "type": "aide-materielle",
        "themes": ["equipement-et-alimentation--alimentation"], "effective": since,
    }  # fmt: skip
    return services(trame).offer("agen", structure_id, msgspec.convert(data, ServiceIn), author=SYSTEM)


def test_the_round_table_lists_services_started_since_the_previous_cafe(trame: Trame, client: Any) -> None:
    helpers.territory(trame, plugins=("annuaire", "rencontres", "cafe"))
    cs = annuaire.create(
        trame, "agen", author=SYSTEM, data=annuaire.StructureIn(name="Centre social Nord-Est d'Agen", effective="2025-01-01")
    )
    regie = annuaire.create(trame, "agen", author=SYSTEM, data=annuaire.StructureIn(name="Régie de quartier", effective="2025-01-01"))
    svc = cafes(trame)
    january = svc.plan("agen", author=SYSTEM, day="2026-01-02", place_text="Centre social")
    february = svc.plan("agen", author=SYSTEM, day="2026-02-06", place_text="Centre social")
    _service(trame, cs, "Épicerie solidaire", "2025-12-15")  # news at the January café (the month before it)
    _service(trame, regie, "Jardin partagé", "2026-01-02")  # on the January café's day: news then, not in February
    _service(trame, cs, "Aide alimentaire d'urgence", "2026-01-20")  # between the two cafés
    _service(trame, regie, "Repas solidaires", "2026-03-01")  # after February's café
    gone = _service(trame, regie, "Vestiaire", "2026-01-10")
    services(trame).stop("agen", gone, author=SYSTEM, effective="2026-02-01")  # stopped before the café: no news

    assert [(n.name, n.structure_name) for n in svc.new_services("agen", january)] == [
        ("Épicerie solidaire", "Centre social Nord-Est d'Agen"),
        ("Jardin partagé", "Régie de quartier"),
    ]
    february_news = svc.new_services("agen", february)
    assert [n.name for n in february_news] == ["Aide alimentaire d'urgence"]
    assert february_news[0].started == "2026-01-20" and february_news[0].themes

    member = make_user(trame, "membre@agen.example", territory="agen", role="member")
    login(client, member.email)
    page = client.get(f"/t/agen/cafe/{february}")
    assert page.status_code == 200, page.text
    section = page.text.split('id="nouveaux-services"')[1].split("</section>")[0]
    assert "Aide alimentaire d&#39;urgence" in section and "depuis le 20/01/2026" in section
    assert f'href="/t/agen/annuaire/services/{february_news[0].service_id}"' in section
    assert "Repas solidaires" not in section and "Vestiaire" not in section
