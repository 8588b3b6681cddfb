"""Shared set-up for the charter tests: a territory with its directory, meetings and charter, built by commands."""

from __future__ import annotations

from core.application import Trame
from core.store import SYSTEM
from core.testing import User, make_user
from plugins.charte import links
from plugins.charte.service import charters

COMMITMENTS = ["Améliorer la continuité du service apporté à la personne.", "Coordonner la réponse à apporter à la personne."]


def territory(trame: Trame, slug: str = "joigny", plugins: tuple[str, ...] = ("annuaire", "rencontres", "charte")) -> str:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    for p in plugins:
        trame.territories.enable(slug, p, author=SYSTEM)
    return slug


def structures(trame: Trame, slug: str = "joigny") -> dict[str, str]:
    names = {
        "ccas": "CCAS de Joigny",
        "ml": "Mission locale de Joigny",
        "clic": "CLIC de Joigny",
        "udaf": "Udaf de l'Yonne",
        "spip": "SPIP de l'Yonne",
    }
    return {k: links.create_structure(trame, slug, author=SYSTEM, name=n, effective="2009-01-01") for k, n in names.items()}


def charter(trame: Trame, s: dict[str, str], slug: str = "joigny", adopted_on: str = "2010-03-12") -> str:
    svc = charters(trame)
    cid = svc.draft(
        slug,
        author=SYSTEM,
        title="Charte des rencontres partenariales",
        preamble="Mobiliser les professionnels.",
        commitments=COMMITMENTS,
        carrier_structure_id=s["ccas"],
        form="initiative",
    )
    svc.adopt(slug, cid, 1, author=SYSTEM, on=adopted_on)
    return cid


def coordinator(trame: Trame, slug: str = "joigny") -> User:
    return make_user(trame, f"coordination@{slug}.example", territory=slug, role="coordinator")


def referent(trame: Trame, structure_id: str, slug: str = "joigny", email: str = "referent@joigny.example") -> User:
    return make_user(trame, email, territory=slug, role="referent", structure_id=structure_id)
