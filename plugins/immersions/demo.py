"""The demo programme: the Maison de l'emploi de Marseille's « du social à l'emploi » (seed 004).

In 2012 the MDEM and the FNARS PACA Corse DOM ran exchange workshops between the two fields
with a pluridisciplinary group of 29 participants (18 professionals of the employment field,
11 of the social field) and immersions in pairs; the day of 13 December 2012 gave back their
work. The organisations are those the seed names; every person is fictional, and the answers
below paraphrase the seed's findings. Written through the service, as a coordinator would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.immersions.service import immersions

if TYPE_CHECKING:
    from core.application import Trame

TERRITORY = "marseille"
TITLE = "Du social à l'emploi"

#: key -> (name, acronym, kind, field, themes)
STRUCTURES: dict[str, tuple[str, str | None, str, str, tuple[str, ...]]] = {
    "mdem": ("Maison de l'emploi de Marseille", "MDEM", "maison-emploi", "emploi", ("emploi-insertion",)),
    "eri": ("Pôle emploi – Équipe ressource insertion", "ERI", "france-travail", "emploi", ("emploi-insertion",)),
    "cap-emploi": ("Cap emploi", None, "cap-emploi", "emploi", ("emploi-insertion", "handicap")),
    "plie": ("PLIE de Marseille", "PLIE", "plie", "emploi", ("emploi-insertion",)),
    "fnars": ("FNARS PACA Corse DOM", "FNARS", "association", "social", ("logement", "acces-aux-droits")),
    "roseau": ("Le Roseau – collectif de cinq CHRS", None, "chrs", "social", ("logement", "emploi-insertion")),
    "transfer": ("Association TRANSFER", None, "association", "social", ("emploi-insertion", "acces-aux-droits")),
}

#: 18 professionals of the employment field, 11 of the social field (fictional).
PEOPLE: list[tuple[str, str, str]] = [
    ("mdem", "Nadia Belkacem", "chargée de mission"),
    ("mdem", "Julien Ferrand", "chargé de projets emploi"),
    ("mdem", "Sophie Marchetti", "chargée de relations entreprises"),
    ("mdem", "Karim Haddad", "animateur territorial"),
    ("eri", "Claire Vidal", "conseillère à l'emploi"),
    ("eri", "Thomas Roux", "conseiller à l'emploi"),
    ("eri", "Leïla Benali", "psychologue du travail"),
    ("eri", "Marc Olivieri", "conseiller référent insertion"),
    ("eri", "Anne Giraud", "conseillère à l'emploi"),
    ("cap-emploi", "Pascal Nguyen", "chargé d'accompagnement"),
    ("cap-emploi", "Émilie Costa", "chargée d'accompagnement"),
    ("cap-emploi", "Hélène Barbier", "conseillère en insertion"),
    ("cap-emploi", "Yannick Morel", "chargé de relations entreprises"),
    ("plie", "Samia Kaci", "référente de parcours"),
    ("plie", "François Blanc", "référent de parcours"),
    ("plie", "Aurélie Fabre", "référente de parcours"),
    ("plie", "Mehdi Saïdi", "chargé de mission IAE"),
    ("plie", "Isabelle Arnaud", "coordinatrice"),
    ("fnars", "Catherine Lopez", "chargée de mission insertion"),
    ("fnars", "Damien Perrin", "animateur régional"),
    ("roseau", "Fatima Zerrouki", "éducatrice spécialisée"),
    ("roseau", "Olivier Mercier", "chef de service"),
    ("roseau", "Sandrine Faure", "conseillère en économie sociale et familiale"),
    ("roseau", "Rachid Bensaïd", "moniteur éducateur"),
    ("roseau", "Valérie Chevalier", "assistante de service social"),
    ("roseau", "Nicolas Garcia", "chargé d'insertion"),
    ("transfer", "Laure Dumas", "formatrice"),
    ("transfer", "Ahmed Toumi", "accompagnateur socioprofessionnel"),
    ("transfer", "Mireille Santini", "directrice adjointe"),
]

#: Answers to the four questions, after the seed's findings (rotated through the binômes).
EXPECTATIONS = [
    "Côté emploi, on attend du social qu'il lève les freins (logement, santé, mobilité) avant l'entrée en parcours ; côté social, "
    "on attend de l'emploi qu'il prenne en compte la situation globale de la personne.",
    "Les institutions attendent du champ de l'emploi qu'il inscrive, indemnise, prescrive et place ; du champ social qu'il accueille "
    "sans condition et réponde aux besoins primaires.",
    "Accueillir, couvrir les besoins primaires, accompagner vers l'autonomie : ces attentes pèsent sur le CHRS bien avant la question "
    "de l'emploi, et je ne l'avais pas mesuré.",
    "J'attendais un passage de relais ; j'ai compris qu'on attend surtout des deux champs un accompagnement global partagé.",
]
CONVERGENCES = [
    "Les mêmes fonctions des deux côtés : accueillir, informer, orienter, accompagner.",
    "Un objet commun : favoriser l'insertion des publics et l'accès au droit commun.",
    "Le diagnostic de la situation de la personne accompagnée se fait des deux côtés, souvent sans que l'un le sache de l'autre.",
    "Rechercher des relais et travailler en réseau fait partie du quotidien des deux équipes.",
]
OBSTACLES = [
    "Une vision du parcours en escalier : le social d'abord, l'emploi ensuite, dans un ordre fixé d'avance.",
    "La succession de relais remplace la collaboration : ce qui a été fait avant n'est pas repris.",
    "Les sigles et le langage technique (ERI, PLIE, IAE) rendent les dispositifs illisibles pour qui n'est pas du champ.",
    "Des parcours séquencés et discontinus, difficiles à suivre pour les professionnels comme pour les personnes.",
]
RECOMMENDATIONS = [
    "Un lexique partagé et un annuaire partagé, avec une personne ressource identifiée dans chaque institution.",
    "Multiplier les immersions et les échanges de pratiques entre les deux champs.",
    "Croiser les diagnostics et permettre un double accompagnement, social et professionnel, simultané et coordonné.",
    "Un livret de parcours pour la continuité de l'accompagnement, et une animation du réseau au plus près du territoire.",
]

#: Immersion days of autumn 2012 (weekdays), used in turn by the offers.
DAYS = [
    "2012-10-08", "2012-10-09", "2012-10-11", "2012-10-12", "2012-10-15", "2012-10-16", "2012-10-18", "2012-10-19",
    "2012-10-22", "2012-10-23", "2012-10-25", "2012-11-05", "2012-11-06", "2012-11-08", "2012-11-09", "2012-11-13",
    "2012-11-15", "2012-11-16", "2012-11-19", "2012-11-20",
]  # fmt: skip
LENGTHS = ("matin", "apres-midi", "journee")
#: Requests left without a binôme (asked too late), and a binôme the host had to decline.
LATE = 2
DECLINED_AT = 7
#: Binômes whose feedback came from one side only.
ONE_SIDED = {3, 11, 17, 22}


def structures(trame: Trame, territory: str) -> dict[str, str]:
    """The seed's organisations in the directory (created once), key -> id."""
    ids: dict[str, str] = {}
    for key, (name, acronym, kind, _field, themes) in STRUCTURES.items():
        found = annuaire.find_by_name(trame, territory, name)
        if found is None:
            data = annuaire.StructureIn(
                name=name,
                acronym=acronym,
                kind=kind,
                public=key in ("mdem", "eri", "plie"),
                email=f"contact@{key}.example",
                address="Marseille",
                themes=list(themes),
                effective="2009-01-01",
                reason="Données de démonstration",
            )
            ids[key] = annuaire.create(trame, territory, author=SYSTEM, data=data)
        else:
            ids[key] = found.id
    return ids


