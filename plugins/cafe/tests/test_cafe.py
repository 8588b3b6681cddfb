"""Cafés: hosting in turn, thematic invitations, the plenary, round table (search, annuaire section), newcomers, pages."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import csrf_of, login, make_user, post_form
from plugins.annuaire import public as annuaire
from plugins.cafe.service import cafes
from plugins.rencontres.tests import helpers


@pytest.fixture
def agen(trame: Trame) -> dict[str, str]:
    helpers.territory(trame, plugins=("annuaire", "rencontres", "cafe"))
    return helpers.structures(trame)


def test_next_host_is_the_one_that_hosted_least_recently_with_a_room(trame: Trame, agen: dict[str, str]) -> None:
    svc = cafes(trame)
    assert svc.suggest_host("agen") is None
    svc.offer_hosting("agen", agen["cs"], author=SYSTEM, willing=True, has_room=True)
    svc.offer_hosting("agen", agen["cms"], author=SYSTEM, willing=True, has_room=True)
    svc.offer_hosting("agen", agen["ml"], author=SYSTEM, willing=True, has_room=False)  # no room: never suggested
    svc.offer_hosting("agen", agen["regie"], author=SYSTEM, willing=False, has_room=True)
    svc.plan("agen", author=SYSTEM, day="2026-01-02", host_structure_id=agen["cs"])
    assert (svc.suggest_host("agen") or {})["structure_id"] == agen["cms"]  # never hosted comes first
    mid = svc.plan("agen", author=SYSTEM, day="2026-02-06", host_structure_id=agen["cms"])
    assert (svc.suggest_host("agen") or {})["structure_id"] == agen["cs"]  # hosted least recently
    m = svc.require("agen", mid)
    assert m["place_label"] == "Centre médico-social de Montanou, 3 place de Montanou, 47000 Agen"
    assert (m["start_time"], m["end_time"], m["kind"]) == ("09:00", "10:30", "cafe")
    svc.meetings.cancel("agen", mid, author=SYSTEM)  # a cancelled café does not count
    assert (svc.suggest_host("agen") or {})["structure_id"] == agen["cms"]


def test_thematic_invitation_list_follows_themes_and_one_plenary_a_year(trame: Trame, agen: dict[str, str]) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2026-03-06", kind="thematique", theme="emploi-insertion", place_text="Maison de l'emploi")
    assert svc.require("agen", mid)["title"] == "Café thématique — Emploi, insertion"
    assert sorted(svc.invitation_list("agen", mid)) == sorted([agen["ml"], agen["regie"]])
    delivery = svc.invite("agen", mid, author=SYSTEM)
    assert {link.structure_id for link in delivery.links} == {agen["ml"], agen["regie"]}
    with pytest.raises(Refused):
        svc.plan("agen", author=SYSTEM, day="2026-04-03", kind="thematique", theme=None, place_text="x")
    svc.plan("agen", author=SYSTEM, day="2026-06-05", kind="pleniere", host_structure_id=agen["cs"])
    with pytest.raises(Refused, match="une par an"):
        svc.plan("agen", author=SYSTEM, day="2026-12-04", kind="pleniere", host_structure_id=agen["cs"])
    svc.plan("agen", author=SYSTEM, day="2027-06-04", kind="pleniere", host_structure_id=agen["cs"])


def test_round_table_is_searchable_and_shown_on_the_structure_sheet(trame: Trame, agen: dict[str, str]) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2026-03-06", host_structure_id=agen["cs"])
    svc.record_news("agen", mid, agen["ml"], "Garantie jeunes : nouvelles entrées en <avril>.", author=SYSTEM)
    svc.record_news("agen", mid, agen["regie"], "Chantier espaces verts : recrutement en cours.", author=SYSTEM)
    svc.record_news(
        "agen", mid, agen["ml"], "Garantie jeunes : entrées en avril, réunion d'information jeudi.", author=SYSTEM
    )  # a correction
    assert [e["news"] for e in svc.round_table("agen", mid) if e["structure_id"] == agen["ml"]] == [
        "Garantie jeunes : entrées en avril, réunion d'information jeudi."
    ]
    assert {a["structure_id"] for a in svc.meetings.attendance("agen", mid)} == {agen["ml"], agen["regie"]}  # news means present
    assert [r["structure_id"] for r in svc.search("agen", "REUNION jeudi")] == [agen["ml"]]  # case and accents ignored
    assert [r["structure_id"] for r in svc.search("agen", "recrutement")] == [agen["regie"]]
    assert svc.search("agen", "50%") == []
    sections = [
        s
        for group in trame.pm.hook.page_sections(
            trame=trame, page="annuaire.structure", territory="agen", subject_id=agen["ml"], as_of="2026-12-31", known_at=None
        )
        for s in group
    ]
    (section,) = [s for s in sections if s.plugin == "cafe"]
    assert "réunion d&#39;information jeudi" in section.html and "06/03/2026" in section.html
    assert not [
        s
        for group in trame.pm.hook.page_sections(
            trame=trame, page="annuaire.structure", territory="agen", subject_id=agen["cms"], as_of="2026-12-31", known_at=None
        )
        for s in group
        if s.plugin == "cafe"
    ]


def test_a_newcomer_gets_its_sheet_created_from_the_cafe(trame: Trame, agen: dict[str, str]) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2009-09-15", host_structure_id=agen["cms"])
    nid = svc.present_newcomer("agen", mid, author=SYSTEM, organisation="Maison relais de l'Udaf", presentation="Projet d'implantation.")
    sid = svc.register_newcomer("agen", mid, nid, author=SYSTEM, email="maison.relais@udaf47.example", themes=["logement"])
    sheet = annuaire.structure(trame, "agen", sid)
    assert sheet is not None and sheet.name == "Maison relais de l'Udaf" and sheet.themes == ["logement"]
    assert svc.newcomers("agen", mid)[0]["structure_id"] == sid
    assert sid in {a["structure_id"] for a in svc.meetings.attendance("agen", mid)}
    with pytest.raises(Refused):
        svc.register_newcomer("agen", mid, nid, author=SYSTEM)


def test_a_coordinator_runs_a_cafe_from_the_pages(trame: Trame, agen: dict[str, str], client: Any) -> None:
    user = helpers.coordinator(trame)
    login(client, user.email)
    page = client.get("/t/agen/cafe/")
    assert page.status_code == 200 and "Programmer un café" in page.text
    response = post_form(
        client,
        "/t/agen/cafe/",
        "/t/agen/cafe/nouveau",
        {
            "day": "2026-05-01",
            "start": "09:00",
            "end": "10:30",
            "kind": "cafe",
            "host_structure_id": agen["cs"],
            "theme": "",
            "place_text": "",
        },
    )
    assert response.status_code == 303, response.text
    cafe_url = response.headers["location"]
    page = client.get(cafe_url)
    assert "jour férié" in page.text and "vendredi 15 mai 2026" in page.text  # 1 May flagged, 15 May proposed
    invited = client.post(f"{cafe_url}/invitations", data={"_csrf_token": csrf_of(page.text)})
    assert invited.status_code == 200 and invited.text.count("/rencontres/reponse/") == 4
    done = post_form(
        client, cafe_url, f"{cafe_url}/tour-de-table", {"structure_id": agen["ml"], "news": "Forum de l'alternance le 20 mai."}
    )
    assert done.status_code == 303
    page = client.get(cafe_url)
    assert "Forum de l&#39;alternance le 20 mai." in page.text
    meeting_id = cafe_url.rsplit("/", 1)[1]
    moved = post_form(
        client,
        f"/t/agen/rencontres/{meeting_id}",
        f"/t/agen/rencontres/{meeting_id}/report",
        {"day": "2026-05-15", "start": "09:00", "end": "10:30", "reason": "1er mai"},
    )
    assert moved.status_code == 303
    sheet = client.get(f"/t/agen/rencontres/{meeting_id}/emargement")
    assert sheet.status_code == 200 and "Feuille d'émargement" in sheet.text and "Régie de quartier" in sheet.text
    found = client.get("/t/agen/cafe/recherche", params={"q": "alternance"})
    assert "Mission locale de l&#39;Agenais" in found.text
    figures = client.get("/t/agen/rencontres/chiffres", params={"du": "2026-01-01", "au": "2026-12-31", "module": "cafe"})
    assert "25 %" in figures.text  # 1 of 4 invited structures present


def test_a_referent_adds_only_its_own_news(trame: Trame, agen: dict[str, str], client: Any) -> None:
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2026-03-06", host_structure_id=agen["cs"])
    user = helpers.referent(trame, agen["ml"])
    response = client.post(
        f"/api/v1/territories/agen/cafe/cafes/{mid}/round-table", json={"structure_id": agen["cs"], "news": "x"}, headers=user.headers
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/territories/agen/cafe/cafes/{mid}/round-table",
        json={"structure_id": agen["ml"], "news": "Nos nouvelles."},
        headers=user.headers,
    )
    assert response.status_code == 201 and response.json()[0]["news"] == "Nos nouvelles."
    member = make_user(trame, "membre@agen.example", territory="agen", role="member")
    assert (
        client.post(
            f"/api/v1/territories/agen/cafe/cafes/{mid}/round-table", json={"structure_id": agen["ml"], "news": "x"}, headers=member.headers
        ).status_code
        == 403
    )


def test_cafe_switched_off_for_joigny_on_for_agen(trame: Trame, agen: dict[str, str], client: Any) -> None:
    helpers.territory(trame, "joigny", plugins=("annuaire", "rencontres"))
    joigny = helpers.coordinator(trame, "joigny")
    agen_user = helpers.coordinator(trame)
    assert client.get("/api/v1/territories/joigny/cafe/cafes", headers=joigny.headers).status_code == 404
    assert client.get("/api/v1/territories/agen/cafe/cafes", headers=agen_user.headers).status_code == 200
    login(client, joigny.email)
    assert client.get("/t/joigny/cafe/").status_code == 404
    assert client.get("/t/joigny/rencontres/").status_code == 200
    assert "Café partenaires" not in client.get("/t/joigny/").text


def test_round_table_news_naming_someone_is_kept_back_until_confirmed(trame: Trame, agen: dict[str, str], client: Any) -> None:
    """Shared secrecy at the round table: the news comes back with the reason, saved once confirmed."""
    mid = cafes(trame).plan("agen", author=SYSTEM, day="2026-03-06", host_structure_id=agen["cs"])
    user = helpers.referent(trame, agen["ml"])
    login(client, user.email)
    url = f"/t/agen/cafe/{mid}"
    news = "Nous accompagnons M. Ferrand vers un logement."
    warned = client.post(f"{url}/tour-de-table", data={"news": news, "_csrf_token": csrf_of(client.get(url).text)})
    assert warned.status_code == 422
    assert "« M. Ferrand » : une civilité suivie d&#39;un nom désigne une personne." in warned.text
    assert f">{news}</textarea>" in warned.text and 'name="confirmer_noms"' in warned.text
    assert cafes(trame).round_table("agen", mid) == []
    saved = client.post(
        f"{url}/tour-de-table", data={"news": news, "confirmer_noms": "1", "_csrf_token": csrf_of(warned.text)}, follow_redirects=False
    )
    assert saved.status_code == 303 and [e["news"] for e in cafes(trame).round_table("agen", mid)] == [news]


def test_a_full_cafe_puts_late_registrations_on_a_waiting_list(trame: Trame, agen: dict[str, str], client: Any) -> None:
    """Seed 001, « réguler la fréquentation »: with 2 places, the third structure to answer « je viens »
    through its link waits; when one declines, the first waiting takes its place; figures per café."""
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2026-03-06", host_structure_id=agen["cs"])
    svc.set_capacity("agen", mid, 2, author=SYSTEM)
    tokens = {link.structure_id: link.url.rsplit("/", 1)[1] for link in svc.invite("agen", mid, author=SYSTEM).links}

    def answer(key: str, what: str) -> None:
        svc.meetings.answer_with_token("agen", tokens[agen[key]], structure_id=agen[key], answer=what)

    def lists() -> tuple[list[str], list[str]]:
        r = svc.registrations("agen", mid)
        return [x["name"] for x in r["inscrit"]], [x["name"] for x in r["attente"]]

    answer("ml", "coming")
    answer("regie", "someone_else")  # a colleague comes: the structure takes a place
    answer("cms", "coming")
    answer("ml", "coming")  # answering again keeps its place
    assert lists() == (["Mission locale de l'Agenais", "Régie de quartier"], ["Centre médico-social de Montanou"])
    answer("regie", "not_coming")
    assert lists() == (["Mission locale de l'Agenais", "Centre médico-social de Montanou"], [])
    answer("cs", "coming")
    svc.set_capacity("agen", mid, None, author=SYSTEM)  # no limit any more: everyone who comes has a place
    assert lists() == (["Mission locale de l'Agenais", "Centre médico-social de Montanou", "Centre social Nord-Est d'Agen"], [])
    svc.set_capacity("agen", mid, 1, author=SYSTEM)
    assert lists() == (["Mission locale de l'Agenais"], ["Centre médico-social de Montanou", "Centre social Nord-Est d'Agen"])
    before = lists()
    trame.runner.rebuild(["cafe"])  # the order follows the log: a rebuild gives the same lists
    assert lists() == before
    with pytest.raises(Refused, match="entre 1 et 1000"):
        svc.set_capacity("agen", mid, 0, author=SYSTEM)

    login(client, make_user(trame, "coordination@agen.example", territory="agen", role="coordinator").email)
    page = client.get(f"/t/agen/cafe/{mid}").text
    assert "1 structure(s) inscrite(s) sur 1 place(s), 2 en liste d'attente" in page
    index = client.get("/t/agen/cafe/").text
    row = index.split("Fréquentation par café", 1)[1]
    cells = '<td data-label="Places">1</td><td data-label="Inscrites">1</td>'
    cells += '<td data-label="En attente">2</td><td data-label="Présentes">0</td>'
    assert f'<a href="/t/agen/cafe/{mid}">06/03/2026</a></th>{cells}' in row
    changed = post_form(client, f"/t/agen/cafe/{mid}", f"/t/agen/cafe/{mid}/capacite", {"capacity": "3"})
    assert changed.status_code == 303 and len(svc.registrations("agen", mid)["inscrit"]) == 3


def test_a_partner_registers_through_its_answer_link_without_an_account(trame: Trame, agen: dict[str, str], client: Any) -> None:
    """The answer page of the e-mailed link is the registration: with one place left, the second
    structure to say « je viens » there waits, and takes the place when the first withdraws."""
    svc = cafes(trame)
    mid = svc.plan("agen", author=SYSTEM, day="2026-03-06", host_structure_id=agen["cs"])
    svc.set_capacity("agen", mid, 1, author=SYSTEM)
    tokens = {link.structure_id: link.url.rsplit("/", 1)[1] for link in svc.invite("agen", mid, author=SYSTEM).links}

    def answer(key: str, what: str) -> None:
        url = f"/t/agen/rencontres/reponse/{tokens[agen[key]]}"
        sent = client.post(
            url, data={"structure_id": agen[key], "answer": what, "_csrf_token": csrf_of(client.get(url).text)}, follow_redirects=False
        )
        assert sent.status_code == 303

    def lists() -> tuple[list[str], list[str]]:
        r = svc.registrations("agen", mid)
        return [x["structure_id"] for x in r["inscrit"]], [x["structure_id"] for x in r["attente"]]

    answer("ml", "coming")
    answer("regie", "coming")
    assert lists() == ([agen["ml"]], [agen["regie"]])
    assert svc.figures("agen", [mid])[mid] == {"capacity": 1, "inscrit": 1, "attente": 1, "present": 0}
    answer("ml", "not_coming")
    assert lists() == ([agen["regie"]], [])
