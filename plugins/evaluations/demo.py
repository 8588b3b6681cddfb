"""Demo data for Meaux: the working group's evaluation questionnaire (seed 000: « Évaluation à
envoyer par mail au groupe »), sent to the structures invited to its meeting of 5 January 2012,
with a few answers. The answers are fictional and name nobody."""

from __future__ import annotations

from core import clock
from core.application import Trame
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.evaluations.service import derive_token, evaluations
from plugins.rencontres import public as rencontres

TITLE = "Évaluation du groupe bénévoles / professionnels"
ANSWERS: dict[str, dict[str, str]] = {
    "Maison départementale des solidarités de Meaux": {
        "fonctionne": "Se connaître : l'aide-mémoire permet d'orienter plus vite vers la bonne structure.",
        "freins": "Depuis la restructuration, le lien est moins personnalisé ; les mises à jour de l'aide-mémoire tardent.",
        "communication": "Les comptes rendus arrivent bien ; une adresse générique par structure éviterait les pertes.",
        "evolution": "Associer les responsables, et élargir par une conférence ouverte.",
        "note_interet": "5",
        "note_pilotage": "4",
        "note_communication": "3",
        "note_connaissance": "3",
    },
    "Secours Catholique – équipe de Meaux": {
        "fonctionne": "Les bénévoles se sentent reconnus par les professionnels.",
        "freins": "Le secret partagé entre bénévoles et professionnels reste à clarifier.",
        "retour_public": "Des orientations mieux préparées, donc moins d'allers-retours entre structures.",
        "note_interet": "4",
        "note_pilotage": "4",
        "note_communication": "4",
        "note_connaissance": "2",
    },
    "Mission locale de Meaux": {
        "fonctionne": "Un outil concret pour les conseillers qui accompagnent des jeunes en situation difficile.",
        "pilotage": "Équitable ; RESO77 anime sans imposer.",
        "evolution": "Mieux faire connaître les métiers de la Mission locale et de la Maison de l'emploi.",
        "note_interet": "5",
        "note_pilotage": "5",
        "note_communication": "4",
        "note_connaissance": "3",
    },
}


def load(trame: Trame, territory: str) -> None:
    if territory != "meaux" or not trame.territories.is_enabled(territory, "rencontres"):
        return
    svc = evaluations(trame)
    if any(q["title"] == TITLE for q in svc.questionnaires(territory)):
        return
    meeting_id = rencontres.working_group_demo(trame, territory)
    if meeting_id is None:
        return
    qid = svc.draft(territory, author=SYSTEM, title=TITLE, year=2012)
    closes_on = f"{int(clock.paris_today()[:4]) + 1}-01-31"  # still open in the demo, to try answering
    svc.send(territory, qid, author=SYSTEM, list_key=f"rencontres.invites.{meeting_id}", closes_on=closes_on)
    with trame.db.read() as cur:
        salts = {
            r["structure_id"]: r["salt"]
            for r in cur.execute("SELECT structure_id, salt FROM evaluations_invitations WHERE questionnaire_id = ?", (qid,)).fetchall()
        }
    for name, values in ANSWERS.items():
        s = annuaire.find_by_name(trame, territory, name)
        if s is not None and s.id in salts:
            svc.answer_with_token(territory, derive_token(trame, territory, qid, s.id, salts[s.id]), values)
