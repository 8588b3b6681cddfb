"""Demo cafés from seed 001: Agen's monthly café since 2004 (its first months and the last year),
Fumel's cafés of 15 September 2009 and 15 January 2010. Organisations are real; the
news are plausible, not quoted; no person is named. Structures are taken from the
directory by name, and added to it when missing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from core import clock
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.cafe.service import cafes
from plugins.rencontres.public import Section, occurrences

if TYPE_CHECKING:
    from core.application import Trame

AUTHOR = SYSTEM

# name -> (address, themes), used only when the directory does not have it yet.
AGEN_FOUNDERS = {
    "Centre social Nord-Est d'Agen": ("7 rue des Glycines, 47000 Agen", ["famille", "jeunesse"]),
    "Ville d'Agen – service enfance jeunesse": ("Hôtel de ville, 47000 Agen", ["jeunesse"]),
    "Écoles du quartier de Montanou": ("Quartier de Montanou, 47000 Agen", ["education"]),
    "Crèches du quartier de Montanou": ("Quartier de Montanou, 47000 Agen", ["famille"]),
    "Police nationale – îlotiers du quartier de Montanou": ("Quartier de Montanou, 47000 Agen", []),
    "Régie de quartier": ("Quartier de Montanou, 47000 Agen", ["emploi-insertion", "logement"]),
    "Équipe de prévention spécialisée d'Agen": ("Agen", ["jeunesse"]),
    "Ligue de l'enseignement – fédération de Lot-et-Garonne": ("Agen", ["education", "culture"]),
}
AGEN_INSTITUTIONS = {
    "Centre médico-social de Montanou": ("Quartier de Montanou, 47000 Agen", ["famille", "sante"]),
    "Caisse d'allocations familiales de Lot-et-Garonne": ("Agen", ["famille", "logement"]),
    "PLIE de l'Agenais": ("Agen", ["emploi-insertion"]),
    "Mission locale de l'Agenais": ("Agen", ["emploi-insertion", "jeunesse"]),
    "Bailleurs sociaux du quartier de Montanou": ("Agen", ["logement"]),
    "Centre d'information sur les droits des femmes et des familles de Lot-et-Garonne": ("Agen", ["acces-aux-droits", "violences"]),
}
AGEN_HOSTS = [
    "Centre social Nord-Est d'Agen",
    "Centre médico-social de Montanou",
    "Régie de quartier",
    "Ligue de l'enseignement – fédération de Lot-et-Garonne",
    "Bailleurs sociaux du quartier de Montanou",
]
NEWS = [
    "Inscriptions ouvertes pour l'accompagnement scolaire du mercredi.",
    "Permanence d'accès aux droits le mardi matin, sans rendez-vous.",
    "Un nouveau chantier d'espaces verts recrute six personnes en insertion.",
    "Sortie familles au bord du Lot prévue le mois prochain ; il reste des places.",
    "Réunion d'information sur les aides au logement jeudi à 14 h.",
    "Changement d'horaires d'accueil à partir du mois prochain.",
    "Atelier budget et économies d'énergie : deux sessions programmées.",
    "Recherche de bénévoles pour l'aide aux devoirs.",
    "Fête de quartier en préparation : appel aux partenaires pour tenir un stand.",
    "Nouvelle conseillère arrivée dans l'équipe ; présentation au prochain café.",
]

FUMEL_FIRST = [  # seed 001, the café of 15 September 2009
    "Centre médico-social de Fumel",
    "CCAS de Fumel",
    "CCAS de Monsempron-Libos",
    "Caisse d'allocations familiales de Lot-et-Garonne",
    "CRAM d'Aquitaine – service social",
    "MSA – Mutualité sociale agricole de Lot-et-Garonne",
    "Équipe de prévention spécialisée du Fumélois",
    "CMPE de Fumel",
    "Crèche de Fumel",
    "Chantier d'insertion du Fumélois",
    "Maison de l'emploi du Fumélois",
    "Mission locale – antenne de Fumel",
    "Pôle emploi – agence de Fumel",
    "Centre de formation professionnelle du Fumélois",
    "CHRS du Fumélois",
    "Centre hospitalier de Fumel – service social",
    "Service social en faveur des élèves (Éducation nationale)",
    "Udaf de Lot-et-Garonne",
    "Maison relais de l'Udaf",
]
FUMEL_SECOND_MORE = ["CCAS de Montayral", "Associations caritatives du Fumélois"]
FUMEL_THEMES = {
    "Centre médico-social de Fumel": ["famille", "sante"],
    "CHRS du Fumélois": ["logement"],
    "Maison relais de l'Udaf": ["logement"],
    "Udaf de Lot-et-Garonne": ["famille", "logement"],
    "Chantier d'insertion du Fumélois": ["emploi-insertion"],
}


def _ids(trame: Trame, territory: str, names: dict[str, tuple[str, list[str]]] | list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        found = annuaire.find_by_name(trame, territory, name)
        if found is not None:
            out[name] = found.id
            continue
        address, themes = names[name] if isinstance(names, dict) else ("Fumel", FUMEL_THEMES.get(name, []))
        out[name] = annuaire.create(
            trame,
            territory,
            author=AUTHOR,
            data=annuaire.StructureIn(name=name, address=address, themes=themes, reason="Café partenaires (démonstration)"),
        )
    return out


def _hold(
    trame: Trame,
    territory: str,
    meeting_id: str,
    present: dict[str, str],
    rng: random.Random,
    news_share: float = 0.5,
    invited: list[str] | None = None,
) -> None:
    """Invitations (everyone unless told; nothing mailed), attendance, some round-table news."""
    svc = cafes(trame)
    everyone = invited if invited is not None else [s.id for s in annuaire.structures(trame, territory)]
    svc.meetings.invite(territory, meeting_id, everyone, author=AUTHOR, send=False)
    svc.meetings.record_attendance(
        territory, meeting_id, [{"structure_id": sid, "status": "present"} for sid in present.values()], author=AUTHOR
    )
    for sid in present.values():
        if rng.random() < news_share:
            svc.record_news(territory, meeting_id, sid, rng.choice(NEWS), author=AUTHOR)


def load(trame: Trame, territory: str) -> None:
    if cafes(trame).cafes(territory):
        return  # already there
    annuaire.ensure_demo(trame, territory)
    if territory == "agen":
        _agen(trame)
    elif territory == "fumel":
        _fumel(trame)


def _agen(trame: Trame) -> None:
    svc = cafes(trame)
    rng = random.Random(2004)
    founders = _ids(trame, "agen", AGEN_FOUNDERS)
    institutions = _ids(trame, "agen", AGEN_INSTITUTIONS)
    everyone = founders | institutions
    # The first cafés, autumn 2004, at the centre social, associations only.
    _series, first = svc.start_series(
        "agen", author=AUTHOR, first_day="2004-10-01", count=3, host_structure_id=founders["Centre social Nord-Est d'Agen"]
    )
    for mid in first:
        _hold(trame, "agen", mid, dict(rng.sample(sorted(founders.items()), 6)), rng)
    # Hosting in turn, then the last twelve months and the next two cafés.
    for name in AGEN_HOSTS:
        svc.offer_hosting("agen", everyone[name], author=AUTHOR, willing=True, has_room=True)
    today = date.fromisoformat(clock.paris_today())
    days = [d for d in occurrences("FREQ=MONTHLY;BYDAY=+1FR", today - timedelta(days=365), count=16) if d.month not in (7, 8)]
    for d in days[:14]:
        host = svc.suggest_host("agen")
        mid = svc.plan("agen", author=AUTHOR, day=d.isoformat(), host_structure_id=host["structure_id"] if host else None)
        m = svc.meetings.require("agen", mid)
        if m["proposed_day"]:  # a first Friday on a public holiday: moved to the proposed day
            svc.meetings.reschedule("agen", mid, author=AUTHOR, day=m["proposed_day"], start="09:00", end="10:30", reason=f"{m['holiday']}")
        if d < today:
            _hold(trame, "agen", mid, dict(rng.sample(sorted(everyone.items()), rng.randint(7, 12))), rng)
    recent = [m for m in svc.cafes("agen", until=today.isoformat(), descending=True, limit=1)]
    if recent:
        svc.present_newcomer(
            "agen",
            recent[0]["meeting_id"],
            author=AUTHOR,
            organisation="Association des habitants de Montanou",
            presentation="Une association d'habitants créée cette année ; elle prépare la fête de quartier.",
        )


def _fumel(trame: Trame) -> None:
    svc = cafes(trame)
    rng = random.Random(2009)
    first = _ids(trame, "fumel", FUMEL_FIRST)
    more = _ids(trame, "fumel", FUMEL_SECOND_MORE)
    cms = first["Centre médico-social de Fumel"]
    m1 = svc.plan("fumel", author=AUTHOR, day="2009-09-15", host_structure_id=cms)
    _hold(trame, "fumel", m1, first, rng, news_share=0.0)
    for name, sid in first.items():
        news = (
            "Présentation du projet d'implantation d'une maison relais sur le territoire."
            if name == "Maison relais de l'Udaf"
            else "Présentation de son champ d'intervention et de ses limites ; fiche signalétique remise."
        )
        svc.record_news("fumel", m1, sid, news, author=AUTHOR)
    action = svc.meetings.open_action(
        "fumel",
        m1,
        author=AUTHOR,
        title="Compiler les fiches signalétiques en un livret des partenaires",
        owner_structure_id=cms,
        due="2010-01-15",
    )
    m2 = svc.plan("fumel", author=AUTHOR, day="2010-01-15", host_structure_id=cms)
    _hold(trame, "fumel", m2, first | more, rng)
    svc.meetings.write_minutes(
        "fumel",
        m2,
        author=AUTHOR,
        sections=[
            Section(title="Tour de table", body="Plus de 35 organisations présentes ; chacun a présenté ses missions et ses actualités."),
            Section(title="Suite des cafés", body="Pour réguler la fréquentation : des cafés thématiques et une réunion plénière par an."),
        ],
        decisions=["Organiser des cafés thématiques (logement, santé, emploi-insertion)", "Une réunion plénière généraliste par an"],
        next_meeting="Café thématique logement, mai 2010",
    )
    svc.meetings.open_action(
        "fumel", m2, author=AUTHOR, title="Diffuser le livret des partenaires", owner_structure_id=cms, due="2010-05-01"
    )
    svc.meetings.close_action("fumel", action, author=AUTHOR, meeting_id=m2, note="Livret compilé")
    m3 = svc.plan(
        "fumel", author=AUTHOR, day="2010-05-21", host_structure_id=first["CHRS du Fumélois"], kind="thematique", theme="logement"
    )
    housing = svc.invitation_list("fumel", m3)  # the structures working on housing
    _hold(trame, "fumel", m3, {sid: sid for sid in housing}, rng, news_share=1.0, invited=housing)
    for name in ("Centre médico-social de Fumel", "CHRS du Fumélois", "Maison de l'emploi du Fumélois", "CCAS de Fumel"):
        svc.offer_hosting("fumel", (first | more)[name], author=AUTHOR, willing=True, has_room=True)
    # The yearly plenary decided in January 2010: planned and invited.
    host = svc.suggest_host("fumel")
    assert host is not None  # four structures offered just above
    plenary = svc.plan("fumel", author=AUTHOR, day="2011-01-14", host_structure_id=host["structure_id"], kind="pleniere")
    svc.meetings.invite("fumel", plenary, svc.invitation_list("fumel", plenary), author=AUTHOR, send=False)