def load(trame: Trame, territory: str) -> None:
    if territory != TERRITORY:
        return
    svc = immersions(trame)
    if any(p["title"] == TITLE for p in svc.programmes(territory)):
        return
    ids = structures(trame, territory)
    pid = svc.open_programme(
        territory,
        author=SYSTEM,
        title=TITLE,
        starts_on="2012-09-17",
        ends_on="2012-11-30",
        fields=("social", "emploi"),
        description="Ateliers d'échanges de pratiques « Insertion sociale et insertion professionnelle : vers un renforcement des "
        "partenariats entre les acteurs » (MDEM et FNARS PACA Corse DOM), avec un groupe pluridisciplinaire de 29 participants. "
        "Aller à la rencontre de l'autre champ en passant une demi-journée, voire une journée, aux côtés d'un partenaire, "
        "avec un regard particulier sur les articulations entre les deux champs, existantes ou à créer.",
    )
    participants: list[tuple[str, str]] = []  # (participant id, field)
    for key, name, job in PEOPLE:
        field = STRUCTURES[key][3]
        participant = svc.join(territory, pid, author=SYSTEM, structure_id=ids[key], field=field, full_name=name, job=job)
        participants.append((participant, field))
    social = [p for p, f in participants if f == "social"]
    employment = [p for p, f in participants if f == "emploi"]
    # Each social professional hosts two employment professionals; twelve employment professionals host one.
    hosts = social + social + employment[:12]
    for n, host in enumerate(hosts):
        svc.offer(territory, pid, author=SYSTEM, host_participant_id=host, day=DAYS[n % len(DAYS)], length=LENGTHS[n % 3])
    for participant, _field in participants:
        svc.request(territory, pid, author=SYSTEM, participant_id=participant, wish="indifferent")
    suggestions = svc.suggestions(territory, pid)
    for n, s in enumerate(suggestions[: len(suggestions) - LATE]):
        delivery = svc.pair(territory, pid, s.offer_id, s.request_id, author=SYSTEM, send=False)
        tokens = {link.side: link.url.rsplit("/", 1)[1] for link in delivery.links}
        if n == DECLINED_AT:
            svc.confirm_with_token(territory, tokens["host"], answer="declined", comment="Équipe en effectif réduit ce jour-là.")
            continue
        for side in ("host", "visitor"):
            svc.confirm_with_token(territory, tokens[side], answer="confirmed")
        for i, side in enumerate(("visitor", "host")):
            if i == 1 and n in ONE_SIDED:
                continue
            k = n + i
            svc.feedback_with_token(
                territory,
                tokens[side],
                {
                    "expectations": EXPECTATIONS[k % 4],
                    "convergences": CONVERGENCES[(k + 1) % 4],
                    "obstacles": OBSTACLES[(k + 2) % 4],
                    "recommendations": RECOMMENDATIONS[(k + 3) % 4],
                },
            )
