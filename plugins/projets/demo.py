"""Demo data for Meaux: the 2012 working group's project sheet (seed 000: « Faire fiche projet pour
groupe »), its partners, the follow-up actions of its meeting of 5 January 2012, and a shared
diagnosis written by three structures. Every person is fictional; no person helped is named."""

from __future__ import annotations

from core.application import Trame
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.projets.service import SheetIn, projects
from plugins.rencontres import public as rencontres

TITLE = "Groupe bénévoles / professionnels de l'action sociale — 2012"
PARTNERS = {
    "RESO77": "anime le groupe et tient l'aide-mémoire",
    "Maison départementale des solidarités de Meaux": "service social départemental",
    "Maison départementale des solidarités de Provins": "service social départemental (territoire rural)",
    "Croix-Rouge française – unité locale de Meaux": "bénévoles",
    "Secours Catholique – équipe de Meaux": "bénévoles",
    "Mission locale de Meaux": "jeunes de 16 à 25 ans",
    "Maison de l'emploi de Meaux": "emploi, prise en charge globale",
    "AEDE – Résidence Les Servins": "accueille la rencontre du 15 mars",
}
NEEDS = (
    ("Maison départementale des solidarités de Meaux", "acces-aux-droits",
     "Des orientations vers les associations caritatives faites sans savoir qui y répond, depuis la restructuration.",
     "Réunion d'équipe de la MDS, décembre 2011"),
    ("Secours Catholique – équipe de Meaux", "acces-aux-droits",
     "Les bénévoles ne connaissent pas les nouveaux métiers de l'insertion et ne savent pas vers qui orienter.",
     "Permanences d'accueil, automne 2011"),
    ("Mission locale de Meaux", "emploi-insertion",
     "Des jeunes en situation difficile arrivent sans que les partenaires sociaux connaissent l'offre de la Mission locale.",
     "Bilan d'activité 2011 de la Mission locale"),
)  # fmt: skip


def load(trame: Trame, territory: str) -> None:
    svc = projects(trame)
    if territory != "meaux" or any(p["title"] == TITLE for p in svc.projects(territory)):
        return
    meeting_id = rencontres.working_group_demo(trame, territory)
    if meeting_id is None:
        return
    pid = svc.open(
        territory,
        SheetIn(
            title=TITLE,
            scope="groupe",
            group="Bénévoles associations caritatives / Professionnels action sociale (RESO77)",
            summary="Faire se connaître bénévoles et professionnels de Meaux et Provins, tenir l'aide-mémoire à jour, "
            "et mettre la hiérarchie dans le coup.",
            objectives=[
                "Bien définir les objectifs du groupe",
                "Tenir à jour l'aide-mémoire (adresses génériques des structures)",
                "Mieux connaître les métiers de chacun (micro-thèmes avec intervenant)",
                "Associer les responsables des structures",
                "Valoriser le travail du groupe",
            ],
            status="en-cours",
            starts_on="2012-01-05",
            ends_on="2012-12-31",
        ),
        author=SYSTEM,
    )
    for name, role in PARTNERS.items():
        s = annuaire.find_by_name(trame, territory, name)
        if s is not None:
            svc.involve(territory, pid, s.id, author=SYSTEM, role=role)
    decided = rencontres.meetings(trame).actions_of(territory, meeting_id)
    for action in decided:
        svc.attach_action(territory, pid, action["action_id"], author=SYSTEM)
    reso = annuaire.find_by_name(trame, territory, "RESO77")
    svc.plan_step(territory, pid, author=SYSTEM, title="Rencontre du groupe à la Résidence Les Servins", due="2012-03-15",
                  owner_structure_id=reso.id if reso else None)  # fmt: skip
    svc.plan_step(territory, pid, author=SYSTEM, title="Conférence ouverte aux responsables", due="2012-06-30",
                  owner_structure_id=reso.id if reso else None)  # fmt: skip
    svc.link_document(territory, pid, author=SYSTEM, title="Compte rendu du 5 janvier 2012",
                      url=f"{trame.settings.base_url}/t/{territory}/rencontres/{meeting_id}")  # fmt: skip
    for name, theme, need, source in NEEDS:
        s = annuaire.find_by_name(trame, territory, name)
        if s is not None:
            svc.observe_need(territory, pid, author=SYSTEM, structure_id=s.id, theme=theme, need=need, source=source)
