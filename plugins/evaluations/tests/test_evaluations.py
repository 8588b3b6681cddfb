"""Evaluation questionnaires: one answer per structure through its own link (only a digest kept),
editable until closed, sent one message per address through the mailing queue with each
structure's own link, results with figures and free text, and the yearly evaluation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core import mailings
from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import login, make_user, post_form
from plugins.evaluations.service import QuestionIn, digest, evaluations
from plugins.evaluations.tests import helpers
from plugins.evaluations.tests.helpers import T

LINK = re.compile(r"https?://\S+/evaluations/reponse/([A-Za-z0-9_-]+)")


@pytest.fixture
def ids(trame: Trame) -> dict[str, str]:
    return helpers.territory(trame)


@pytest.fixture
def smtp(trame: Trame) -> Iterator[helpers.Inbox]:
    yield from helpers.smtp_server(trame)


def _links(trame: Trame, qid: str) -> dict[str, str]:
    """structure id -> token, as the coordinator's page shows them to copy."""
    return {i.structure_id: str(i.url).rsplit("/", 1)[1] for i in evaluations(trame).invited(T, qid, with_links=True)}


def _sent(trame: Trame, closes_on: str = "2099-12-31") -> str:
    svc = evaluations(trame)
    qid = svc.draft(T, author=SYSTEM, year=2012)
    svc.send(T, qid, author=SYSTEM, list_key="annuaire.territoire", closes_on=closes_on)
    return qid


def test_the_default_questionnaire_is_seed_002s_grid_with_scales(trame: Trame, ids: dict[str, str]) -> None:
    q = evaluations(trame).require(T, evaluations(trame).draft(T, author=SYSTEM, year=2012))
    keys = [question.key for question in q["questions"]]
    assert keys[:6] == ["fonctionne", "freins", "pilotage", "communication", "retour_public", "evolution"]
    assert {question.kind for question in q["questions"][6:]} == {"scale"}


def test_each_structure_answers_once_with_its_own_link_and_may_change_it_until_closed(trame: Trame, ids: dict[str, str]) -> None:
    svc = evaluations(trame)
    qid = _sent(trame)
    links = _links(trame, qid)
    assert set(links) == set(ids.values()) and len(set(links.values())) == 3
    svc.answer_with_token(T, links[ids["ccas"]], {"fonctionne": "On se connaît mieux.", "note_interet": "4"})
    svc.answer_with_token(T, links[ids["ccas"]], {"fonctionne": "On se connaît bien mieux.", "note_interet": "5"})
    r = svc.results(T, qid)
    assert (r.invited, r.answered, r.rate_label) == (3, 1, "33 %")
    (works,) = [t for t in r.texts if t.key == "fonctionne"]
    assert works.answers == [("CCAS du Val-Fleuri", "On se connaît bien mieux.")]  # replaced, not added
    (interest,) = [s for s in r.scales if s.key == "note_interet"]
    assert interest.counts[5] == 1 and interest.counts[4] == 0 and interest.mean_label == "5,0"
    with pytest.raises(Refused) as bad:
        svc.answer_with_token(T, links[ids["ml"]], {"note_interet": "9"})
    assert bad.value.status == 400 and bad.value.field == "note_interet"
    svc.close(T, qid, author=SYSTEM)
    with pytest.raises(Refused) as closed:
        svc.answer_with_token(T, links[ids["ml"]], {"fonctionne": "Trop tard."})
    assert closed.value.status == 409
    assert svc.results(T, qid).answered == 1


def test_only_a_digest_of_each_link_is_stored(trame: Trame, ids: dict[str, str]) -> None:
    qid = _sent(trame)
    links = _links(trame, qid)
    with trame.db.read() as cur:
        stored = {
            r["structure_id"]: r["digest"] for r in cur.execute("SELECT structure_id, digest FROM evaluations_invitations").fetchall()
        }
    assert stored == {sid: digest(token) for sid, token in links.items()}
    log = b"".join(state for *_rest, state in trame.store.raw(0, 10_000))
    assert not any(token.encode() in log for token in links.values())


def test_a_link_of_another_territory_or_a_made_up_one_is_refused(trame: Trame, ids: dict[str, str]) -> None:
    qid = _sent(trame)
    token = next(iter(_links(trame, qid).values()))
    helpers.territory(trame, "autreville")
    with pytest.raises(Refused) as elsewhere:
        evaluations(trame).answer_with_token("autreville", token, {"fonctionne": "x"})
    assert elsewhere.value.status == 404
    with pytest.raises(Refused):
        evaluations(trame).answer_with_token(T, token[:-2] + "xx", {"fonctionne": "x"})


