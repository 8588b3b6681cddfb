"""Lexique partagé: the territory's glossary of terms and acronyms (seed 004: « éviter les sigles »).

Each term has its expansion, a plain-French definition, optionally the directory structure it
names, and a national or local scope; every change is an event with its author and reason. The
glossary feeds the core (``glossary_terms``): each known acronym explains itself in an
``<abbr>`` on its first use in every page of the territory, and the directory's search finds
« MDS » and « maison départementale des solidarités » from one another. The livret of the
directory ends with the glossary (``page_sections``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PageSection, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.glossary import GlossaryTerm
    from core.projection import Projection

TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="lexique",
        title="Lexique partagé",
        description="Les sigles et le vocabulaire du réseau expliqués ; chaque sigle connu s'explique de lui-même dans les pages.",
        needs=("annuaire",),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.lexique.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.lexique.projection import LexiqueProjection

    return [LexiqueProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.lexique import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(TEMPLATES)


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Lexique", "lexique/", order=15)]


@hookimpl
def glossary_terms(trame: Trame, territory: str) -> list[GlossaryTerm]:
    from plugins.lexique.service import lexique

    return list(lexique(trame).glossary(territory))


@hookimpl
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """At the end of the directory's livret: the glossary, so that the printed booklet explains its acronyms too."""
    if page != "annuaire.livret":
        return []
    from core.web.rendering import fragment
    from plugins.lexique.service import lexique

    terms = lexique(trame).terms(territory)
    if not terms:
        return []
    return [
        PageSection(
            title="Lexique des sigles et des termes", html=fragment(trame, "lexique/_livret.html", terms=terms), order=90, plugin="lexique"
        )
    ]


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.lexique.demo import load

    load(trame, territory)
