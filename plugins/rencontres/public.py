"""What other plugins may use of the meetings plugin (rencontres): this module and nothing else of it.

Cafés, charters, immersions... are meetings with something more. They schedule, invite,
take attendance and publish minutes through the service below, describe recurrences with
its helpers and count participation with its figures; they never import another module of
``plugins.rencontres`` and never read its tables (``tests/test_plugins.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core import mail
from plugins.rencontres import ics as _ics
from plugins.rencontres.api import delivery_out, meeting_out
from plugins.rencontres.events import AttendanceRecorded, Section
from plugins.rencontres.figures import Figures, bar_chart, compute
from plugins.rencontres.pages import meeting_context
from plugins.rencontres.recurrence import describe, holiday_flag, long_date, occurrences, preset_rule
from plugins.rencontres.schemas import DeliveryOut, MeetingOut
from plugins.rencontres.service import Delivery, IssuedLink, Meetings, MeetingState, invitation_text, meetings

__all__ = [
    "Delivery",
    "DeliveryOut",
    "Figures",
    "IssuedLink",
    "MeetingOut",
    "MeetingState",
    "Meetings",
    "Section",
    "action_details",
    "bar_chart",
    "compute",
    "delivery_out",
    "describe",
    "holiday_flag",
    "invitation_text",
    "long_date",
    "meeting_context",
    "meeting_out",
    "meetings",
    "occurrences",
    "presence_of_new_structure",
    "preset_rule",
    "send_with_calendar",
    "working_group_demo",
]

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event


def send_with_calendar(trame: Trame, territory: str, meeting_id: str, to: Sequence[str], subject: str, body: str) -> bool:
    """Mail a plugin's own invitation to a meeting (an immersion's confirmation link) with the
    meeting's .ics attached: the same UID and SEQUENCE as the agenda feed, so a calendar that
    imports it follows a later move or cancellation. False when nothing was sent (no SMTP, nobody)."""
    m = meetings(trame).require(territory, meeting_id)
    calendar = _ics.calendar([m], name=m["title"], base_url=trame.settings.base_url, method="PUBLISH")
    return mail.send(trame.settings, list(to), subject, body, calendar)


def presence_of_new_structure(trame: Trame, territory: str, meeting_id: str, structure_id: str) -> tuple[UUID, Event]:
    """The meeting's stream and the event marking present a structure that the same command
    creates (a newcomer's sheet), not written: for one atomic append (``core.commands.run``)
    with the structure's own first event. The meeting must be of ``territory``; the structure
    is not looked up, since it is not in the directory until that append."""
    meetings(trame).require(territory, meeting_id)
    return UUID(meeting_id), AttendanceRecorded(meeting_id=meeting_id, structure_id=structure_id, status="present")


def action_details(trame: Trame, territory: str, action_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The follow-up actions named (« suites à donner »), each with the meeting that decided it:
    ``action_id -> {title, status ("open"/"closed"), due, owner_structure_id, meeting_id,
    meeting_title, meeting_day}``. Ids of another territory, or unknown, are left out."""
    wanted = sorted({a for a in action_ids if a})
    out: dict[str, dict[str, Any]] = {}
    with trame.db.read() as cur:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = cur.execute(
                "SELECT a.action_id, a.title, a.status, a.due, a.owner_structure_id, a.meeting_id, m.title AS meeting_title, "
                "m.day AS meeting_day FROM rencontres_actions a JOIN rencontres_meetings m ON m.meeting_id = a.meeting_id "
                f"WHERE a.territory = ? AND a.action_id IN ({','.join('?' * len(chunk))})",
                (territory, *chunk),
            ).fetchall()
            out.update({r["action_id"]: dict(r) for r in rows})
    return out


#: Seed 000: the working group « Bénévoles associations caritatives / Professionnels action sociale »
#: of 5 January 2012 (Meaux et Provins). Structures by their directory name: (invited, presence).
_GROUP_TITLE = "Groupe « Bénévoles associations caritatives / Professionnels action sociale »"
_GROUP = {
    "RESO77": "present",
    "Maison départementale des solidarités de Meaux": "present",
    "Maison départementale des solidarités de Provins": "present",
    "Croix-Rouge française – unité locale de Meaux": "present",
    "Secours Catholique – équipe de Meaux": "present",
    "Cultures du cœur Seine-et-Marne": "present",
    "Mission locale de Meaux": "present",
    "Maison de l'emploi de Meaux": "present",
    "La maison de Laurence": "present",
    "AEDE – Résidence Les Servins": "present",
    "ADSEA 77 – service AESF": "present",
    "Centre social municipal de Meaux": "excused",
    "SAVS Fil de l'Ourcq": "absent",
}
_GROUP_ACTIONS = (
    ("Faire la fiche projet du groupe", "RESO77", "2012-02-15"),
    ("Compte rendu et article de presse", "RESO77", "2012-02-01"),
    ("Évaluation à envoyer par mail au groupe", "RESO77", "2012-02-15"),
    ("Reprendre et envoyer aux responsables avec la fiche projet du groupe", "RESO77", "2012-03-15"),
    ("Identifier les structures relais de Cultures du cœur dans l'aide-mémoire", "Cultures du cœur Seine-et-Marne", None),
)


def working_group_demo(trame: Trame, territory: str) -> str | None:
    """Demo data: the Meaux working group's meeting of 5 January 2012 (seed 000), written once for
    the demos that refer to it (its project sheet, its questionnaire): invitations, attendance,
    minutes with their follow-up actions, published to everyone invited (mailed when SMTP is set).
    Returns its id; None when the territory lacks the group's structures. People are fictional."""
    from core.store import SYSTEM
    from plugins.annuaire.public import ensure_demo, find_by_name

    svc = meetings(trame)
    for m in svc.list(territory, since="2012-01-05", until="2012-01-05"):
        if m["title"] == _GROUP_TITLE:
            return str(m["meeting_id"])
    ensure_demo(trame, territory)
    ids = {name: s.id for name in _GROUP if (s := find_by_name(trame, territory, name)) is not None}
    if "RESO77" not in ids:
        return None
    meeting_id = svc.schedule(
        territory,
        author=SYSTEM,
        title=_GROUP_TITLE,
        day="2012-01-05",
        start="14:30",
        end="16:30",
        place=svc.place(territory, kind="structure", structure_id=ids["RESO77"]),
        description="Bilan de la conférence sur le partenariat, point sur le groupe et sur l'aide-mémoire.",
    )
    svc.invite(territory, meeting_id, list(ids.values()), author=SYSTEM, send=False)
    svc.record_attendance(
        territory, meeting_id, [{"structure_id": ids[n], "status": st} for n, st in _GROUP.items() if n in ids], author=SYSTEM
    )
    svc.write_minutes(
        territory,
        meeting_id,
        author=SYSTEM,
        sections=[
            Section(
                title="Bilan de la conférence Partenariat",
                body="Intéressant, court, bien ciblé. Points forts : la définition du partenariat, l'intérêt du travail en commun "
                "(« travailler ensemble, il faut être différent : 1 + 1 = 3 »).",
            ),
            Section(
                title="Point sur le groupe",
                body="Besoin d'un cadre au partenariat : quand une personne part, le projet risque de s'arrêter. Partenariat à tous "
                "les échelons (dirigeants, encadrants, terrain) : importance de mettre la hiérarchie dans le coup. "
                "Secret partagé entre bénévoles et professionnels.",
            ),
            Section(
                title="Aide-mémoire",
                body="Bien accueilli. Comment gérer les mises à jour ? Mettre l'adresse générique des structures ; identifier les "
                "structures relais de Cultures du cœur ; reprendre la restructuration de la Rose des vents.",
            ),
        ],
        decisions=["Bien définir les objectifs du groupe", "Valoriser le travail du groupe"],
        next_meeting="Jeudi 15 mars 2012, 14 h 30 – 16 h 30, Résidence Les Servins (AEDE), 54 rue Pierre Mendès France, Nanteuil-lès-Meaux",
    )
    for title, owner, due in _GROUP_ACTIONS:
        svc.open_action(territory, meeting_id, author=SYSTEM, title=title, owner_structure_id=ids.get(owner), due=due)
    svc.publish_minutes(territory, meeting_id, author=SYSTEM)
    return meeting_id
