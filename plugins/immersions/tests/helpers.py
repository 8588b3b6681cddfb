"""A territory with structures of both fields, and a programme, built through the commands a user would use."""

from __future__ import annotations

from dataclasses import dataclass

from core.application import Trame
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.immersions.service import immersions

#: key -> (name, field); fictional structures of a fictional territory.
STRUCTURES = {
    "mde": ("Maison de l'emploi du Val-Fleuri", "emploi"),
    "ml": ("Mission locale du Val-Fleuri", "emploi"),
    "chrs": ("CHRS Les Tilleuls", "social"),
    "ccas": ("CCAS du Val-Fleuri", "social"),
}


@dataclass
class Programme:
    id: str
    structures: dict[str, str]
    people: dict[str, str]  # short name -> participant id


def territory(trame: Trame, slug: str = "valfleuri", plugins: tuple[str, ...] = ("annuaire", "rencontres", "immersions")) -> dict[str, str]:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    for p in plugins:
        trame.territories.enable(slug, p, author=SYSTEM)
    return {
        key: annuaire.create(
            trame, slug, author=SYSTEM, data=annuaire.StructureIn(name=name, email=f"{key}@{slug}.example", address="1 place de la Mairie")
        )
        for key, (name, _field) in STRUCTURES.items()
    }


def programme(trame: Trame, ids: dict[str, str], slug: str = "valfleuri", *, starts_on: str = "2012-10-01") -> Programme:
    """Two employment and two social professionals (fictional), each of a different structure but one."""
    svc = immersions(trame)
    pid = svc.open_programme(
        slug, author=SYSTEM, title="Du social à l'emploi", starts_on=starts_on, ends_on="2012-11-30", fields=("social", "emploi")
    )
    people = {}
    for short, key, name in (
        ("ines", "mde", "Inès Fabre"),
        ("paul", "ml", "Paul Lemaire"),
        ("marie", "chrs", "Marie Dufour"),
        ("hugo", "ccas", "Hugo Bernard"),
        ("lea", "mde", "Léa Robin"),
    ):
        people[short] = svc.join(slug, pid, author=SYSTEM, structure_id=ids[key], field=STRUCTURES[key][1], full_name=name)
    return Programme(pid, ids, people)
