"""The demo: Agen's monthly café since 2004 and Fumel's cafés of 2009-2010, with seed 001's participants."""

from __future__ import annotations

from core.application import Trame
from core.demo import build_demo
from plugins.cafe.service import cafes
from plugins.rencontres import figures


def test_demo_cafes_of_agen_and_fumel(trame: Trame) -> None:
    build_demo(trame)
    build_demo(trame)  # idempotent
    svc = cafes(trame)
    agen = svc.cafes("agen")
    assert [m["day"] for m in agen[:3]] == ["2004-10-01", "2004-11-05", "2004-12-03"]
    assert len(agen) >= 15 and all(m["start_time"] == "09:00" and m["end_time"] == "10:30" for m in agen)
    assert len({m["host_structure_id"] for m in agen[3:]}) >= 4  # hosted in turn
    assert not [m for m in agen if m["holiday"] and m["sequence"] == 0]  # holidays moved to the proposed day
    assert svc.search("agen", "")  # round-table news
    fumel = {m["day"]: m for m in svc.cafes("fumel")}
    first, _second = fumel["2009-09-15"], fumel["2010-01-15"]
    assert first["place_label"].startswith("Centre médico-social de Fumel")
    news = {e["name"]: e["news"] for e in svc.round_table("fumel", first["meeting_id"])}
    assert "maison relais" in news["Maison relais de l'Udaf"]
    assert len(news) == 19
    f = figures.compute(trame, "fumel", "2010-01-01", "2010-01-31", "cafe")
    assert f.meetings[0].present >= 20
    assert {m["kind"] for m in fumel.values()} == {"cafe", "thematique", "pleniere"}
    assert [a["title"] for a in svc.meetings.carried_over("fumel", fumel["2010-05-21"]["meeting_id"])] == [
        "Diffuser le livret des partenaires"
    ]
    assert "joigny" not in {m["territory"] for m in svc.cafes("joigny")} and svc.cafes("joigny") == []
