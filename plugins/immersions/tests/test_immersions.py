"""Immersions in pairs: pairing across the two fields and never inside one structure, links
without an account, feedback and the report, personal data, roles and the plugin switch."""

from __future__ import annotations

from typing import Any

import pytest

from core.application import Trame
from core.refusals import Refused, Why
from core.store import SYSTEM
from core.testing import csrf_of, login, make_user, post_form, refused
from plugins.annuaire import public as annuaire
from plugins.immersions.service import digest, immersions
from plugins.immersions.tests import helpers

T = "valfleuri"
API = f"/api/v1/territories/{T}/immersions"
ANSWERS = {
    "expectations": "Que le social lève les freins avant l'entrée en parcours.",
    "convergences": "Accueillir, informer, orienter, accompagner.",
    "obstacles": "Une vision du parcours en escalier.",
    "recommendations": "Un lexique partagé et une personne ressource par institution.",
}


@pytest.fixture
def ids(trame: Trame) -> dict[str, str]:
    return helpers.territory(trame)


@pytest.fixture
def prog(trame: Trame, ids: dict[str, str]) -> helpers.Programme:
    return helpers.programme(trame, ids)


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_binome_inside_one_structure_is_refused_and_never_suggested(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    # The CCAS also has an employment adviser: same structure, other field.
    zoe = svc.join(T, prog.id, author=SYSTEM, structure_id=prog.structures["ccas"], field="emploi", full_name="Zoé Perrin")
    offer = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["hugo"], day="2012-10-10", length="matin")
    request = svc.request(T, prog.id, author=SYSTEM, participant_id=zoe)
    with pytest.raises(Refused) as refused:
        svc.pair(T, prog.id, offer, request, author=SYSTEM, send=False)
    assert refused.value.status == 400 and refused.value.field == "offer_id"
    assert "deux structures différentes" in refused.value.message and "propre structure" in refused.value.message
    assert svc.suggestions(T, prog.id) == []  # the only free offer is her own structure's
    assert svc.pairs(T, prog.id) == [] and svc.meetings.list(T, plugin="immersions") == []  # nothing scheduled
    other = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["marie"], day="2012-10-11", length="journee")
    (suggestion,) = svc.suggestions(T, prog.id)
    assert (suggestion.request_id, suggestion.offer_id) == (request, other)
    assert suggestion.host_structure == "CHRS Les Tilleuls" and suggestion.visitor_structure == "CCAS du Val-Fleuri"


def test_a_binome_crosses_the_two_fields(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    offer = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["ines"], day="2012-10-10", length="matin")
    request = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["paul"])  # both of the employment field
    with pytest.raises(Refused, match="croise les deux champs"):
        svc.pair(T, prog.id, offer, request, author=SYSTEM, send=False)
    social = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["marie"])
    svc.pair(T, prog.id, offer, social, author=SYSTEM, send=False)
    with pytest.raises(Refused, match="déjà attribué"):
        svc.pair(T, prog.id, offer, social, author=SYSTEM, send=False)


def test_the_day_is_a_meeting_at_the_host_and_each_side_confirms_with_its_own_link(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    offer = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["marie"], day="2012-10-12", length="apres-midi")
    request = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["ines"], wish="demi-journee")
    delivery = svc.pair(T, prog.id, offer, request, author=SYSTEM, send=False)
    host_url, visitor_url = (link.url for link in delivery.links)
    assert [link.side for link in delivery.links] == ["host", "visitor"] and not any(link.sent for link in delivery.links)
    assert delivery.links[0].addresses == ["chrs@valfleuri.example"]
    (pair,) = svc.pairs(T, prog.id)
    m = svc.meetings.require(T, pair["meeting_id"])
    assert (m["plugin"], m["day"], m["start_time"], m["end_time"]) == ("immersions", "2012-10-12", "13:30", "17:00")
    assert m["place_label"] == "CHRS Les Tilleuls, 1 place de la Mairie"
    assert m["title"] == "Immersion : Maison de l'emploi du Val-Fleuri chez CHRS Les Tilleuls"
    # Only digests are stored, never the tokens.
    with trame.db.read() as cur:
        log = b"".join(bytes(r["state"]) for r in cur.execute("SELECT state FROM stored_events").fetchall())
    assert _token(host_url).encode() not in log and digest(_token(host_url)).encode() in log
    svc.confirm_with_token(T, _token(host_url), answer="confirmed")
    assert svc.pairs(T, prog.id)[0]["answers"] == {"host": "confirmed", "visitor": None}
    svc.confirm_with_token(T, _token(visitor_url), answer="confirmed", comment="Avec plaisir")
    assert svc.pairs(T, prog.id)[0]["confirmed"]
    # New links: the old ones stop working.
    again = svc.reissue_links(T, prog.id, pair["pair_id"], author=SYSTEM, send=False)
    with pytest.raises(Refused) as old:
        svc.confirm_with_token(T, _token(host_url), answer="declined")
    assert old.value.status == 404
    svc.confirm_with_token(T, _token(again.links[0].url), answer="declined")
    assert svc.pairs(T, prog.id)[0]["answers"]["host"] == "declined"


