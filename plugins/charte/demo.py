"""Demo charter of Joigny (seed 003): the 2010 charter of partner meetings carried by the CCAS, its nine
commitments, its fifteen operational partners (organisations real, signatories fictional), the Friday
9:00 slot chosen by a vote, meetings every two months from 12 March 2010 with about 70 % attendance,
a withdrawal and a re-signature, a second version, evaluations, and the end of the action in 2012.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from core import clock
from core.store import SYSTEM
from plugins.charte import links
from plugins.charte.service import Charters, charters

if TYPE_CHECKING:
    from core.application import Trame

TITLE = "Charte des rencontres partenariales de Joigny"
PREAMBLE = (
    "La charte des rencontres partenariales de Joigny vise la mobilisation des professionnels (sociaux, médico-sociaux, "
    "associatifs…), en vue d'établir une dynamique partenariale et de favoriser une meilleure cohérence dans les pratiques "
    "des uns et des autres, au bénéfice de tous.\n"
    "Elle vise donc aussi une large diffusion et une appropriation par les acteurs de terrain dans une signature adaptée "
    "à chacun des contextes."
)
PREAMBLE_V2 = PREAMBLE + (
    "\nLes rencontres sont ouvertes aux partenaires invités sans être signataires (centre hospitalier spécialisé, "
    "associations d'aide à la personne, bailleurs publics, associations caritatives), qui peuvent rejoindre la charte."
)
COMMITMENTS = [
    "S'inscrire dans une démarche volontaire, continue et effective, quant à la réponse à apporter aux plus démunis et plus "
    "généralement à toutes les personnes en situation de précarité.",
    "Veiller, dans le cadre de cette démarche, à susciter une collaboration et un intérêt de l'ensemble des acteurs.",
    "Améliorer la continuité du service apporté à la personne.",
    "Coordonner la réponse à apporter à la personne.",
    "Mutualiser les compétences.",
    "Échanger des informations générales.",
    "Promouvoir les nouveaux dispositifs.",
    "Définir la mise en place d'actions (individuelles et/ou collectives) partenariales.",
    "Renforcer le partenariat.",
]
FIRST = "2010-03-12"
V2 = "2011-09-16"
END = "2012-06-29"
#: The fifteen operational partners of seed 003: (as the seed names them, search in the directory, name if missing).
PARTNERS = [
    ("Association Aftam (résidence sociale de Joigny)", "Aftam", "Aftam – résidence sociale de Joigny"),
    ("Caisse d'Allocations Familiales", "Caisse d'allocations familiales", "Caisse d'allocations familiales de l'Yonne"),
    ("Centre Hospitalier de Joigny", "Centre hospitalier de Joigny", "Centre hospitalier de Joigny"),
    ("CLIC de Joigny", "CLIC", "CLIC de Joigny"),
    ("Conseil Général de l'Yonne", "Conseil général", "Conseil général de l'Yonne"),
    ("CRAM Service Social", "CRAM", "CRAM de Bourgogne et de Franche-Comté – service social"),
    ("Croix Rouge de Migennes", "Croix-Rouge Migennes", "Croix-Rouge française – unité locale de Migennes"),
    ("Mission Locale", "Mission locale", "Mission locale – antenne de Joigny"),
    ("SPIP", "SPIP", "SPIP de l'Yonne"),
    ("SMPJPM 89", "SMPJPM", "SMPJPM 89"),
    ("UDAF", "Udaf", "Udaf de l'Yonne"),
    ("agents de santé", "Agents de santé", "Agents de santé du Jovinien"),
    ("ANPAA 89", "ANPAA", "ANPAA 89 (prévention en alcoologie et addictologie)"),
    ("Centre Médico Psychologique", "Centre médico-psychologique", "Centre médico-psychologique de Joigny"),
    ("MDPH", "MDPH", "MDPH de l'Yonne"),
]
#: Invited to the next meetings without signing (seed 003).
INVITED = [
    ("Centre hospitalier spécialisé", "Centre hospitalier spécialisé de l'Yonne (Auxerre)", "2010-05-14"),
    ("aide à domicile", "Associations d'aide à la personne du Jovinien", "2010-05-14"),
    ("bailleurs", "Bailleurs publics de Joigny", "2010-09-10"),
]
#: Who signs for each structure (fictional people): the title agrees with the person, and fits the organisation.
SIGNATORIES = {
    "CCAS de Joigny": ("Claire Martin", "directrice du CCAS"),
    "Aftam": ("Marc Roux", "directeur de la résidence sociale"),
    "Caisse d'allocations familiales": ("Sophie Garnier", "responsable du service d'action sociale"),
    "Centre hospitalier de Joigny": ("Julien Laurent", "directeur adjoint"),
    "CLIC": ("Hélène Boyer", "coordinatrice du CLIC"),
    "Conseil général": ("Olivier Lefèvre", "responsable du territoire d'action sociale"),
    "CRAM": ("Isabelle Mercier", "cheffe du service social"),
    "Croix-Rouge Migennes": ("Pascal Fournier", "président de l'unité locale"),
    "Mission locale": ("Nathalie Guérin", "directrice"),
    "SPIP": ("Thierry Bernard", "directeur pénitentiaire d'insertion et de probation"),
    "SMPJPM": ("Valérie Girard", "cheffe de service"),
    "Udaf": ("Stéphane Blanc", "directeur"),
    "Agents de santé": ("Catherine Moreau", "coordinatrice"),
    "ANPAA": ("Laurent Chevalier", "directeur départemental"),
    "Centre médico-psychologique": ("Sandrine Dubois", "cadre de santé"),
    "MDPH": ("Éric Morel", "directeur"),
}
#: Version 2 re-signed in November 2011; the Udaf has a new director, the Croix-Rouge a new team.
RESIGNATORIES = {
    "Mission locale": ("Nathalie Guérin", "directrice"),
    "CLIC": ("Hélène Boyer", "coordinatrice du CLIC"),
    "Udaf": ("Anne Perrin", "directrice"),
    "SPIP": ("Thierry Bernard", "directeur pénitentiaire d'insertion et de probation"),
    "Croix-Rouge Migennes": ("Martine Lambert", "présidente de l'unité locale"),
}
NEVER_COMES = "MDPH"  # a signatory seen at no meeting: what the participation page is for
WITHDRAWS = "Croix-Rouge Migennes"
#: The poll left open in the demo, to vote in through a structure's own link (issue 17).
REVIEW_QUESTION = "Quel créneau pour la rencontre de bilan de la charte ?"


def _structure(trame: Trame, territory: str, query: str, name: str) -> str:
    found = links.find_structure(trame, territory, query, as_of=clock.parse(FIRST)) or links.find_structure(trame, territory, query)
    if found is not None:
        return found.id
    return links.create_structure(
        trame,
        territory,
        author=SYSTEM,
        name=name,
        communes=["Joigny"],
        effective=FIRST,
        reason="Données de démonstration (charte de Joigny)",
    )


def load(trame: Trame, territory: str) -> None:
    if territory != "joigny":
        return
    svc = charters(trame)
    if svc.all(territory):
        return
    links.ensure_directory_demo(trame, territory)
    carrier = _structure(trame, territory, "CCAS de Joigny", "CCAS de Joigny")
    partners = {query: _structure(trame, territory, query, name) for _label, query, name in PARTNERS}
    cid = svc.draft(
        territory, author=SYSTEM, title=TITLE, preamble=PREAMBLE, commitments=COMMITMENTS, carrier_structure_id=carrier, form="initiative"
    )
    svc.adopt(territory, cid, 1, author=SYSTEM, on=FIRST)
    _slot_vote(svc, territory, cid, [carrier, *partners.values()])
    _signatures(svc, territory, cid, carrier, partners)
    _invitations_and_withdrawal(trame, svc, territory, cid, partners)
    _second_version(svc, territory, cid, partners)
    _meetings(trame, svc, territory, cid, carrier, partners[NEVER_COMES])
    _writings(svc, territory, cid)
    _review_poll(svc, territory, cid, carrier, partners)
    svc.set_status(territory, cid, "ended", author=SYSTEM, on=END, reason="Action plus portée par le CCAS")


def _slot_vote(svc: Charters, territory: str, cid: str, voters: list[str]) -> None:
    """The vote of the first meeting: the majority of partners chose Friday morning; the cycle follows."""
    poll = svc.open_poll(
        territory,
        cid,
        author=SYSTEM,
        question="Quel créneau pour nos rencontres partenariales ?",
        slots=[(4, "09:00", "11:00"), (1, "14:00", "16:00"), (3, "09:00", "11:00")],
    )
    for i, sid in enumerate(voters):
        choice = ["c1"] if i % 3 else ["c2", "c3"]
        if i % 4 == 0:
            choice.append("c1")
        svc.vote(territory, poll, author=SYSTEM, structure_id=sid, slot_ids=choice)
    svc.adopt_poll(territory, poll, author=SYSTEM)
    svc.plan_cycle(territory, cid, author=SYSTEM, first_day=FIRST, place="Salle communale, Joigny", until="2012-05-31", poll_id=poll)


def _signatures(svc: Charters, territory: str, cid: str, carrier: str, partners: dict[str, str]) -> None:
    """The CCAS and the partners, at or soon after the first meetings; some from a paper copy."""
    name, role = SIGNATORIES["CCAS de Joigny"]
    svc.sign(
        territory,
        cid,
        author=SYSTEM,
        structure_id=carrier,
        signatory_name=name,
        signatory_role=role,
        signed_on=FIRST,
        channel="referent",
    )
    for i, (query, sid) in enumerate(partners.items(), start=1):
        name, role = SIGNATORIES[query]
        on = FIRST if i <= 9 else "2010-05-14"
        paper = i % 3 == 0
        svc.sign(
            territory,
            cid,
            author=SYSTEM,
            structure_id=sid,
            signatory_name=name,
            signatory_role=role,
            signed_on=on,
            channel="papier" if paper else "referent",
            document_ref=f"CCAS-CHARTE-2010-{i:02d}" if paper else None,
            adaptation="Participation d'un·e professionnel·le de l'équipe à chaque rencontre, selon le planning du service."
            if i % 4 == 0
            else None,
        )


def _invitations_and_withdrawal(trame: Trame, svc: Charters, territory: str, cid: str, partners: dict[str, str]) -> None:
    for query, name, since in INVITED:
        sid = _structure(trame, territory, query, name)
        svc.invite_partner(territory, cid, sid, author=SYSTEM, since=since, note="Invité lors des rencontres, sans signature")
    withdrawn = svc.signature_of(territory, cid, partners[WITHDRAWS])
    assert withdrawn is not None
    svc.withdraw(
        territory,
        cid,
        withdrawn["signature_id"],
        author=SYSTEM,
        on="2011-06-10",
        reason="Renouvellement de l'équipe de bénévoles ; la nouvelle équipe souhaite d'abord découvrir les rencontres",
    )


def _second_version(svc: Charters, territory: str, cid: str, partners: dict[str, str]) -> None:
    """Version 2, adopted in September 2011, re-signed on paper by the structures whose head changed."""
    v2 = svc.revise(territory, cid, author=SYSTEM, title=TITLE, preamble=PREAMBLE_V2, commitments=COMMITMENTS)
    svc.adopt(territory, cid, v2, author=SYSTEM, on=V2)
    for i, (query, (name, role)) in enumerate(RESIGNATORIES.items(), start=20):
        svc.sign(
            territory,
            cid,
            author=SYSTEM,
            structure_id=partners[query],
            signatory_name=name,
            signatory_role=role,
            signed_on="2011-11-18",
            version_no=v2,
            channel="papier",
            document_ref=f"CCAS-CHARTE-2011-{i:02d}",
        )


def _meetings(trame: Trame, svc: Charters, territory: str, cid: str, carrier: str, never: str) -> None:
    """Invitations, about 70 % attendance, the partner presenting its missions in turn."""
    rng = random.Random(89300)
    for m in svc.meetings(territory, cid):
        if m["holiday"] and m["proposed_day"]:  # e.g. 11 November 2011: moved to the day the meetings plugin proposes
            links.reschedule(trame, territory, m["meeting_id"], m["proposed_day"], author=SYSTEM, reason=f"Jour férié ({m['holiday']})")
            m = links.meeting(trame, territory, m["meeting_id"]) or m
        svc.invite_to_meeting(territory, cid, m["meeting_id"], author=SYSTEM, send=False)
        status = {}
        for sid in svc.expected_at(territory, cid, m["day"]):
            if sid == carrier:
                status[sid] = "present"
            elif sid == never:
                status[sid] = "excused" if rng.random() < 0.5 else "absent"
            else:
                draw = rng.random()
                status[sid] = "present" if draw < 0.78 else ("excused" if draw < 0.9 else "absent")
        links.record_attendance(trame, territory, m["meeting_id"], status, author=SYSTEM)
        presenter = carrier if m["day"] == FIRST else svc.suggested_presenter(territory, cid, m["meeting_id"])
        if presenter:
            svc.choose_presenter(territory, cid, m["meeting_id"], author=SYSTEM, structure_id=presenter)


def _writings(svc: Charters, territory: str, cid: str) -> None:
    """The first meeting's minutes and the 2010 evaluation."""
    first_meeting = svc.meetings(territory, cid)[0]
    svc.write_meeting_minutes(
        territory,
        cid,
        first_meeting["meeting_id"],
        author=SYSTEM,
        parts=[
            "Objectif et organisation des rencontres définis ensemble. Deux situations de ménages en grande précarité "
            "évoquées sans nom : coordination entre l'accompagnement budgétaire, l'accès aux soins et l'hébergement.",
            "Projets pour lesquels une réflexion partenariale sera à mener : épicerie sociale, actions collectives "
            "(économies d'énergie, femmes victimes de violences conjugales), mobilité, logement, centre social ou maison "
            "des associations, jardins familiaux.",
            "Présentation des missions du CCAS de Joigny.",
        ],
        decisions=[
            "Une rencontre tous les deux mois, sauf en période de congés d'été, le vendredi à 9 h (vote).",
            "Inviter le centre hospitalier spécialisé d'Auxerre et les associations d'aide à la personne.",
        ],
    )
    svc.write_evaluation(
        territory,
        cid,
        2010,
        author=SYSTEM,
        texts={
            "what_works": "Le taux de participation des partenaires est très encourageant (environ 70 %). Une dynamique et une "
            "mobilisation se sont créées ; les réponses individuelles sont concertées entre professionnels.",
            "obstacles": "Implication inégale selon les structures ; certaines institutions signataires ne viennent pas.",
            "steering": "Pilotage par le CCAS (un chef de service, une conseillère ESF 2 h 30 par semaine).",
            "communication": "Invitations et comptes rendus diffusés à tous les signataires ; "
            "salle communale réservée pour chaque rencontre.",
            "public_feedback": "Pas de recueil direct auprès des personnes accompagnées ; à construire.",
            "evolution": "Élargir aux bailleurs publics et aux associations caritatives ; la réalisation d'actions à court, moyen "
            "ou long terme sera un critère de réussite.",
        },
    )


def _review_poll(svc: Charters, territory: str, cid: str, carrier: str, partners: dict[str, str]) -> None:
    """A date poll still open, for the review meeting: the CCAS and two partners have answered; the
    others have not, so that the coordination can issue each structure its voting link and a
    partner vote through its link alone (no account)."""
    poll = svc.open_poll(
        territory,
        cid,
        author=SYSTEM,
        question=REVIEW_QUESTION,
        slots=[(4, "09:00", "11:00"), (1, "14:00", "16:00")],
    )
    for sid, choice in ((carrier, ["c1"]), (partners["Mission locale"], ["c1", "c2"]), (partners["SPIP"], ["c2"])):
        svc.vote(territory, poll, author=SYSTEM, structure_id=sid, slot_ids=choice)