def test_questions_are_fixed_once_the_questionnaire_is_sent(trame: Trame, ids: dict[str, str]) -> None:
    svc = evaluations(trame)
    qid = svc.draft(T, author=SYSTEM, year=2012)
    svc.amend(T, qid, author=SYSTEM, title="Bilan 2012", year=2012, intro="", questions=[QuestionIn("Ce qui fonctionne"), QuestionIn("")])
    assert [q.label for q in svc.require(T, qid)["questions"]] == ["Ce qui fonctionne"]
    svc.send(T, qid, author=SYSTEM, list_key="annuaire.territoire", closes_on="2099-12-31")
    with pytest.raises(Refused) as refused:
        svc.amend(T, qid, author=SYSTEM, title="Bilan 2012", year=2012, intro="", questions=[QuestionIn("Autre chose")])
    assert refused.value.status == 409


def test_the_questionnaire_is_mailed_one_message_per_address_each_with_its_own_link(
    trame: Trame, ids: dict[str, str], smtp: helpers.Inbox
) -> None:
    qid = _sent(trame)
    assert mailings.send_due(trame).sent == 3
    received = smtp.by_address()
    assert set(received) == {f"{k}@{T}.example" for k in ids}
    links = _links(trame, qid)
    for key, sid in ids.items():
        (msg,) = received[f"{key}@{T}.example"]
        assert msg["To"] == f"{key}@{T}.example"
        assert LINK.findall(helpers.text_of(msg)) == [links[sid]]  # its own link, nobody else's
    # Once the CCAS has answered, sending again (a reminder) writes only to the two others.
    evaluations(trame).answer_with_token(T, links[ids["ccas"]], {"fonctionne": "Oui."})
    evaluations(trame).send(T, qid, author=SYSTEM, list_key="annuaire.territoire", closes_on="2099-12-31")
    assert mailings.send_due(trame).sent == 2
    assert len(smtp.by_address()[f"ccas@{T}.example"]) == 1


def test_a_structure_answers_through_the_page_without_an_account(trame: Trame, ids: dict[str, str], client: Any) -> None:
    qid = _sent(trame)
    token = _links(trame, qid)[ids["chrs"]]
    url = f"/t/{T}/evaluations/reponse/{token}"
    page = client.get(url)
    assert page.status_code == 200 and "CHRS Les Tilleuls" in page.text and "secret partagé" in page.text
    done = post_form(client, url, url, {"fonctionne": "L'accueil de jour ensemble.", "note_pilotage": "3"})
    assert done.status_code == 200 and "est enregistrée" in done.text
    again = client.get(url)
    assert "L&#39;accueil de jour ensemble." in again.text and 'value="3" checked' in again.text
    assert client.get(f"/t/{T}/evaluations/reponse/inconnu").status_code == 404


def test_the_results_page_is_printable_and_feeds_the_yearly_evaluation(trame: Trame, ids: dict[str, str], client: Any) -> None:
    svc = evaluations(trame)
    qid = _sent(trame)
    links = _links(trame, qid)
    svc.answer_with_token(T, links[ids["ccas"]], {"freins": "Les mises à jour tardent.", "note_communication": "4"})
    svc.answer_with_token(T, links[ids["ml"]], {"note_communication": "5"})
    make_user(trame, "membre@valfleuri.example", territory=T, role="member")
    login(client, "membre@valfleuri.example")
    page = client.get(f"/t/{T}/evaluations/{qid}/resultats")
    assert page.status_code == 200
    assert "Taux de réponse</th><td>67 %" in page.text and "4,5" in page.text
    assert "Les mises à jour tardent." in page.text and "CCAS du Val-Fleuri" in page.text
    assert "/static/evaluations/evaluations.css" in page.text and "impression" in page.text
    year = client.get(f"/t/{T}/evaluations/annee/2012")
    assert year.status_code == 200 and "Évaluation 2012 du partenariat" in year.text and "Les mises à jour tardent." in year.text
    assert client.get(f"/t/{T}/evaluations/{qid}").status_code == 403  # the links are the coordinator's


def test_the_coordinator_writes_and_sends_from_the_pages(trame: Trame, ids: dict[str, str], client: Any) -> None:
    make_user(trame, "coord@valfleuri.example", territory=T, role="coordinator")
    login(client, "coord@valfleuri.example")
    created = post_form(client, f"/t/{T}/evaluations/", f"/t/{T}/evaluations/nouveau", {"title": "Bilan du groupe", "year": "2012"})
    assert created.status_code == 303
    page_url = created.headers["location"]
    refused = post_form(client, page_url, f"{page_url}/envoi", {"list_key": "annuaire.territoire", "closes_on": "2001-01-01"})
    assert refused.status_code == 400 and "passée" in refused.text
    sent = post_form(client, page_url, f"{page_url}/envoi", {"list_key": "annuaire.territoire", "closes_on": "2099-12-31"})
    assert sent.status_code == 200 and "3 structure(s) nouvellement invitée(s)" in sent.text
    assert sent.text.count("/evaluations/reponse/") == 3  # without SMTP: each link, to copy