def _stream(programme_id: str) -> Any:
    from plugins.immersions.service import programme_stream

    return programme_stream(programme_id)


def test_feedback_after_the_day_fills_the_report_with_figures(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    o1 = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["marie"], day="2012-10-12", length="journee")
    o2 = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["ines"], day="2012-10-15", length="matin")
    svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["hugo"], day="2012-10-16", length="matin")
    r1 = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["paul"])
    r2 = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["marie"])
    svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["lea"])
    first = svc.pair(T, prog.id, o1, r1, author=SYSTEM, send=False)
    svc.pair(T, prog.id, o2, r2, author=SYSTEM, send=False)
    svc.feedback_with_token(T, _token(first.links[1].url), ANSWERS)
    svc.feedback_with_token(T, _token(first.links[0].url), {"convergences": "Le diagnostic, fait des deux côtés."})
    with pytest.raises(Refused, match="au moins une"):
        svc.feedback_with_token(T, _token(first.links[0].url), {})
    report = svc.report(T, prog.id)
    f = report["figures"]
    assert (f["participants"], f["by_field"], f["offers"], f["requests"], f["pairs"], f["completed"], f["feedback"]) == (
        5,
        {"social": 2, "emploi": 3},
        3,
        3,
        2,
        1,
        2,
    )
    assert report["answers"]["convergences"] == {
        "social": [{"text": "Le diagnostic, fait des deux côtés.", "sources": ["CHRS Les Tilleuls (structure d'accueil)"]}],
        "emploi": [
            {
                "text": "Accueillir, informer, orienter, accompagner.",
                "sources": ["Mission locale du Val-Fleuri (professionnel·le en immersion)"],
            }
        ],
    }
    assert report["answers"]["obstacles"]["social"] == []


def test_a_cancelled_binome_frees_its_offer_and_request_and_its_day(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    offer = svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["hugo"], day="2012-10-10", length="matin")
    request = svc.request(T, prog.id, author=SYSTEM, participant_id=prog.people["ines"])
    delivery = svc.pair(T, prog.id, offer, request, author=SYSTEM, send=False)
    (pair,) = svc.pairs(T, prog.id)
    svc.mark_held(T, prog.id, pair["pair_id"], author=SYSTEM)
    assert svc.report(T, prog.id)["figures"]["completed"] == 1
    svc.cancel_pair(T, prog.id, pair["pair_id"], author=SYSTEM, reason="indisponible")
    assert svc.pairs(T, prog.id) == [] and svc.report(T, prog.id)["figures"]["completed"] == 0
    assert svc.meetings.require(T, pair["meeting_id"])["status"] == "cancelled"
    assert svc.by_token(T, _token(delivery.links[0].url)) is None
    (again,) = svc.suggestions(T, prog.id)
    assert (again.offer_id, again.request_id) == (offer, request)
    with pytest.raises(Refused, match="déjà annulé"):
        svc.cancel_pair(T, prog.id, pair["pair_id"], author=SYSTEM)


