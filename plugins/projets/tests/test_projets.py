"""Project sheets: a sheet with its partners, steps, the meetings' actions and documents, its
history; a shared diagnosis each structure writes for itself; and the Meaux demo (the 2012
working group's sheet, its questionnaire answered, its minutes mailed to everyone invited)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.application import Trame
from core.refusals import Refused, Why
from core.store import SYSTEM
from core.testing import login, make_user, post_form, refused
from plugins.annuaire import public as annuaire
from plugins.evaluations.tests import helpers
from plugins.projets.service import SheetIn, projects
from plugins.rencontres import public as rencontres

T = "valfleuri"


@pytest.fixture
def ids(trame: Trame) -> dict[str, str]:
    return helpers.territory(trame, plugins=("annuaire", "rencontres", "projets"))


def test_a_sheet_gathers_partners_steps_meeting_actions_and_documents_with_its_history(trame: Trame, ids: dict[str, str]) -> None:
    svc = projects(trame)
    pid = svc.open(T, SheetIn(title="Épicerie sociale", objectives=["Ouvrir en 2013", ""], starts_on="01/09/2012"), author="coord@x")
    svc.involve(T, pid, ids["ccas"], author="coord@x", role="porteur")
    svc.plan_step(T, pid, author="coord@x", title="Trouver un local", due="2012-11-30", owner_structure_id=ids["ccas"])
    m = rencontres.meetings(trame)
    meeting_id = m.schedule(T, author=SYSTEM, title="Groupe de travail", day="2012-09-14", start="09:00", end="10:30",
                            place=m.place(T, kind="text", text="Mairie"))  # fmt: skip
    action_id = m.open_action(T, meeting_id, author=SYSTEM, title="Chiffrer le projet", owner_structure_id=ids["ml"])
    svc.attach_action(T, pid, action_id, author="coord@x")
    with pytest.raises(Refused) as twice:
        svc.attach_action(T, pid, action_id, author="coord@x")
    assert twice.value.status == 409
    svc.link_document(T, pid, author="coord@x", title="Note d'opportunité", url="https://exemple.fr/note.pdf")
    svc.amend(T, pid, SheetIn(title="Épicerie sociale du Val-Fleuri", status="en-cours"), author="coord@x", reason="nom choisi")
    sheet = svc.sheet(T, pid)
    assert sheet["title"] == "Épicerie sociale du Val-Fleuri" and sheet["status_label"] == "En cours"
    assert [(p["structure_name"], p["role"]) for p in sheet["partners"]] == [("CCAS du Val-Fleuri", "porteur")]
    assert [(s["title"], s["owner_name"], s["due_label"]) for s in sheet["steps"]] == [
        ("Trouver un local", "CCAS du Val-Fleuri", "30/11/2012")
    ]
    (action,) = sheet["actions"]
    assert (action["title"], action["owner_name"], action["meeting_label"]) == (
        "Chiffrer le projet", "Mission locale du Val-Fleuri", "Groupe de travail du 14/09/2012",
    )  # fmt: skip
    history = svc.history(T, pid)
    assert history[0].label == "Fiche projet modifiée" and history[0].reason == "nom choisi" and history[0].author == "coord@x"
    assert [h.label for h in history][-1] == "Fiche projet créée" and len(history) == 6


def test_another_territorys_structure_or_action_is_absent(trame: Trame, ids: dict[str, str]) -> None:
    other = helpers.territory(trame, "autreville", plugins=("annuaire", "rencontres", "projets"))
    pid = projects(trame).open(T, SheetIn(title="Projet"), author=SYSTEM)
    with refused(Why.ABSENT):
        projects(trame).involve(T, pid, other["ccas"], author=SYSTEM)
    with pytest.raises(Refused) as absent:
        projects(trame).attach_action(T, pid, "pas-une-action", author=SYSTEM)
    assert absent.value.status == 404


def test_each_structure_writes_its_own_part_of_the_shared_diagnosis(trame: Trame, ids: dict[str, str], client: Any) -> None:
    pid = projects(trame).open(T, SheetIn(title="Diagnostic du territoire", scope="reseau"), author=SYSTEM)
    make_user(trame, "referent@ccas.example", territory=T, role="referent", structure_id=ids["ccas"])
    login(client, "referent@ccas.example")
    url = f"/t/{T}/projets/{pid}"
    page = client.get(url)
    assert page.status_code == 200 and "secret partagé" in page.text and "Modifier la fiche" not in page.text
    need = {"need_structure_id": ids["ccas"], "theme": "logement", "need": "Des demandes d'hébergement d'urgence sans réponse le week-end.",
            "source": "Registre de l'accueil, 2012"}  # fmt: skip
    assert post_form(client, url, f"{url}/besoin", need).status_code == 303
    assert post_form(client, url, f"{url}/besoin", {**need, "need_structure_id": ids["ml"]}).status_code == 403  # not its structure
    assert post_form(client, url, f"{url}/partenaire", {"structure_id": ids["ml"]}).status_code == 403  # the coordinator's
    (theme, needs) = projects(trame).sheet(T, pid)["diagnosis"][0]
    assert theme == "Logement, hébergement" and [(n["structure_name"], n["source"]) for n in needs] == [
        ("CCAS du Val-Fleuri", "Registre de l'accueil, 2012")
    ]
    assert "Des demandes d&#39;hébergement d&#39;urgence" in client.get(url).text


@pytest.fixture
def smtp(trame: Trame) -> Iterator[helpers.Inbox]:
    yield from helpers.smtp_server(trame)


def test_the_meaux_demo_has_the_groups_sheet_questionnaire_and_minutes_mailed_to_everyone_invited(
    trame: Trame, smtp: helpers.Inbox
) -> None:
    from core.demo import TERRITORIES
    from plugins.evaluations.service import evaluations

    trame.territories.create("meaux", TERRITORIES["meaux"][0], author=SYSTEM)
    for module in TERRITORIES["meaux"][1]:
        trame.territories.enable("meaux", module, author=SYSTEM)
    annuaire.ensure_demo(trame, "meaux")
    from plugins.evaluations.demo import load as load_evaluations
    from plugins.projets.demo import load as load_projects

    load_evaluations(trame, "meaux")
    load_projects(trame, "meaux")
    (sheet,) = projects(trame).projects("meaux")
    full = projects(trame).sheet("meaux", sheet["project_id"])
    assert len(full["partners"]) == 8 and len(full["actions"]) == 5 and len(full["diagnosis"]) == 2
    assert "Évaluation à envoyer par mail au groupe" in {a["title"] for a in full["actions"]}
    (q,) = evaluations(trame).questionnaires("meaux")
    r = evaluations(trame).results("meaux", q["questionnaire_id"])
    assert (r.invited, r.answered) == (13, 3)
    # The minutes went to every structure invited, present or not (the Centre social was excused).
    (meeting,) = rencontres.meetings(trame).list("meaux")
    invitations = rencontres.meetings(trame).invitations("meaux", meeting["meeting_id"])
    invited = {a for i in invitations for a in annuaire.addresses(trame, "meaux", i["structure_id"])}
    minutes = {r for rcpts, msg in smtp.messages if str(msg["Subject"]).startswith("Compte rendu") for r in rcpts}
    assert minutes == invited and len(invited) == 13
    centre = annuaire.find_by_name(trame, "meaux", "Centre social municipal de Meaux")
    assert centre is not None and centre.email in minutes
