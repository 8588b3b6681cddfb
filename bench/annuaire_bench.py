"""Annuaire benchmark (not a test): the directory at national scale, issue 4 "Measured, not asserted".

Run from the repository root::

    python -m bench.annuaire_bench                                  # full size, SQLite + PostgreSQL
    python -m bench.annuaire_bench --structures 2000 --people 6000 --events 40000 --queries 100   # smoke run

For each backend it:

1. generates a seeded, reproducible territory (``random.Random(seed)``): structures that join,
   change, are renamed (ANPE -> Pôle emploi -> France Travail included), merge, leave and
   rejoin; people; contacts that start, end and are corrected; some of everything back-dated;
   effective dates spread over 2004-2026, recorded times following them. One structure has
   exactly 10 events, one exactly 10,000. Events go straight into ``EventStore.append`` in
   large batches (one append per recorded day and effective date), projections not run;
2. runs the projections once (``trame.runner.catch_up``), timing each one;
3. measures, over ``--queries`` queries each (p50/p95): a structure as of a past date
   (``Directory.get_structure``), its contacts as of a date (``Directory.contacts``), a full-text
   search (``Directory.list_structures(q=...)``, rare and common terms), the directory page
   over HTTP (Litestar ``TestClient``, signed in, with and without ``q``), and the as-of
   lookup of the 10-event structure against the 10,000-event one, interleaved;
4. for every measure, times each SQL statement it runs and keeps the plan
   (``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``) of the slowest ones, plus a cProfile
   of any series that misses its target.

The markdown report goes to stdout and ``bench/results-annuaire.md``; progress to stderr.
See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import bisect
import cProfile
import gc
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from core import clock
from core.application import Trame
from core.database import Cursor, Database, SQLiteDatabase, open_database
from core.events import Event
from core.settings import Settings
from core.store import SYSTEM, Context, Write
from plugins.annuaire import kinds
from plugins.annuaire.events import (
    ContactCorrected,
    ContactEnded,
    ContactStarted,
    PersonChanged,
    PersonRegistered,
    Sheet,
    SheetChanges,
    StructureAbsorbed,
    StructureChanged,
    StructureConfirmed,
    StructureJoined,
    StructureLeft,
    StructureMerged,
    StructureRejoined,
)
from plugins.annuaire.service import directory

RESULTS = Path(__file__).resolve().parent / "results-annuaire.md"
DEFAULT_PG_URL = os.environ.get(
    "TRAME_BENCH_POSTGRES_URL", os.environ.get("TRAME_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
TERRITORY = "national"
PASSWORD = "mot-de-passe-du-bench"  # noqa: S105
TARGET_ASOF_MS = 5.0
TARGET_SEARCH_MS = 50.0

DAY0 = date(2004, 1, 1).toordinal()
DAY_END = date(2026, 10, 31).toordinal()
ANPE_TO_PE = date(2008, 12, 19).toordinal()
PE_TO_FT = date(2024, 1, 1).toordinal()
BIG_EVENTS = 10_000
SMALL_EVENTS = 10
BIG_CONTACTS = 300


def progress(msg: str) -> None:
    print(f"[annuaire-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def day_instant(day: int, seconds: int = 0) -> str:
    """The instant of a day ordinal (midnight UTC), plus some seconds."""
    return clock.instant(datetime.combine(date.fromordinal(day), datetime.min.time(), tzinfo=UTC) + timedelta(seconds=seconds))


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# Real communes, most populous first (their Zipf rank makes them common), with the seeds' ones.
REAL_COMMUNES = [
    "Paris",
    "Marseille",
    "Lyon",
    "Toulouse",
    "Nice",
    "Nantes",
    "Montpellier",
    "Strasbourg",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Toulon",
    "Saint-Étienne",
    "Le Havre",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nîmes",
    "Villeurbanne",
    "Clermont-Ferrand",
    "Le Mans",
    "Aix-en-Provence",
    "Brest",
    "Tours",
    "Amiens",
    "Limoges",
    "Annecy",
    "Perpignan",
    "Boulogne-Billancourt",
    "Metz",
    "Besançon",
    "Orléans",
    "Saint-Denis",
    "Argenteuil",
    "Rouen",
    "Mulhouse",
    "Montreuil",
    "Caen",
    "Nancy",
    "Saint-Paul",
    "Roubaix",
    "Tourcoing",
    "Nanterre",
    "Vitry-sur-Seine",
    "Avignon",
    "Créteil",
    "Poitiers",
    "Aubervilliers",
    "Dunkerque",
    "Versailles",
    "Aulnay-sous-Bois",
    "Colombes",
    "Courbevoie",
    "Pau",
    "Cherbourg-en-Cotentin",
    "Béziers",
    "La Rochelle",
    "Calais",
    "Champigny-sur-Marne",
    "Saint-Maur-des-Fossés",
    "Antibes",
    "Cannes",
    "Ajaccio",
    "Meaux",
    "Agen",
    "Fumel",
    "Joigny",
    "Épernon",
    "Évry-Courcouronnes",
    "Châlons-en-Champagne",
    "Chartres",
    "Sens",
    "Auxerre",
    "Villeneuve-sur-Lot",
    "Marmande",
    "Nérac",
    "Coulommiers",
    "Provins",
    "Melun",
    "Épinal",
    "Mâcon",
    "Vénissieux",
    "Bègles",
    "Pessac",
    "Mérignac",
    "Lorient",
    "Quimper",
    "Vannes",
    "Saint-Brieuc",
    "Laval",
    "Niort",
    "Angoulême",
    "Périgueux",
    "Bergerac",
    "Cahors",
    "Montauban",
    "Albi",
    "Rodez",
    "Tarbes",
    "Bayonne",
    "Mont-de-Marsan",
    "Dax",
    "Arcachon",
]
_SYL_A = [
    "Mont",
    "Ville",
    "Beau",
    "Châtel",
    "Roche",
    "Fontaine",
    "Neuf",
    "Bourg",
    "Val",
    "Bel",
    "Mar",
    "Lan",
    "Ker",
    "Plou",
    "Saint-Aub",
    "Sainte-Col",
    "Bois",
    "Champ",
    "Haut",
    "Pré",
    "Gré",
    "Cour",
    "Mor",
    "Vaud",
    "Lor",
    "Ros",
    "Tré",
    "Mé",
    "Cha",
    "Ber",
    "Sau",
    "Ormes",
    "Ver",
    "Bré",
    "Lou",
    "Aur",
    "Cas",
    "Fla",
    "Gou",
    "Lé",
]
_SYL_B = ["", "an", "ar", "el", "or", "ign", "ill", "ev", "al", "eu", "ab", "ol", "in", "erm", "ouv", "ais", "enn", "ug"]
_SYL_C = [
    "ac",
    "ange",
    "court",
    "ville",
    "heim",
    "ières",
    "euil",
    "ay",
    "y",
    "on",
    "argues",
    "ain",
    "elles",
    "ois",
    "ignac",
    "ourt",
    "ès",
    "eix",
    "ouse",
    "bourg",
    "mont",
    "val",
    "ette",
    "ant",
]
DEPARTEMENTS = [
    "Ain",
    "Aisne",
    "Allier",
    "Ardèche",
    "Ardennes",
    "Ariège",
    "Aube",
    "Aude",
    "Aveyron",
    "Calvados",
    "Cantal",
    "Charente",
    "Cher",
    "Corrèze",
    "Côte-d'Or",
    "Creuse",
    "Dordogne",
    "Doubs",
    "Drôme",
    "Eure",
    "Finistère",
    "Gard",
    "Gers",
    "Gironde",
    "Hérault",
    "Indre",
    "Isère",
    "Jura",
    "Landes",
    "Loiret",
    "Lot",
    "Lot-et-Garonne",
    "Lozère",
    "Manche",
    "Marne",
    "Mayenne",
    "Meuse",
    "Morbihan",
    "Moselle",
    "Nièvre",
    "Nord",
    "Oise",
    "Orne",
    "Pas-de-Calais",
    "Rhône",
    "Sarthe",
    "Savoie",
    "Seine-et-Marne",
    "Somme",
    "Tarn",
    "Var",
    "Vaucluse",
    "Vendée",
    "Vienne",
    "Vosges",
    "Yonne",
    "Essonne",
    "Val-d'Oise",
    "Yvelines",
]
STREETS = [
    "rue de la République",
    "avenue Jean-Jaurès",
    "place de la Mairie",
    "rue Victor-Hugo",
    "boulevard Gambetta",
    "rue Pasteur",
    "rue du Général-de-Gaulle",
    "allée des Tilleuls",
    "rue de l'Église",
    "chemin des Écoliers",
    "rue Jules-Ferry",
    "place du Marché",
    "rue des Acacias",
    "avenue de la Gare",
    "rue Émile-Zola",
]
PUBLICS = [
    "jeunes 16-25 ans",
    "familles monoparentales",
    "personnes âgées",
    "demandeurs d'emploi",
    "bénéficiaires du RSA",
    "personnes en situation de handicap",
    "femmes victimes de violences",
    "gens du voyage",
    "personnes réfugiées",
    "étudiants",
    "personnes sans domicile",
    "parents",
    "enfants",
    "seniors isolés",
    "personnes sous main de justice",
    "travailleurs pauvres",
    "allocataires CAF",
    "ménages surendettés",
    "tout public",
    "habitants des quartiers prioritaires",
]
MISSION_VERBS = [
    "Accueil, information et orientation",
    "Accompagnement social",
    "Accompagnement professionnel",
    "Accompagnement budgétaire",
    "Aide alimentaire",
    "Domiciliation",
    "Hébergement d'urgence",
    "Médiation",
    "Insertion par l'activité économique",
    "Soutien à la parentalité",
    "Accès aux droits",
    "Prévention santé",
    "Lutte contre l'illettrisme",
    "Inclusion numérique",
    "Aide à la mobilité",
    "Écoute et soutien psychologique",
    "Animation de la vie sociale",
    "Permanences juridiques",
    "Aide aux démarches administratives",
    "Ateliers collectifs",
]
MISSION_TAILS = ["des {p}", "pour les {p}", "auprès des {p}", "en faveur des {p}", "à destination des {p}"]
FLOWERS = [
    "Les Coquelicots",
    "Les Tilleuls",
    "La Passerelle",
    "L'Escale",
    "Le Phare",
    "Les Lilas",
    "La Ruche",
    "L'Arche",
    "Le Trait d'union",
    "Les Glycines",
    "La Boussole",
    "L'Étincelle",
    "Le Relais",
    "Les Mimosas",
    "La Source",
    "L'Horizon",
]
ASSO_NAMES = [
    "Restos du Cœur",
    "Secours populaire",
    "Secours catholique",
    "Croix-Rouge",
    "Emmaüs",
    "Banque alimentaire",
    "Habitat et Humanisme",
    "Les Petits Frères des Pauvres",
    "Cultures du cœur",
    "Relais jeunes",
    "Solidarité femmes",
    "Entraide et partage",
    "France Bénévolat",
    "Lire et faire lire",
    "Accueil et solidarité",
    "Familles rurales",
    "Espoir",
    "Le Pont",
    "Aide à domicile en milieu rural",
    "Mobilité solidaire",
]
FIRST = [
    "Camille",
    "Hélène",
    "Karim",
    "Léa",
    "Mohamed",
    "Nathalie",
    "Sébastien",
    "Yasmine",
    "Jérôme",
    "Inès",
    "Thomas",
    "Aïcha",
    "Laëtitia",
    "François",
    "Chloé",
    "Mathieu",
    "Sophie",
    "Nicolas",
    "Julie",
    "Olivier",
    "Fatou",
    "Éric",
    "Manon",
    "Pierre",
    "Amélie",
    "Rachid",
    "Céline",
    "David",
    "Élodie",
    "Stéphane",
    "Nadia",
    "Vincent",
    "Aurélie",
    "Franck",
    "Lucie",
    "Youssef",
    "Marie",
    "Jean",
    "Anne",
    "Philippe",
    "Isabelle",
    "Christophe",
    "Sandrine",
    "Laurent",
    "Émilie",
    "Guillaume",
    "Zoé",
    "Hugo",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Benali",
    "Fournier",
    "Girard",
    "Nguyen",
    "Rousseau",
    "Lambert",
    "Faure",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "López",
    "Jean",
    "Dupuy",
    "Guillot",
    "Hubert",
    "Berger",
    "Carpentier",
    "Sánchez",
    "Dupuis",
    "Moulin",
    "Louis",
]
HOURS = [
    "Du lundi au vendredi, 9h-12h et 14h-17h",
    "Lundi, mercredi et vendredi 9h-12h",
    "Sur rendez-vous",
    "Mardi et jeudi 14h-18h",
    "Du lundi au jeudi 8h30-17h30, vendredi 8h30-16h",
    "Permanence le samedi matin",
]
# (kind code, weight): the national mix, roughly.
KIND_WEIGHTS = [
    ("association", 24),
    ("ccas", 12),
    ("mairie", 6),
    ("centre-social", 6),
    ("mds", 4),
    ("cms", 2),
    ("pmi", 2),
    ("mission-locale", 3),
    ("france-travail", 3),
    ("caf", 1),
    ("cpam", 1),
    ("msa", 1),
    ("mdph", 1),
    ("chrs", 3),
    ("residence-sociale", 2),
    ("maison-relais", 1),
    ("bailleur-social", 2),
    ("aci", 3),
    ("ei", 1),
    ("etti", 1),
    ("ai", 1),
    ("association-caritative", 5),
    ("cidff", 1),
    ("csapa", 1),
    ("cmp", 1),
    ("centre-hospitalier", 1),
    ("clic", 1),
    ("eaje", 2),
    ("organisme-formation", 3),
    ("prevention-specialisee", 1),
    ("udaf", 1),
    ("cias", 1),
    ("plie", 1),
    ("cap-emploi", 1),
    ("spip", 1),
    ("ecole", 2),
    ("autre", 2),
]
THEME_KEYS = list(kinds.THEMES)
ROLE_KEYS = list(kinds.PARTNER_ROLES)


def make_communes(rng: random.Random, n: int) -> list[str]:
    """``n`` commune names: the real ones first (most frequent), then invented, unique, rarer and rarer."""
    out = list(REAL_COMMUNES)
    seen = {c.lower() for c in out}
    while len(out) < n:
        name = rng.choice(_SYL_A) + rng.choice(_SYL_B) + rng.choice(_SYL_C)
        if rng.random() < 0.12:
            name += rng.choice(["-sur-", "-lès-", "-en-"]) + rng.choice(DEPARTEMENTS)
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


# ---------------------------------------------------------------------------------------------
# The plan: who exists when, and which event happens on which recorded day (cheap, seeded)
# ---------------------------------------------------------------------------------------------

# Entry codes in the per-day buckets (tuples of small ints keep 2M entries light).
JOIN, CHANGE, CONFIRM, LEAVE, REJOIN, MERGE, REGISTER, PCHANGE, START, END, CORRECT = range(11)
CODE_NAMES = [
    "StructureJoined",
    "StructureChanged",
    "StructureConfirmed",
    "StructureLeft",
    "StructureRejoined",
    "StructureMerged+Absorbed",
    "PersonRegistered",
    "PersonChanged",
    "ContactStarted",
    "ContactEnded",
    "ContactCorrected",
]
# CHANGE flags
PLAIN, RENAME, TO_POLE_EMPLOI, TO_FRANCE_TRAVAIL = range(4)


@dataclass
class Plan:
    seed: int
    n_structures: int
    n_people: int
    target_events: int
    structure_ids: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    join_day: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    commune: list[int] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    contact_person: list[int] = field(default_factory=list)
    contact_structure: list[int] = field(default_factory=list)
    contact_since: list[int] = field(default_factory=list)
    contact_until: list[int] = field(default_factory=list)  # 0: open
    contact_fixed_until: dict[int, int] = field(default_factory=dict)  # corrected until
    gone: set[int] = field(default_factory=set)  # structures that left for good or merged
    buckets: dict[int, list[tuple[int, ...]]] = field(default_factory=lambda: defaultdict(list))
    events: Counter[str] = field(default_factory=Counter)  # planned events by type
    big: int = 0
    small: int = 1

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


def build_plan(seed: int, n_structures: int, n_people: int, target_events: int) -> Plan:
    rng = random.Random(seed)
    p = Plan(seed, n_structures, n_people, target_events)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def add(day: int, entry: tuple[int, ...]) -> None:
        p.buckets[day].append(entry)
        p.events[CODE_NAMES[entry[0]]] += 2 if entry[0] == MERGE else 1  # a merge writes two streams

    # -- structures: identity and joining day --------------------------------------------------
    p.communes = make_communes(rng, max(200, n_structures // 25))
    weights = [1.0 / (r + 1) ** 0.9 for r in range(len(p.communes))]  # Zipf-like: a few big, a long rare tail
    cum = list(_accumulate(weights))
    kind_codes = [k for k, _ in KIND_WEIGHTS]
    kind_cum = list(_accumulate([w for _, w in KIND_WEIGHTS]))
    for s in range(n_structures):
        p.structure_ids.append(uid())
        p.kind.append(kind_codes[bisect.bisect(kind_cum, rng.random() * kind_cum[-1])])
        p.commune.append(bisect.bisect(cum, rng.random() * cum[-1]))
        if s < 2:
            day = DAY0 if s == 0 else date(2010, 3, 1).toordinal()
        elif rng.random() < 0.25:
            day = DAY0 + rng.randrange(366)  # the initial directory, entered in 2004
        else:
            day = DAY0 + rng.randrange(DAY_END - 120 - DAY0)
        p.join_day.append(day)
    p.kind[0], p.kind[1] = "france-travail", "ccas"
    p.commune[0], p.commune[1] = p.communes.index("Paris"), p.communes.index("Joigny")
    for s in range(n_structures):
        add(p.join_day[s], (JOIN, s))
    by_join = sorted(range(n_structures), key=lambda s: p.join_day[s])
    join_sorted = [p.join_day[s] for s in by_join]

    def structure_at(day: int) -> int:
        """A random structure already in the directory on ``day``."""
        k = bisect.bisect_right(join_sorted, day)
        return by_join[rng.randrange(max(1, k))]

    # -- people and their contacts -------------------------------------------------------------
    for person in range(n_people):
        p.person_ids.append(uid())
        registered = DAY0 + rng.randrange(DAY_END - 30 - DAY0)
        add(registered, (REGISTER, person))
        if rng.random() < 0.10:
            add(min(DAY_END, registered + rng.randrange(30, 3000)), (PCHANGE, person))
        n_contacts = rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0]
        day = registered + rng.randrange(0, 30)
        for i in range(n_contacts):
            if day >= DAY_END:
                break
            c = len(p.contact_ids)
            p.contact_ids.append(uid())
            s = structure_at(day)
            if s == 1 and rng.random() < 0.9:  # the small structure keeps few contacts
                s = structure_at(day)
            p.contact_person.append(person)
            p.contact_structure.append(s)
            p.contact_since.append(day)
            late = rng.random() < 0.04
            add(min(DAY_END, day + rng.randrange(5, 90)) if late else day, (START, c))
            until = day + rng.randrange(60, 3000)
            last = i == n_contacts - 1
            if until >= DAY_END or (last and rng.random() < 0.4):
                p.contact_until.append(0)
                break
            p.contact_until.append(until)
            late = rng.random() < 0.05
            recorded = min(DAY_END, until + rng.randrange(5, 120)) if late else until
            add(recorded, (END, c))
            if rng.random() < 0.03:  # "she actually left in March": a correction, recorded later
                fixed = max(day + 1, until - rng.randrange(5, 200))
                p.contact_fixed_until[c] = fixed
                add(min(DAY_END, recorded + rng.randrange(10, 400)), (CORRECT, c))
            day = until + rng.randrange(0, 60)
    # The 10,000-event structure has many contacts over the years too.
    big_contacts = rng.sample(range(len(p.contact_ids)), min(BIG_CONTACTS, len(p.contact_ids)))
    for c in big_contacts:
        p.contact_structure[c] = 0

    # -- structure histories -------------------------------------------------------------------
    lifecycle = 0
    fate: dict[int, str] = {}
    for s in range(2, n_structures):
        r = rng.random()
        if r < 0.03:
            fate[s] = "leave"
            lifecycle += 1 + (rng.random() < 0.3)
        elif r < 0.04:
            fate[s] = "merge"
            lifecycle += 1
    fixed = BIG_EVENTS + SMALL_EVENTS - 2  # beyond the two joins, counted with the joins
    forced_ft = sum(1 for s in range(2, n_structures) if p.kind[s] == "france-travail") * 1.5
    budget = max(0, target_events - p.total_events - lifecycle - fixed - int(forced_ft))
    mean_changes = budget / max(1, n_structures - 2)
    stable = [s for s in range(2, n_structures) if s not in fate]
    for s in range(2, n_structures):
        j = p.join_day[s]
        n = int(rng.expovariate(1 / mean_changes) + 0.5) if mean_changes > 0 else 0
        days = sorted(j + 1 + rng.randrange(max(1, DAY_END - j - 1)) for _ in range(n))
        entries: list[tuple[int, tuple[int, ...]]] = []
        if p.kind[s] == "france-travail":
            if j < ANPE_TO_PE:
                entries.append((ANPE_TO_PE, (CHANGE, s, 0, TO_POLE_EMPLOI)))
            if j < PE_TO_FT:
                entries.append((PE_TO_FT, (CHANGE, s, 0, TO_FRANCE_TRAVAIL)))
        for d in days:
            if rng.random() < 0.25:
                entries.append((d, (CONFIRM, s)))
            elif rng.random() < 0.02 and d - j > 20:  # back-dated correction of the sheet
                entries.append((d, (CHANGE, s, d - rng.randrange(15, min(720, d - j)), PLAIN)))
            else:
                entries.append((d, (CHANGE, s, 0, RENAME if rng.random() < 0.08 else PLAIN)))
        entries.sort(key=lambda e: e[0])
        end = entries[-1][0] if entries else j
        if s in fate and end < DAY_END - 2:
            d = end + 1 + rng.randrange(max(1, DAY_END - end - 1))
            if fate[s] == "leave":
                entries.append((d, (LEAVE, s)))
                p.gone.add(s)
                if rng.random() < 0.3 and d < DAY_END - 2:
                    entries.append((d + 1 + rng.randrange(DAY_END - d - 1), (REJOIN, s)))
                    p.gone.discard(s)
            else:
                target = stable[rng.randrange(len(stable))]
                if p.join_day[target] < d:
                    entries.append((d, (MERGE, s, target)))
                    p.gone.add(s)
        for d, e in entries:
            add(d, e)
    # The two measured structures: exactly 10 and 10,000 events in their streams.
    for s, n, start in ((1, SMALL_EVENTS - 1, p.join_day[1]), (0, BIG_EVENTS - 1, DAY0)):
        for d in sorted(start + 1 + rng.randrange(DAY_END - start - 1) for _ in range(n)):
            r = rng.random()
            if r < 0.25:
                add(d, (CONFIRM, s))
            elif r < 0.26 and s == 0 and d - start > 200:
                add(d, (CHANGE, s, d - rng.randrange(15, 120), PLAIN))
            else:
                add(d, (CHANGE, s, 0, RENAME if r > 0.999 or (s == 1 and r > 0.9) else PLAIN))  # ~10 renames in 22 years
    # Top up with confirmations if the mix fell short of the target.
    while p.total_events < target_events:
        s = rng.randrange(2, n_structures)
        if s in p.gone:
            continue
        add(p.join_day[s] + 1 + rng.randrange(max(1, DAY_END - p.join_day[s] - 1)), (CONFIRM, s))
    return p


def _accumulate(xs: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for x in xs:
        total += x
        yield total


# ---------------------------------------------------------------------------------------------
# Materialising the plan into events, appended through EventStore.append in large batches
# ---------------------------------------------------------------------------------------------


class PreloadedKeys:
    """Stands in for ``store.keys`` during generation: the people's keys, inserted in bulk beforehand.

    ``SubjectKeys.key_for`` costs a read (and, the first time, a write) transaction per person;
    300,000 of them would dominate the generation, which only needs the keys to exist."""

    def __init__(self, real: Any, keys: dict[str, bytes]) -> None:
        self.real = real
        self.keys = keys

    def key_for(self, subject_id: str) -> bytes:
        key = self.keys.get(subject_id)
        return key if key is not None else self.real.key_for(subject_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@dataclass
class GenStats:
    seconds: float = 0.0
    events: int = 0
    appends: int = 0
    keys_seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of this process (excludes waits and, on PostgreSQL, the server's work)
    check_us: float = 0.0  # the real per-write version check, µs (measured on a sample)
    writes: int = 0  # writes to an existing stream (each would pay that check)
    by_type: Counter[str] = field(default_factory=Counter)


class Materialiser:
    """Turns plan entries into annuaire events, day by day, with seeded text."""

    def __init__(self, plan: Plan) -> None:
        self.p = plan
        self.rng = random.Random(plan.seed + 1)
        self.name: dict[int, str] = {}
        self.stream_version: dict[str, int] = {}

    # -- text ------------------------------------------------------------------------------
    def commune_list(self, s: int) -> list[str]:
        main = self.p.communes[self.p.commune[s]]
        extra = [self.p.communes[self.rng.randrange(len(self.p.communes))] for _ in range(self.rng.choice((0, 0, 1, 2, 4)))]
        return list(dict.fromkeys([main, *extra]))

    def structure_name(self, s: int, variant: int = 0) -> tuple[str, str | None]:
        """(name, acronym) for the kind of ``s``; ``variant`` picks another wording (renames)."""
        r = self.rng
        k = self.p.kind[s]
        town = self.p.communes[self.p.commune[s]]
        kind = kinds.kind_by_code(k)
        acronym = kind.acronym if kind and r.random() < 0.5 else None
        if s == 0:
            return (["Pôle emploi – direction régionale", "Pôle emploi – direction générale", "Pôle emploi – siège"][variant % 3], "PE")
        if k == "france-travail":
            return (f"ANPE – agence locale de {town}", "ANPE")
        if k == "ccas":
            return ([f"CCAS de {town}", f"Centre communal d'action sociale de {town}"][variant % 2], acronym)
        if k == "mds":
            forms = [f"Maison départementale des solidarités de {town}", f"MDS {town}", f"Maison des solidarités – {town}"]
            return (forms[variant % 3], "MDS")
        if k == "mission-locale":
            return ([f"Mission locale de {town}", f"Mission locale du Pays de {town}"][variant % 2], "ML")
        if k == "centre-social":
            return (f"Centre social {r.choice(FLOWERS)} – {town}", "CS" if r.random() < 0.3 else None)
        if k in ("association", "association-caritative"):
            base = r.choice(ASSO_NAMES)
            if r.random() < 0.35:
                letters = "".join(r.choice("ABCDEFGHIJLMNOPRSTUV") for _ in range(r.randrange(3, 6)))
                return (f"Association {base} – {town}", letters)
            return (f"{base} – {town}" if variant % 2 == 0 else f"{base}, antenne de {town}", None)
        if k == "caf":
            return (f"Caisse d'allocations familiales – {r.choice(DEPARTEMENTS)}", "CAF")
        label = kind.label.split(" (")[0].split(",")[0] if kind else "Structure"
        return (f"{label} de {town}" if variant % 2 == 0 else f"{label} – {town}", acronym)

    def missions(self) -> str:
        r = self.rng
        return " ; ".join(
            f"{r.choice(MISSION_VERBS)} {r.choice(MISSION_TAILS).format(p=r.choice(PUBLICS))}" for _ in range(r.randrange(1, 4))
        )

    def slug(self, s: int) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.p.structure_ids[s][:8] + "-" + self.p.kind[s])

    def field_value(self, s: int, f: str) -> Any:
        r = self.rng
        if f == "phone":
            return "0" + str(r.randrange(1, 6)) + "".join(f" {r.randrange(100):02d}" for _ in range(4))
        if f == "email":
            return f"{r.choice(('contact', 'accueil', 'secretariat', 'direction'))}@{self.slug(s)}.example"
        if f == "website":
            return f"https://www.{self.slug(s)}.example/{r.choice(('', 'accueil', 'nous-contacter'))}"
        if f == "address":
            return f"{r.randrange(1, 200)} {r.choice(STREETS)}, {self.p.communes[self.p.commune[s]]}"
        if f == "opening_hours":
            return r.choice(HOURS)
        if f == "missions":
            return self.missions()
        if f == "publics":
            return r.sample(PUBLICS, r.randrange(1, 5))
        if f == "themes":
            return r.sample(THEME_KEYS, r.randrange(1, 4))
        if f == "roles":
            return r.sample(ROLE_KEYS, r.randrange(1, 3))
        if f == "communes":
            return self.commune_list(s)
        raise KeyError(f)

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    # -- events ----------------------------------------------------------------------------
    def events_of(self, entry: tuple[int, ...], day: int) -> tuple[str | None, list[tuple[str, Event]], str | None]:
        """(effective instant or None for the day itself, [(stream id, event), ...], reason) of one entry."""
        p, r = self.p, self.rng
        code = entry[0]
        if code == JOIN:
            s = entry[1]
            name, acronym = self.structure_name(s)
            self.name[s] = name
            kind = kinds.kind_by_code(p.kind[s])
            sheet = Sheet(
                name=name, acronym=acronym, kind=p.kind[s], public=kind.public if kind else None,
                roles=self.field_value(s, "roles"), email=self.field_value(s, "email"), phone=self.field_value(s, "phone"),
                website=self.field_value(s, "website") if r.random() < 0.6 else None, address=self.field_value(s, "address"),
                opening_hours=r.choice(HOURS), communes=self.commune_list(s), missions=self.missions(),
                publics=self.field_value(s, "publics"), themes=self.field_value(s, "themes"),
            )  # fmt: skip
            return None, [(p.structure_ids[s], StructureJoined(structure_id=p.structure_ids[s], sheet=sheet))], None
        if code == CHANGE:
            _, s, back, flag = entry
            sid = p.structure_ids[s]
            old = self.name[s]
            if flag == TO_POLE_EMPLOI:
                new = old.replace("ANPE – agence locale de", "Pôle emploi – agence de")
                changes, reason = SheetChanges(name=new, acronym=None), "Fusion ANPE-Assédic"
            elif flag == TO_FRANCE_TRAVAIL:
                new = re.sub(r"^(ANPE – agence locale de|Pôle emploi – agence de)", "France Travail – agence de", old)
                changes, reason = SheetChanges(name=new, acronym="FT"), "Loi pour le plein emploi"
            elif flag == RENAME:
                new = old
                for variant in range(1, 6):
                    new, _ = self.structure_name(s, variant)
                    if new != old:
                        break
                changes, reason = SheetChanges(name=new), None
            else:
                fields = r.sample(
                    ("phone", "email", "website", "address", "opening_hours", "missions", "publics", "themes", "communes", "roles"),
                    r.choice((1, 1, 1, 2, 3)),
                )
                changes, reason = SheetChanges(**{f: self.field_value(s, f) for f in fields}), None
                new = old
            previous = old if new != old else None
            self.name[s] = new
            effective = day_instant(back) if back else None
            return effective, [(sid, StructureChanged(structure_id=sid, changes=changes, previous_name=previous))], reason
        if code == CONFIRM:
            sid = p.structure_ids[entry[1]]
            return None, [(sid, StructureConfirmed(structure_id=sid))], None
        if code == LEAVE:
            sid = p.structure_ids[entry[1]]
            return None, [(sid, StructureLeft(structure_id=sid))], None
        if code == REJOIN:
            sid = p.structure_ids[entry[1]]
            return None, [(sid, StructureRejoined(structure_id=sid))], None
        if code == MERGE:
            _, s, target = entry
            sid, into = p.structure_ids[s], p.structure_ids[target]
            return (
                None,
                [
                    (sid, StructureMerged(structure_id=sid, into=into)),
                    (into, StructureAbsorbed(structure_id=into, absorbed=sid, absorbed_name=self.name[s])),
                ],
                None,
            )
        if code == REGISTER:
            pid = p.person_ids[entry[1]]
            name = self.person_name()
            email = re.sub(r"[^a-z]+", ".", _ascii(name).lower()) + f"{r.randrange(100)}@exemple.fr"
            phone = "06" + "".join(f" {r.randrange(100):02d}" for _ in range(4)) if r.random() < 0.7 else None
            return None, [(pid, PersonRegistered(person_id=pid, full_name=name, email=email, phone=phone))], None
        if code == PCHANGE:
            pid = p.person_ids[entry[1]]
            phone = "07" + "".join(f" {r.randrange(100):02d}" for _ in range(4))
            return None, [(pid, PersonChanged(person_id=pid, phone=phone))], None
        if code == START:
            c = entry[1]
            cid = p.contact_ids[c]
            since = day_instant(p.contact_since[c])
            role = r.choices(("referent", "direction", "personne-ressource"), (6, 2, 2))[0]
            theme = r.choice(THEME_KEYS) if role == "personne-ressource" else None
            event = ContactStarted(
                contact_id=cid, person_id=p.person_ids[p.contact_person[c]], structure_id=p.structure_ids[p.contact_structure[c]],
                role=role, theme=theme, since=since,
            )  # fmt: skip
            return (since if p.contact_since[c] != day else None), [(cid, event)], None
        if code == END:
            c = entry[1]
            until = day_instant(p.contact_until[c])
            return (
                (until if p.contact_until[c] != day else None),
                [(p.contact_ids[c], ContactEnded(contact_id=p.contact_ids[c], until=until))],
                None,
            )
        if code == CORRECT:
            c = entry[1]
            until = day_instant(p.contact_fixed_until[c])
            return until, [(p.contact_ids[c], ContactCorrected(contact_id=p.contact_ids[c], until=until))], None
        raise ValueError(code)


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def generate(trame: Trame, plan: Plan, batch: int = 1000) -> GenStats:
    """Append every planned event through ``EventStore.append``: one call per recorded day and
    effective date (split at ``batch`` events), ``recorded_at`` following the days."""
    stats = GenStats()
    store = trame.store
    t0 = time.perf_counter()
    keys = {pid: os.urandom(32) for pid in plan.person_ids}
    with trame.db.write() as cur:
        rows = [(pid, base64.b64encode(k).decode()) for pid, k in keys.items()]
        for i in range(0, len(rows), 5000):
            cur.executemany("INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?)", rows[i : i + 5000])
    stats.keys_seconds = time.perf_counter() - t0
    real_keys = store.keys
    store.keys = PreloadedKeys(real_keys, keys)  # type: ignore[assignment]
    m = Materialiser(plan)
    versions = m.stream_version
    # EventStore.append checks each stream's version with one read transaction per write
    # before inserting; the generator knows every version, so it answers that check itself
    # (the recorder's unique (stream, version) constraint still guards the insert). What the
    # real check costs is measured on a sample below and reported.
    store.version_of = lambda stream_id: versions.get(str(stream_id), 0)  # type: ignore[method-assign]
    t_start = time.perf_counter()
    last_report = t_start
    done = 0
    writes_total = 0
    try:
        for day in sorted(plan.buckets):
            groups: dict[tuple[str | None, str | None], list[tuple[str, Event]]] = {}
            for entry in plan.buckets[day]:
                effective, pairs, reason = m.events_of(entry, day)
                groups.setdefault((effective, reason), []).extend(pairs)
                stats.by_type[CODE_NAMES[entry[0]]] += len(pairs)
            second = 8 * 3600
            for (effective, reason), pairs in groups.items():
                for start in range(0, len(pairs), batch):
                    writes: dict[str, Write] = {}
                    for sid, event in pairs[start : start + batch]:
                        w = writes.get(sid)
                        if w is None:
                            w = writes[sid] = Write(uuid.UUID(sid), versions.get(sid, 0), [])
                        w.events.append(event)
                    ctx = Context(author=SYSTEM, territory=TERRITORY, effective=effective or day_instant(day), reason=reason)
                    store.append(ctx, *writes.values(), recorded_at=day_instant(day, second))
                    second += 1
                    for sid, w in writes.items():
                        versions[sid] = w.expected_version + len(w.events)
                    writes_total += sum(1 for w in writes.values() if w.expected_version)
                    n = sum(len(w.events) for w in writes.values())
                    stats.events += n
                    stats.appends += 1
                    done += n
            now = time.perf_counter()
            if now - last_report > 30:
                last_report = now
                rate = done / (now - t_start)
                progress(f"generated {done:,} events ({date.fromordinal(day)}), {rate:,.0f} events/s")
    finally:
        store.keys = real_keys  # type: ignore[assignment]
        del store.version_of  # back to the class's method
    stats.seconds = time.perf_counter() - t_start
    # The real pre-check, on a sample of streams: its cost per write, and that it agrees.
    sample = random.Random(plan.seed + 4).sample(sorted(versions), min(2000, len(versions)))
    t = time.perf_counter()
    wrong = [sid for sid in sample if store.version_of(uuid.UUID(sid)) != versions[sid]]
    stats.check_us = (time.perf_counter() - t) / max(1, len(sample)) * 1e6
    stats.writes = writes_total
    if wrong:
        raise RuntimeError(f"{len(wrong)} streams are not at the version the generator tracked, e.g. {wrong[0]}")
    return stats


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------


class Backend:
    name = ""

    def open(self) -> Database:
        raise NotImplementedError

    def dispose(self, db: Database) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return ""

    def size(self, db: Database) -> int:
        return 0


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, tmpdir: str | None, keep: bool, reuse: str | None) -> None:
        self.keep = keep
        self.reuse = reuse
        self.dir = None if reuse else tempfile.mkdtemp(prefix="trame-annuaire-bench-", dir=tmpdir)
        self.path = reuse or str(Path(self.dir) / "annuaire.db")  # type: ignore[arg-type]
        if not keep and not reuse:
            atexit.register(lambda: shutil.rmtree(self.dir, ignore_errors=True))  # type: ignore[arg-type]

    def open(self) -> Database:
        return SQLiteDatabase(self.path)

    def dispose(self, db: Database) -> None:
        db.close()
        if not self.keep and not self.reuse:
            shutil.rmtree(self.dir, ignore_errors=True)  # type: ignore[arg-type]

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (file {self.path})"

    def size(self, db: Database) -> int:
        return sum(os.path.getsize(f) for f in (self.path, self.path + "-wal") if os.path.exists(f))


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, url: str, keep: bool, reuse: str | None) -> None:
        import psycopg

        self.url = url.split("?")[0]
        self.keep = keep
        self.reuse = reuse
        self.schema = reuse or f"bench_annuaire_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url, connect_timeout=3) as conn:
            self.server = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]  # type: ignore[index]
        if not keep and not reuse:
            atexit.register(self._drop)

    def open(self) -> Database:
        return open_database(f"{self.url}?schema={self.schema}")

    def _drop(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        except Exception:  # noqa: S110 - best effort, the figure is optional
            pass

    def dispose(self, db: Database) -> None:
        if not self.keep and not self.reuse:
            self._drop()
        db.close()

    def describe(self) -> str:
        return f"{self.server} (schema {self.schema})"

    def size(self, db: Database) -> int:
        with db.read() as cur:
            return int(
                cur.scalar(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = ? AND c.relkind IN ('r', 'm')",
                    (self.schema,),
                )
            )


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    group: str
    target_ms: float | None = None
    times: list[float] = field(default_factory=list)  # ms
    totals: list[int] = field(default_factory=list)  # results per query (search) or rows
    note: str = ""
    truncated: bool = False

    def pct(self, q: float) -> float:
        if not self.times:
            return float("nan")
        xs = sorted(self.times)
        return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]

    @property
    def p50(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def p95(self) -> float:
        return self.pct(0.95)

    @property
    def met(self) -> bool | None:
        return None if self.target_ms is None or not self.times else self.p95 < self.target_ms


class StatementTimer:
    """Wall time per SQL statement text (execute + fetch), while active."""

    def __init__(self) -> None:
        self.stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.params: dict[str, tuple[Any, ...]] = {}
        self.slowest: dict[str, tuple[float, tuple[Any, ...]]] = {}

    @contextmanager
    def active(self) -> Iterator[StatementTimer]:
        originals = (Cursor.execute, Cursor.fetchone, Cursor.fetchall)
        timer = self

        def note(cur: Cursor, dt: float) -> None:
            sql = getattr(cur, "_bench_sql", None)
            if sql is not None:
                timer.stats[sql][1] += dt

        def execute(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> Cursor:
            t = time.perf_counter()
            try:
                return originals[0](cur, sql, params)
            finally:
                dt = time.perf_counter() - t
                cur._bench_sql = sql  # type: ignore[attr-defined]
                st = timer.stats[sql]
                st[0] += 1
                st[1] += dt
                if dt > timer.slowest.get(sql, (-1.0, ()))[0]:
                    timer.slowest[sql] = (dt, tuple(params))

        def fetchone(cur: Cursor) -> Any:
            t = time.perf_counter()
            try:
                return originals[1](cur)
            finally:
                note(cur, time.perf_counter() - t)

        def fetchall(cur: Cursor) -> Any:
            t = time.perf_counter()
            try:
                return originals[2](cur)
            finally:
                note(cur, time.perf_counter() - t)

        Cursor.execute, Cursor.fetchone, Cursor.fetchall = execute, fetchone, fetchall  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Cursor.execute, Cursor.fetchone, Cursor.fetchall = originals  # type: ignore[method-assign]


def run_series(series: Series, calls: Sequence[Callable[[], int | None]], budget_s: float) -> Series:
    """Time each call (ms); warm-up first; stop early past ``budget_s`` (the report says so)."""
    for call in calls[: min(10, len(calls))]:
        call()
    gc.collect()
    start = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        n = call()
        series.times.append((time.perf_counter() - t) * 1000)
        if n is not None:
            series.totals.append(n)
        if time.perf_counter() - start > budget_s:
            series.truncated = True
            break
    return series


def run_paired(a: Series, b: Series, calls_a: Sequence[Callable[[], Any]], calls_b: Sequence[Callable[[], Any]]) -> None:
    """Alternate the two series call by call, so that machine noise hits both alike."""
    for call in [*calls_a[:10], *calls_b[:10]]:
        call()
    gc.collect()
    for ca, cb in zip(calls_a, calls_b, strict=True):
        for s, call in ((a, ca), (b, cb)):
            t = time.perf_counter()
            call()
            s.times.append((time.perf_counter() - t) * 1000)


@dataclass
class QueryClass:
    label: str
    terms: list[str]
    weight: int


def search_mix(plan: Plan, rng: random.Random) -> list[QueryClass]:
    """Rare and common terms, drawn from the generated vocabulary."""
    n = len(plan.communes)
    tail = [c for c in plan.communes[len(REAL_COMMUNES) :] if " " not in c and "-" not in c][-max(50, n // 3) :]
    return [
        QueryClass("rare commune (invented, Zipf tail)", rng.sample(tail, min(40, len(tail))), 20),
        QueryClass(
            "real commune (seeds: meaux, agen, fumel, joigny, epernon, typed without accents)",
            ["meaux", "agen", "fumel", "joigny", "epernon", "Épernon", "sens", "nerac"],
            15,
        ),
        QueryClass("acronym (mds, ccas, chrs, ml, caf)", ["mds", "ccas", "chrs", "ml", "caf", "MDS"], 15),
        QueryClass(
            "common name word (association, solidarites, centre social, secours)",
            ["association", "solidarites", "centre social", "secours", "restos du coeur", "mission locale"],
            15,
        ),
        QueryClass(
            "two words (kind + commune)", ["ccas meaux", "mission locale agen", "mds paris", "centre social lyon", "ccas joigny"], 15
        ),
        QueryClass("historical name (pole emploi, found by former names)", ["pole emploi", "anpe"], 10),
        QueryClass("prefix while typing (epern, solid, assoc)", ["epern", "solid", "assoc", "jo", "ma"], 10),
    ]


def measure(trame: Trame, backend: str, plan: Plan, args: argparse.Namespace) -> tuple[list[Series], dict[str, Any]]:
    d = directory(trame)
    rng = random.Random(plan.seed + 2)
    q = args.queries
    budget = args.series_budget
    extra: dict[str, Any] = {}
    out: list[Series] = []
    ordinary = [s for s in range(2, plan.n_structures)]

    def instant_between(lo: int, hi: int) -> str:
        return day_instant(lo + rng.randrange(max(1, hi - lo)), rng.randrange(86400))

    # -- one structure as of a past date ------------------------------------------------------
    picks = [rng.choice(ordinary) for _ in range(q)]
    dates = [instant_between(plan.join_day[s], DAY_END) for s in picks]
    found = 0

    def get_at(s: int, at: str, known: str | None = None) -> Callable[[], int]:
        def call() -> int:
            return 0 if d.get_structure(TERRITORY, plan.structure_ids[s], as_of=at, known_at=known) is None else 1

        return call

    progress(f"{backend}: get_structure(as_of)")
    series = run_series(
        Series("get_structure(as_of=past date)", "as-of lookup", TARGET_ASOF_MS),
        [get_at(s, at) for s, at in zip(picks, dates, strict=True)],
        budget,
    )
    found = sum(series.totals)
    series.note = f"{found}/{len(series.totals)} found in the network at that date"
    out.append(series)
    known = [instant_between(plan.join_day[s], DAY_END) for s in picks]
    pairs = [(s, min(a, k), max(a, k)) for s, a, k in zip(picks, dates, known, strict=True)]
    series = run_series(
        Series("get_structure(as_of, known_at=past)", "as-of lookup", TARGET_ASOF_MS), [get_at(s, a, k) for s, a, k in pairs], budget
    )
    series.note = "as known at a past recording time (transaction time)"
    out.append(series)

    # -- its contacts as of a date ----------------------------------------------------------
    progress(f"{backend}: contacts(as_of)")
    with_contacts = sorted(set(plan.contact_structure) - {0, 1})
    picks = [rng.choice(with_contacts) for _ in range(q)]

    def contacts_at(s: int, at: str, known: str | None = None) -> Callable[[], int]:
        def call() -> int:
            return len(d.contacts(TERRITORY, plan.structure_ids[s], as_of=at, known_at=known))

        return call

    series = run_series(
        Series("contacts(structure, as_of=past date)", "as-of lookup", TARGET_ASOF_MS),
        [contacts_at(s, instant_between(plan.join_day[s], DAY_END)) for s in picks],
        budget,
    )
    series.note = "rows returned per query (median): " + _median_int(series.totals)
    out.append(series)
    series = run_series(
        Series("contacts(10,000-event structure, as_of)", "as-of lookup", TARGET_ASOF_MS),
        [contacts_at(0, instant_between(DAY0, DAY_END)) for _ in range(q)],
        budget,
    )
    series.note = f"{BIG_CONTACTS} contacts over 22 years; rows returned (median): " + _median_int(series.totals)
    out.append(series)

    # -- 10 events vs 10,000 events ---------------------------------------------------------
    progress(f"{backend}: 10 vs 10,000 events")
    small = Series("get_structure(as_of), 10-event structure", "10 vs 10,000", TARGET_ASOF_MS)
    big = Series("get_structure(as_of), 10,000-event structure", "10 vs 10,000", TARGET_ASOF_MS)
    run_paired(
        small,
        big,
        [get_at(1, instant_between(plan.join_day[1], DAY_END)) for _ in range(q)],
        [get_at(0, instant_between(DAY0, DAY_END)) for _ in range(q)],
    )
    out += [small, big]
    small_k = Series("get_structure(as_of, known_at), 10-event structure", "10 vs 10,000", TARGET_ASOF_MS)
    big_k = Series("get_structure(as_of, known_at), 10,000-event structure", "10 vs 10,000", TARGET_ASOF_MS)
    calls_s, calls_b = [], []
    for _ in range(q):
        a, k = sorted((instant_between(plan.join_day[1], DAY_END), instant_between(plan.join_day[1], DAY_END)))
        calls_s.append(get_at(1, a, k))
        a, k = sorted((instant_between(DAY0, DAY_END), instant_between(DAY0, DAY_END)))
        calls_b.append(get_at(0, a, k))
    run_paired(small_k, big_k, calls_s, calls_b)
    out += [small_k, big_k]

    # -- full-text search --------------------------------------------------------------------
    progress(f"{backend}: list_structures(q=...)")
    mix = search_mix(plan, rng)
    weights = [c.weight for c in mix]
    drawn = [rng.choices(mix, weights)[0] for _ in range(q)]
    queries = [(c.label, rng.choice(c.terms)) for c in drawn]
    by_class: dict[str, Series] = {c.label: Series(c.label, "search by class", TARGET_SEARCH_MS) for c in mix}
    overall = Series("list_structures(q=mix), all classes", "search", TARGET_SEARCH_MS)

    def search_call(term: str, as_of: str | None = None) -> Callable[[], int]:
        def call() -> int:
            return d.list_structures(TERRITORY, term, as_of=as_of, limit=50)[1]

        return call

    for _label, term in queries[:10]:
        search_call(term)()
    gc.collect()
    started = time.perf_counter()
    for label, term in queries:
        t = time.perf_counter()
        total = search_call(term)()
        ms = (time.perf_counter() - t) * 1000
        for s in (overall, by_class[label]):
            s.times.append(ms)
            s.totals.append(total)
        if time.perf_counter() - started > budget:
            overall.truncated = True
            break
    overall.note = "matches per query (median): " + _median_int(overall.totals)
    out.append(overall)
    for s in by_class.values():
        s.note = f"examples: {', '.join(sorted({t for lbl, t in queries if lbl == s.name})[:4])}; matches (median): " + _median_int(
            s.totals
        )
        out.append(s)
    series = run_series(
        Series("list_structures(q='pole emploi', as_of=2010-06-01)", "search", TARGET_SEARCH_MS),
        [search_call("pole emploi", day_instant(date(2010, 6, 1).toordinal(), 43200)) for _ in range(max(20, q // 5))],
        budget,
    )
    series.note = "the issue's question, by the historical name; matches (median): " + _median_int(series.totals)
    out.append(series)

    # -- the directory page over HTTP --------------------------------------------------------
    progress(f"{backend}: HTTP directory page")
    from litestar.testing import TestClient

    from core.web.app import create_app

    with TestClient(create_app(trame)) as client:
        _login(client, "bench@exemple.fr")
        base = f"/t/{TERRITORY}/annuaire/"
        ok = client.get(base + "?" + urlencode({"q": "mds"}))
        assert ok.status_code == 200 and "Annuaire" in ok.text, ok.text[:500]
        extra["page_bytes"] = len(ok.content)

        def get(url: str) -> Callable[[], int]:
            def call() -> int:
                r = client.get(url)
                if r.status_code != 200:
                    raise RuntimeError(f"GET {url}: {r.status_code}")
                return 1

            return call

        terms = [rng.choice(rng.choices(mix, weights)[0].terms) for _ in range(q)]
        series = run_series(
            Series("GET /t/{t}/annuaire/?q=(mix)", "HTTP page", TARGET_SEARCH_MS),
            [get(base + "?" + urlencode({"q": t})) for t in terms],
            budget,
        )
        series.note = "signed in (member), 50 results per page, rendered HTML"
        out.append(series)
        series = run_series(
            Series("GET /t/{t}/annuaire/ (no q, page 1)", "HTTP page", TARGET_SEARCH_MS), [get(base) for _ in range(q)], budget
        )
        series.note = "the whole directory at today's date, in name order"
        out.append(series)
        pages = max(1, plan.n_structures // 50)
        series = run_series(
            Series("GET /t/{t}/annuaire/?page=N (no q, random page)", "HTTP page", TARGET_SEARCH_MS),
            [get(base + f"?page={rng.randrange(1, pages)}") for _ in range(max(20, q // 5))],
            budget,
        )
        series.note = f"pages 1-{pages}"
        out.append(series)
    return out, extra


def _median_int(xs: list[int]) -> str:
    return f"{statistics.median(xs):,.0f}" if xs else "n/a"


def _login(client: Any, email: str) -> None:
    page = client.get("/connexion")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF field on the login page"
    r = client.post("/connexion", data={"email": email, "password": PASSWORD, "_csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]


# ---------------------------------------------------------------------------------------------
# Diagnosis: per-statement time, plans, profiles
# ---------------------------------------------------------------------------------------------


def statement_breakdown(trame: Trame, calls: Sequence[Callable[[], Any]]) -> list[tuple[str, int, float, tuple[Any, ...]]]:
    """(sql, count, total ms, params of its slowest run) for the statements run by ``calls``, slowest first."""
    timer = StatementTimer()
    with timer.active():
        for call in calls:
            call()
    rows = [(sql, int(c), t * 1000, timer.slowest.get(sql, (0, ()))[1]) for sql, (c, t) in timer.stats.items()]
    return sorted(rows, key=lambda r: -r[2])


def explain(trame: Trame, sql: str, params: tuple[Any, ...]) -> list[str]:
    db = trame.db
    with db.read() as cur:
        if db.dialect == "sqlite":
            rows = cur.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            depth: dict[int, int] = {0: -1}
            lines = []
            for r in rows:
                node, parent, detail = r[0], r[1], r[3]
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + str(detail))
            return lines
        rows = cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
        return [str(next(iter(r.values()))) for r in rows]


def profile_calls(calls: Sequence[Callable[[], Any]], top: int = 12) -> list[str]:
    prof = cProfile.Profile()
    prof.enable()
    for call in calls:
        call()
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime")
    lines = ["| ncalls | tottime s | cumtime s | function |", "|---:|---:|---:|---|"]
    width = stats.stats  # type: ignore[attr-defined]
    entries = sorted(width.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in entries:
        lines.append(f"| {nc:,} | {tt:.3f} | {ct:.3f} | `{_short(filename)}:{line}({func})` |")
    return lines


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def diagnose(trame: Trame, plan: Plan, series: list[Series], args: argparse.Namespace) -> list[str]:
    """Statement breakdown and plans for every measure; cProfile for the ones that miss their target."""
    d = directory(trame)
    rng = random.Random(plan.seed + 3)
    n = max(5, min(40, args.queries // 10))
    lines: list[str] = []
    mix = search_mix(plan, rng)
    common = ["association", "mds", "centre social", "paris", "pole emploi", "epern"]
    rare_term = mix[0].terms[0]
    now = clock.now()
    probes: list[tuple[str, list[Callable[[], Any]]]] = [
        (
            "get_structure(as_of) on the 10,000-event structure",
            [lambda: d.get_structure(TERRITORY, plan.structure_ids[0], as_of=day_instant(DAY0 + rng.randrange(8000)))] * n,
        ),
        (
            "get_structure(as_of, known_at) on the 10,000-event structure",
            [
                lambda: d.get_structure(
                    TERRITORY,
                    plan.structure_ids[0],
                    as_of=day_instant(date(2012, 1, 1).toordinal()),
                    known_at=day_instant(date(2020, 1, 1).toordinal()),
                )
            ]
            * n,
        ),
        (
            "contacts(as_of) on the 10,000-event structure",
            [lambda: d.contacts(TERRITORY, plan.structure_ids[0], as_of=day_instant(date(2015, 1, 1).toordinal()))] * n,
        ),
        *[(f"list_structures(q={t!r})", [lambda t=t: d.list_structures(TERRITORY, t, limit=50)] * max(3, n // 4)) for t in common],
        (f"list_structures(q={rare_term!r}) (rare)", [lambda: d.list_structures(TERRITORY, rare_term, limit=50)] * max(3, n // 4)),
        (
            "list_structures() without q (the directory page's query)",
            [lambda: d.list_structures(TERRITORY, None, as_of=now, limit=50)] * max(3, n // 4),
        ),
    ]
    lines.append("Each probe is run a few times with every SQL statement timed (execute + fetch). The slowest")
    lines.append("statements are shown with their plan (SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS)` of")
    lines.append("the slowest run's parameters).")
    lines.append("")
    for label, calls in probes:
        progress(f"{trame.db.dialect}: diagnosing {label}")
        t = time.perf_counter()
        rows = statement_breakdown(trame, calls)
        wall = (time.perf_counter() - t) * 1000 / len(calls)
        lines.append(f"#### {label}: {wall:.1f} ms per call")
        lines.append("")
        lines.append("| statement | runs/call | ms/call |")
        lines.append("|---|---:|---:|")
        for sql, count, total, _ in rows[:4]:
            lines.append(f"| `{_one_line(sql)}` | {count / len(calls):.1f} | {total / len(calls):.2f} |")
        lines.append("")
        sql, _, total, params = rows[0]
        if total / len(calls) > 1.0 or trame.db.dialect == "postgresql":
            lines.append("Plan of the slowest statement:")
            lines.append("")
            lines.append("```")
            lines += explain(trame, sql, params)[:40]
            lines.append("```")
            lines.append("")
    missed = [s for s in series if s.target_ms is not None and s.times and s.p95 >= s.target_ms and s.group in ("search", "HTTP page")]
    if missed and not args.no_profile:
        lines.append("#### cProfile of the slowest search terms and the page without q (own time, top 12)")
        lines.append("")
        calls = [lambda t=t: d.list_structures(TERRITORY, t, limit=50) for t in ("association", "mds", "paris")]
        calls.append(lambda: d.list_structures(TERRITORY, None, limit=50))
        lines += profile_calls(calls * 2)
        lines.append("")
    return lines


def _one_line(sql: str) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    return (text[:400] + " …") if len(text) > 400 else text


# ---------------------------------------------------------------------------------------------
# Database facts
# ---------------------------------------------------------------------------------------------


def facts(trame: Trame, backend: Backend, plan: Plan) -> dict[str, Any]:
    forever = clock.FOREVER
    search_count = (
        "SELECT COUNT(*) FROM annuaire_structure_search"
        if trame.db.dialect == "postgresql"
        else "SELECT COUNT(*) FROM annuaire_structure_fts_docsize"
    )
    big = plan.structure_ids[0]
    queries: list[tuple[str, str, tuple[Any, ...]]] = [
        ("annuaire_structures rows (all versions)", "SELECT COUNT(*) FROM annuaire_structures", ()),
        ("… as known now (recorded_to open)", "SELECT COUNT(*) FROM annuaire_structures WHERE recorded_to = ?", (forever,)),
        (
            "… as known now and valid today, present",
            "SELECT COUNT(*) FROM annuaire_structures WHERE recorded_to = ? AND valid_to = ? AND present = 1",
            (forever, forever),
        ),
        (
            "… of the 10,000-event structure (all / as known now)",
            "SELECT COUNT(*) || ' / ' || SUM(CASE WHEN recorded_to = ? THEN 1 ELSE 0 END) FROM annuaire_structures WHERE entity_id = ?",
            (forever, big),
        ),
        ("annuaire_structures_facts rows", "SELECT COUNT(*) FROM annuaire_structures_facts", ()),
        ("search documents (one per structures row present)", search_count, ()),
        ("annuaire_contacts rows", "SELECT COUNT(*) FROM annuaire_contacts", ()),
        ("annuaire_people rows", "SELECT COUNT(*) FROM annuaire_people", ()),
        (
            "annuaire_structure_history + annuaire_people_history rows",
            "SELECT (SELECT COUNT(*) FROM annuaire_structure_history) + (SELECT COUNT(*) FROM annuaire_people_history)",
            (),
        ),
    ]
    out: dict[str, Any] = {"events in the log": trame.store.max_position()}
    with trame.db.read() as cur:
        for label, sql, params in queries:
            try:
                value = cur.scalar(sql, params)
                out[label] = int(value) if isinstance(value, int) else str(value)
            except Exception as exc:
                out[label] = f"n/a ({type(exc).__name__})"
    out["database size"] = f"{backend.size(trame.db) / 2**30:.2f} GiB"
    return out


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


class ApplySplit:
    """Time ``apply`` of the structures projection for one structure apart from all the others."""

    def __init__(self, projection: Any, structure_id: str) -> None:
        self.projection = projection
        self.structure_id = structure_id
        self.seconds = {"one": 0.0, "others": 0.0}
        self.events = {"one": 0, "others": 0}

    @contextmanager
    def active(self) -> Iterator[None]:
        apply = self.projection.apply

        def timed(cur: Cursor, rec: Any) -> None:
            t = time.perf_counter()
            apply(cur, rec)
            which = "one" if rec.event.structure_id == self.structure_id else "others"
            self.seconds[which] += time.perf_counter() - t
            self.events[which] += 1

        self.projection.apply = timed
        try:
            yield
        finally:
            del self.projection.apply


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@dataclass
class BackendRun:
    backend: str
    describe: str
    scale: str
    plan_events: int = 0
    gen: GenStats | None = None
    plan_seconds: float = 0.0
    projection: list[tuple[str, int, float, float]] = field(default_factory=list)  # (name, applied, seconds, CPU seconds)
    analyze_seconds: float | None = None
    series: list[Series] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def open_trame(db: Database) -> Trame:
    settings = Settings(database_url="unused://", secret_key="bench-secret")  # noqa: S106
    return Trame(settings, db=db)


BUILD_TABLE = "bench_annuaire_build"


def save_build(db: Database, data: dict[str, Any]) -> None:
    """Keep the build's figures in the store itself, for a later ``--reuse-*`` run to report."""
    import json

    with db.write() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {BUILD_TABLE} (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        cur.execute(f"DELETE FROM {BUILD_TABLE} WHERE k = 'build'")
        cur.execute(f"INSERT INTO {BUILD_TABLE} (k, v) VALUES ('build', ?)", (json.dumps(data),))


def load_build(db: Database) -> dict[str, Any] | None:
    import json

    try:
        with db.read() as cur:
            value = cur.scalar(f"SELECT v FROM {BUILD_TABLE} WHERE k = 'build'")
    except Exception:
        return None
    return None if value is None else json.loads(value)


def build(trame: Trame, backend: Backend, plan: Plan, run: BackendRun) -> dict[str, Any]:
    """Generate, project, and (PostgreSQL) vacuum-analyse; return the figures."""
    db = trame.db
    load_start = load_average()
    trame.territories.create(TERRITORY, "Territoire national (bench)", author=SYSTEM)
    trame.territories.enable(TERRITORY, "annuaire", author=SYSTEM)
    account = trame.accounts.create("bench@exemple.fr", PASSWORD)
    trame.accounts.grant(account, TERRITORY, "member", author=SYSTEM)
    progress(f"{backend.name}: generating")
    cpu = time.process_time()
    gen = generate(trame, plan)
    gen.cpu_seconds = time.process_time() - cpu
    progress(
        f"{backend.name}: generated {gen.events:,} events in {gen.seconds:.0f}s "
        f"({gen.events / gen.seconds:,.0f}/s, {gen.appends:,} appends)"
    )
    order = ["annuaire.structures", "annuaire.people", "journal"]
    others = [n for n in trame.runner.projections if n not in order]
    split = ApplySplit(trame.runner.projections["annuaire.structures"], plan.structure_ids[0])
    projection = []
    for name in [*order, None]:
        label = name or ", ".join(others)
        progress(f"{backend.name}: projecting {label}")
        t, cpu = time.perf_counter(), time.process_time()
        with split.active() if name == "annuaire.structures" else _nothing():
            applied = trame.runner.catch_up([name] if name else None)
        dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
        projection.append((label, applied, dt, dcpu))
        progress(f"{backend.name}: {label}: {applied:,} events in {dt:.0f}s ({applied / max(dt, 1e-9):,.0f}/s)")
    analyze = None
    if db.dialect == "postgresql":
        progress(f"{backend.name}: VACUUM (ANALYZE) of the bench schema")
        t = time.perf_counter()
        schema = db.schema  # type: ignore[attr-defined]
        tables = db.tables()
        with db.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            conn.autocommit = True
            try:
                for table in tables:  # this schema's tables only: the server is shared
                    conn.execute(f'VACUUM (ANALYZE) "{schema}"."{table}"')
            finally:
                conn.autocommit = False
        analyze = time.perf_counter() - t
    data = {
        "sizes": [plan.n_structures, plan.n_people, plan.target_events],
        "seed": plan.seed,
        "scale": run.scale,
        "plan_seconds": run.plan_seconds,
        "gen": {**{k: v for k, v in vars(gen).items() if k != "by_type"}, "by_type": dict(gen.by_type)},
        "projection": projection,
        "split": {"seconds": split.seconds, "events": split.events},
        "analyze_seconds": analyze,
        "load": [load_start, load_average()],
        "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    save_build(db, data)
    return data


def apply_build(run: BackendRun, data: dict[str, Any]) -> None:
    gen = dict(data["gen"])
    by_type = Counter(gen.pop("by_type"))
    run.gen = GenStats(**gen, by_type=by_type)
    run.projection = [tuple(p) for p in data["projection"]]  # type: ignore[misc]
    run.analyze_seconds = data.get("analyze_seconds")
    run.plan_seconds = data.get("plan_seconds", run.plan_seconds)
    run.extra["split"] = data["split"]
    run.extra["build_load"] = data.get("load")
    run.extra["build_finished"] = data.get("finished")


def run_backend(backend: Backend, args: argparse.Namespace, scale: float) -> BackendRun:
    t_all = time.perf_counter()
    n_s, n_p, n_e = (max(100, int(x * scale)) for x in (args.structures, args.people, args.events))
    n_e = max(n_e, BIG_EVENTS + 2 * n_s)
    seed = args.seed
    db = backend.open()
    reused = getattr(backend, "reuse", None)
    saved = load_build(db) if reused else None
    if saved is not None:  # measure the store as it was built: its sizes and seed
        (n_s, n_p, n_e), seed = saved["sizes"], saved["seed"]
    run = BackendRun(backend.name, backend.describe(), f"{n_s:,} structures, {n_p:,} people, ≥ {n_e:,} events")
    progress(f"{backend.name}: planning {run.scale} (seed {seed})")
    t = time.perf_counter()
    plan = build_plan(seed, n_s, n_p, n_e)
    run.plan_seconds = time.perf_counter() - t
    run.plan_events = plan.total_events
    progress(f"{backend.name}: plan ready in {run.plan_seconds:.1f}s: {plan.total_events:,} events over {len(plan.buckets):,} days")
    try:
        trame = open_trame(db)
        if not reused:
            apply_build(run, build(trame, backend, plan, run))
        elif saved is not None:
            apply_build(run, saved)
            run.extra["reused"] = True
        if args.build_only:
            progress(
                f"{backend.name}: built; measure it with --reuse-{'sqlite' if backend.name == 'sqlite' else 'pg-schema'} "
                f"{getattr(backend, 'path', None) or getattr(backend, 'schema', None)}"
            )
        else:
            run.facts = facts(trame, backend, plan)
            run.series, measured = measure(trame, backend.name, plan, args)
            run.extra.update(measured)
            run.diagnosis = diagnose(trame, plan, run.series, args)
    except Exception as exc:  # the other backend still runs; the report says what failed
        import traceback

        traceback.print_exc()
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        backend.dispose(db)
    run.seconds = time.perf_counter() - t_all
    return run


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def fmt_ms(x: float) -> str:
    if x != x:  # nan
        return "n/a"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:,.0f}"


def report(runs: list[BackendRun], args: argparse.Namespace, started: str, wall: float, load: tuple[str, str]) -> str:
    lines = [f"# Trame annuaire bench, {started}", ""]
    lines.append(
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"msgspec {dist_version('msgspec')}, eventsourcing {dist_version('eventsourcing')}, litestar {dist_version('litestar')}"
    )
    lines.append(
        f"- load average (1/5/15 min) before: {load[0]}; after: {load[1]}. The machine is shared: single timings are noisy, "
        "so the figures are medians and 95th percentiles, and the 10 vs 10,000 comparison alternates the two call by call."
    )
    lines.append(
        f"- seed {args.seed}; {args.queries} queries per measure (fewer where a measure hit the {args.series_budget:.0f} s "
        "budget: the n column says); whole run {:.0f} min.".format(wall / 60)
    )
    for r in runs:
        lines.append(f"- **{r.backend}**: {r.describe}; {r.scale}" + (f"; **failed: {r.error}**" if r.error else ""))
    lines.append("")
    lines.append("## Results")
    lines.append("")
    lines.append("| measure | backend | n | p50 ms | p95 ms | max ms | target (p95) | verdict | notes |")
    lines.append("|---|---|---:|---:|---:|---:|---|---|---|")
    names: list[str] = []
    for r in runs:
        for s in r.series:
            if s.name not in names:
                names.append(s.name)
    for name in names:
        for r in runs:
            for s in r.series:
                if s.name != name:
                    continue
                target = (
                    f"< {s.target_ms:.0f} ms"
                    if s.target_ms is not None and s.group != "HTTP page"
                    else ("(search, indicative)" if s.group == "HTTP page" else "")
                )
                verdict = "" if s.met is None or s.group == "HTTP page" else ("met" if s.met else "**NOT met**")
                if s.group == "HTTP page" and s.met is not None:
                    verdict = "met" if s.met else "over 50 ms"
                n = f"{len(s.times)}" + (" (budget)" if s.truncated else "")
                lines.append(
                    f"| {s.name} | {r.backend} | {n} | {fmt_ms(s.p50)} | {fmt_ms(s.p95)} | {fmt_ms(max(s.times) if s.times else float('nan'))} "  # noqa: E501
                    f"| {target} | {verdict} | {s.note} |"
                )
    lines.append("")
    lines.append("### As-of lookup: the 10-event structure against the 10,000-event one (alternated call by call)")
    lines.append("")
    lines.append("| backend | lookup | 10 events p50 / p95 ms | 10,000 events p50 / p95 ms | ratio p50 | ratio p95 |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for r in runs:
        by = {s.name: s for s in r.series}
        for kind, a, b in (
            ("as_of", "get_structure(as_of), 10-event structure", "get_structure(as_of), 10,000-event structure"),
            (
                "as_of + known_at",
                "get_structure(as_of, known_at), 10-event structure",
                "get_structure(as_of, known_at), 10,000-event structure",
            ),
        ):
            if a in by and b in by and by[a].times:
                sa, sb = by[a], by[b]
                lines.append(
                    f"| {r.backend} | {kind} | {fmt_ms(sa.p50)} / {fmt_ms(sa.p95)} | {fmt_ms(sb.p50)} / {fmt_ms(sb.p95)} "
                    f"| {sb.p50 / sa.p50:.2f} | {sb.p95 / sa.p95:.2f} |"
                )
    lines.append("")
    lines.append("## Generation and projection")
    lines.append("")
    lines.append(
        "| backend | events | planning | generation (EventStore.append) | appends | projection (all, catch_up) | whole projection |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        if r.gen is None:
            lines.append(f"| {r.backend} | {r.plan_events:,} | {r.plan_seconds:.0f} s | reused store | | | |")
            continue
        proj_s = sum(p[2] for p in r.projection)
        proj_n = r.gen.events
        lines.append(
            f"| {r.backend} | {r.gen.events:,} | {r.plan_seconds:.0f} s | {r.gen.seconds:.0f} s ({r.gen.cpu_seconds:.0f} CPU) = {r.gen.events / r.gen.seconds:,.0f} events/s "  # noqa: E501
            f"| {r.gen.appends:,} | {proj_s:.0f} s | {proj_n / proj_s:,.0f} events/s of the log |"
        )
    lines.append("")
    lines.append("| backend | projection | events applied | seconds | events/s |")
    lines.append("|---|---|---:|---:|---:|")
    for r in runs:
        for name, applied, secs, cpu in r.projection:
            lines.append(f"| {r.backend} | {name} | {applied:,} | {secs:.0f} ({cpu:.0f} CPU) | {applied / max(secs, 1e-9):,.0f} |")
        split = r.extra.get("split")
        if split is not None and split["events"]["one"]:
            for which, label in (
                ("one", "… of which `apply` of the 10,000-event structure's events"),
                ("others", "… of which `apply` of every other structure's events"),
            ):
                n, secs = split["events"][which], split["seconds"][which]
                lines.append(f"| {r.backend} | {label} | {n:,} | {secs:.0f} | {n / max(secs, 1e-9):,.0f} |")
        if r.analyze_seconds is not None:
            lines.append(
                f"| {r.backend} | `VACUUM (ANALYZE)` of the bench schema after the load (what autovacuum would do) | | {r.analyze_seconds:.0f} | |"  # noqa: E501
            )
        if r.extra.get("build_load"):
            before, after = r.extra["build_load"]
            lines.append(f"| {r.backend} | (load average during the build: {before} at the start, {after} at the end) | | | |")
    lines.append("")
    for r in runs:
        if r.gen is None:
            continue
        lines.append(
            f"Generation on {r.backend}: `EventStore.append` with its per-write version pre-check answered from the generator's "
            f"own table; the real check (`EventStore.version_of`, one read transaction each) costs {r.gen.check_us:.0f} µs per "
            f"write here, i.e. about {r.gen.check_us * r.gen.writes / 1e6:,.0f} s more for the {r.gen.writes:,} writes to "
            "existing streams (it agreed with the generator on a sample of 2,000 streams)."
        )
        lines.append("")
        lines.append(
            f"Events generated on {r.backend}, by type: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(r.gen.by_type.items(), key=lambda kv: -kv[1]))
            + f". People's keys inserted in bulk beforehand ({r.gen.keys_seconds:.1f} s)."
        )
        lines.append("")
    lines.append("## Database after projection")
    lines.append("")
    keys = list(dict.fromkeys(k for r in runs for k in r.facts))
    lines.append("| | " + " | ".join(r.backend for r in runs) + " |")
    lines.append("|---|" + "---:|" * len(runs))
    for k in keys:
        lines.append(
            f"| {k} | "
            + " | ".join(f"{r.facts.get(k, ''):,}" if isinstance(r.facts.get(k), int) else str(r.facts.get(k, "")) for r in runs)
            + " |"
        )
    lines.append("")
    lines.append("## Diagnosis (automatic)")
    lines.append("")
    for r in runs:
        lines.append(f"### {r.backend}")
        lines.append("")
        lines += r.diagnosis or ["(none)"]
        lines.append("")
    return "\n".join(lines) + "\n"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.annuaire_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--structures", type=int, default=100_000, help="structures (default 100,000)")
    ap.add_argument("--people", type=int, default=300_000, help="people (default 300,000)")
    ap.add_argument("--events", type=int, default=2_000_000, help="events in total, at least (default 2,000,000)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--queries", type=int, default=500, help="queries per measure (default 500)")
    ap.add_argument("--pg-scale", type=float, default=1.0, help="scale of the PostgreSQL territory relative to the sizes above (e.g. 0.25)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server; a fresh schema is created and dropped")
    ap.add_argument("--tmpdir", default=None, help="where the SQLite file goes (default: system temp dir)")
    ap.add_argument("--seed", type=int, default=20240604)
    ap.add_argument("--series-budget", type=float, default=120.0, help="seconds at most per measure (default 120)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file / PostgreSQL schema (their names are printed)")
    ap.add_argument("--reuse-sqlite", default=None, help="measure an existing SQLite file made by --keep with the same sizes and seed")
    ap.add_argument("--reuse-pg-schema", default=None, help="measure an existing PostgreSQL schema made by --keep")
    ap.add_argument("--build-only", action="store_true", help="generate and project, keep the store, measure nothing (implies --keep)")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    ap.add_argument(
        "--output",
        default=str(RESULTS),
        help=f"markdown report (default {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS})",
    )
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.keep = args.keep or args.build_only
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per TestClient request otherwise
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    load_before = load_average()
    t0 = time.perf_counter()
    runs: list[BackendRun] = []
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if name == "sqlite":
            backend: Backend = SQLiteBackend(args.tmpdir, args.keep, args.reuse_sqlite)
            scale = 1.0
        elif name == "postgresql":
            try:
                backend = PostgresBackend(args.pg_url, args.keep, args.reuse_pg_schema)
            except Exception as exc:
                runs.append(
                    BackendRun("postgresql", f"unreachable at {args.pg_url} ({type(exc).__name__}: {exc})", "", error="unreachable")
                )
                continue
            scale = args.pg_scale
        else:
            raise SystemExit(f"unknown backend {name!r}")
        if args.keep:
            progress(f"{name}: keeping {getattr(backend, 'path', None) or getattr(backend, 'schema', None)}")
        runs.append(run_backend(backend, args, scale))
    text = report(runs, args, started, time.perf_counter() - t0, (load_before, load_average()))
    Path(args.output).write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