def test_feedback_waits_for_the_day(trame: Trame, ids: dict[str, str]) -> None:
    from core import clock

    svc = immersions(trame)
    prog = helpers.programme(trame, ids)
    next_year = str(int(clock.paris_today()[:4]) + 1)
    later = svc.open_programme(
        T, author=SYSTEM, title="Plus tard", starts_on=f"{next_year}-01-05", ends_on=f"{next_year}-03-01", fields=("emploi", "social")
    )
    host = svc.join(T, later, author=SYSTEM, structure_id=ids["chrs"], field="social", full_name="Marie Dufour")
    visitor = svc.join(T, later, author=SYSTEM, structure_id=ids["ml"], field="emploi", full_name="Paul Lemaire")
    o = svc.offer(T, later, author=SYSTEM, host_participant_id=host, day=f"{next_year}-01-06", length="matin")
    r = svc.request(T, later, author=SYSTEM, participant_id=visitor)
    delivery = svc.pair(T, later, o, r, author=SYSTEM, send=False)
    with pytest.raises(Refused, match="après l'immersion") as refused:
        svc.feedback_with_token(T, _token(delivery.links[1].url), ANSWERS)
    assert refused.value.status == 409
    with pytest.raises(Refused, match="pendant le programme"):
        svc.offer(T, prog.id, author=SYSTEM, host_participant_id=prog.people["ines"], day="2013-01-10", length="matin")


def test_a_name_typed_here_is_encrypted_in_the_log_and_erasable(trame: Trame, prog: helpers.Programme) -> None:
    svc = immersions(trame)
    with trame.db.read() as cur:
        stored = b"".join(bytes(r["state"]) for r in cur.execute("SELECT state FROM stored_events").fetchall())
    assert b"Marie Dufour" not in stored
    marie = prog.people["marie"]
    assert next(p for p in svc.participants(T, prog.id) if p["participant_id"] == marie)["name"] == "Marie Dufour"
    svc.erase_participant(T, prog.id, marie, author=SYSTEM)
    after = next(p for p in svc.participants(T, prog.id) if p["participant_id"] == marie)
    assert (after["name"], after["erased"], after["structure_name"]) == ("personne effacée", True, "CHRS Les Tilleuls")
    trame.runner.rebuild(["immersions"])
    assert next(p for p in svc.participants(T, prog.id) if p["participant_id"] == marie)["name"] == "personne effacée"
    joined = next(r.event for r in trame.store.stream(_stream(prog.id)) if getattr(r.event, "participant_id", None) == marie)
    assert joined.full_name is None  # type: ignore[attr-defined]


def test_a_directory_contact_keeps_its_name_in_the_directory(trame: Trame, prog: helpers.Programme) -> None:
    d = annuaire.directory(trame)
    from plugins.annuaire.schemas import ContactIn, PersonIn  # test set-up: a contact, as the directory records one

    person_id, _ = d.create_person(T, PersonIn(name="Sarah Colin", email="s.colin@valfleuri.example"), SYSTEM)
    d.start_contact(T, prog.structures["ml"], ContactIn(person_id=person_id, role="referent"), SYSTEM)
    svc = immersions(trame)
    with pytest.raises(Refused, match="contact actuel"):
        svc.join(T, prog.id, author=SYSTEM, structure_id=prog.structures["chrs"], field="social", person_id=person_id)
    sarah = svc.join(T, prog.id, author=SYSTEM, structure_id=prog.structures["ml"], field="emploi", person_id=person_id, full_name="ignoré")
    assert next(p for p in svc.participants(T, prog.id) if p["participant_id"] == sarah)["name"] == "Sarah Colin"
    with pytest.raises(Refused, match="depuis sa fiche"):
        svc.erase_participant(T, prog.id, sarah, author=SYSTEM)
    d.erase_person(T, person_id, SYSTEM)
    assert "Sarah Colin" not in {p["name"] for p in svc.participants(T, prog.id)}


def test_ids_of_another_territory_are_absent(trame: Trame, prog: helpers.Programme) -> None:
    other_ids = helpers.territory(trame, "ailleurs")
    svc = immersions(trame)
    with refused(Why.ABSENT):
        svc.join(T, prog.id, author=SYSTEM, structure_id=other_ids["chrs"], field="social", full_name="Jeanne Roy")
    with pytest.raises(Refused) as caught:
        svc.join("ailleurs", prog.id, author=SYSTEM, structure_id=other_ids["chrs"], field="social", full_name="Jeanne Roy")
    assert caught.value.status == 404


def test_api_checks_roles_and_answers_in_french(trame: Trame, prog: helpers.Programme, client: Any) -> None:
    coordinator = make_user(trame, "coordination@valfleuri.example", territory=T, role="coordinator")
    member = make_user(trame, "membre@valfleuri.example", territory=T, role="member")
    referent = make_user(trame, "referent@valfleuri.example", territory=T, role="referent", structure_id=prog.structures["chrs"])
    body = {"title": "Autre", "starts_on": "2013-01-01", "ends_on": "2013-02-01", "fields": ["social", "emploi"]}
    assert client.post(f"{API}/programmes", json=body, headers=member.headers).status_code == 403
    bad = client.post(f"{API}/programmes", json={**body, "fields": ["social", "social"]}, headers=coordinator.headers)
    assert bad.status_code == 400 and "deux champs" in bad.json()["detail"]
    # A referent offers for their own structure only.
    own = client.post(
        f"{API}/programmes/{prog.id}/offers",
        json={"host_participant_id": prog.people["marie"], "day": "2012-10-10", "length": "matin"},
        headers=referent.headers,
    )
    assert own.status_code == 201, own.text
    foreign = client.post(
        f"{API}/programmes/{prog.id}/offers",
        json={"host_participant_id": prog.people["hugo"], "day": "2012-10-10", "length": "matin"},
        headers=referent.headers,
    )
    assert foreign.status_code == 403 and "votre propre structure" in foreign.json()["detail"]
    request = client.post(f"{API}/programmes/{prog.id}/requests", json={"participant_id": prog.people["ines"]}, headers=coordinator.headers)
    assert request.status_code == 201
    assert client.get(f"{API}/programmes/{prog.id}/suggestions", headers=member.headers).status_code == 403
    (suggestion,) = client.get(f"{API}/programmes/{prog.id}/suggestions", headers=coordinator.headers).json()
    pair = {"offer_id": suggestion["offer_id"], "request_id": suggestion["request_id"]}
    assert client.post(f"{API}/programmes/{prog.id}/pairs", json=pair, headers=referent.headers).status_code == 403
    paired = client.post(f"{API}/programmes/{prog.id}/pairs", json=pair, headers=coordinator.headers)
    assert paired.status_code == 201 and [link["side"] for link in paired.json()["links"]] == ["host", "visitor"]
    again = client.post(f"{API}/programmes/{prog.id}/pairs", json=pair, headers=coordinator.headers)
    assert again.status_code == 409 and again.json()["detail"] == "Cet accueil est déjà attribué à un binôme."
    report = client.get(f"{API}/programmes/{prog.id}/report", headers=member.headers).json()
    assert (report["participants"], report["offers"], report["requests"], report["pairs"]) == (5, 1, 1, 1)
    missing = client.get(f"{API}/programmes/00000000-0000-0000-0000-000000000000", headers=member.headers)
    assert missing.status_code == 404 and "n'existe pas" in missing.json()["detail"]


def test_plugin_off_in_a_territory_is_404_pages_api_and_links(trame: Trame, prog: helpers.Programme, client: Any) -> None:
    helpers.territory(trame, "sansimmersion", plugins=("annuaire", "rencontres"))
    for slug in (T, "sansimmersion"):
        make_user(trame, f"coordination@{slug}.example", territory=slug, role="coordinator")
    on = make_user(trame, "api@valfleuri.example", territory=T, role="member")
    off = make_user(trame, "api@sansimmersion.example", territory="sansimmersion", role="member")
    assert client.get(f"{API}/programmes", headers=on.headers).status_code == 200
    assert client.get("/api/v1/territories/sansimmersion/immersions/programmes", headers=off.headers).status_code == 404
    login(client, "coordination@sansimmersion.example")
    assert client.get("/t/sansimmersion/immersions/").status_code == 404
    assert client.get("/t/sansimmersion/immersions/lien/nimportequoi").status_code == 404
    client.cookies.clear()
    login(client, "coordination@valfleuri.example")
    assert client.get("/t/valfleuri/immersions/").status_code == 200


def test_a_coordinator_runs_a_programme_from_the_pages_and_each_side_answers_by_link(
    trame: Trame, ids: dict[str, str], client: Any
) -> None:
    make_user(trame, "coordination@valfleuri.example", territory=T, role="coordinator")
    login(client, "coordination@valfleuri.example")
    opened = post_form(
        client,
        "/t/valfleuri/immersions/",
        "/t/valfleuri/immersions/nouveau",
        {"title": "Du social à l'emploi", "starts_on": "2012-10-01", "ends_on": "2012-11-30", "field_a": "social", "field_b": "emploi"},
    )
    assert opened.status_code == 303, opened.text
    url = opened.headers["location"]
    for structure, field, name in ((ids["chrs"], "social", "Marie <Dufour>"), (ids["ml"], "emploi", "Paul Lemaire")):
        done = post_form(
            client, url, f"{url}/participants", {"structure_id": structure, "field": field, "full_name": name, "person_id": ""}
        )
        assert done.status_code == 303, done.text
    page = client.get(url)
    assert "Marie &lt;Dufour&gt;" in page.text and "<Dufour>" not in page.text  # escaped
    svc = immersions(trame)
    pid = url.rsplit("/", 1)[1]
    people = {p["structure_id"]: p["participant_id"] for p in svc.participants(T, pid)}
    offered = post_form(
        client, url, f"{url}/accueils", {"host_participant_id": people[ids["chrs"]], "day": "2012-10-12", "length": "journee"}
    )
    assert offered.status_code == 303
    asked = post_form(client, url, f"{url}/demandes", {"participant_id": people[ids["ml"]], "wish": "journee"})
    assert asked.status_code == 303
    page = client.get(url)
    assert "Former le binôme de Paul Lemaire" in page.text
    (s,) = svc.suggestions(T, pid)
    paired = client.post(f"{url}/binomes", data={"offer_id": s.offer_id, "request_id": s.request_id, "_csrf_token": csrf_of(page.text)})
    assert paired.status_code == 200 and paired.text.count("/immersions/lien/") == 2
    links = [line.split('value="')[1].split('"')[0] for line in paired.text.splitlines() if "/immersions/lien/" in line]
    # The host answers without an account.
    client.cookies.clear()
    host_link = links[0].replace("http://testserver", "")
    host_page = client.get(host_link)
    assert host_page.status_code == 200 and "Je confirme" in host_page.text and "Paul Lemaire" in host_page.text
    confirmed = client.post(host_link, data={"answer": "confirmed", "comment": "", "_csrf_token": csrf_of(host_page.text)})
    assert confirmed.status_code == 200 and "Confirmé" in confirmed.text
    fed = client.post(f"{host_link}/retour", data={**ANSWERS, "_csrf_token": csrf_of(confirmed.text)})
    assert fed.status_code == 200 and "votre retour est enregistré" in fed.text
    login(client, "coordination@valfleuri.example")
    report = client.get(f"{url}/bilan")
    assert report.status_code == 200 and "Une vision du parcours en escalier." in report.text
    assert "immersions.css" in report.text and "Immersions réalisées" in report.text
    meeting_id = svc.pairs(T, pid)[0]["meeting_id"]
    assert client.get(f"/t/valfleuri/immersions/{meeting_id}", follow_redirects=False).headers["location"].startswith(url)


def test_demo_is_the_mdem_day_with_29_participants_and_its_report(trame: Trame) -> None:
    from plugins.immersions.demo import load

    helpers.territory(trame, "marseille")
    load(trame, "marseille")
    load(trame, "marseille")  # idempotent
    svc = immersions(trame)
    (p,) = svc.programmes("marseille")
    f = svc.report("marseille", p["programme_id"])["figures"]
    assert (f["participants"], f["by_field"]) == (29, {"social": 11, "emploi": 18})
    assert (f["offers"], f["requests"], f["pairs"], f["completed"]) == (34, 29, 27, 26)
    for pair in svc.pairs("marseille", p["programme_id"]):
        assert pair["host"]["structure_id"] != pair["visitor"]["structure_id"]
        assert pair["host"]["field"] != pair["visitor"]["field"]
