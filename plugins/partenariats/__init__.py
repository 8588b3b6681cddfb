"""Partenariats: a territory's partnerships between structures of the directory (seed 002) and the partner map.

Each structure's sheet gets its « carte mentale des partenaires » (four families around it,
SVG and table, as of any date); the whole network is a graph with its table; the coordination
gets reminders of conventions ending and partnerships left unevaluated, and an .ics feed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PageSection, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.projection import Projection

TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="partenariats",
        title="Partenariats",
        description="Les partenariats entre structures (conventions, financements, prescriptions…), la carte des partenaires "
        "de chaque structure et le réseau du territoire, avec leurs échéances et leurs évaluations.",
        needs=("annuaire",),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.partenariats.events import EVENTS

    return list(EVENTS)


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.partenariats.projection import PartnershipsProjection

    return [PartnershipsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.partenariats import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(TEMPLATES)


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Partenariats", "partenariats/", order=35)]


@hookimpl
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """On a structure's sheet: its partner map as of the sheet's date."""
    if page != "annuaire.structure":
        return []
    from plugins.partenariats.pages import structure_section

    return [structure_section(trame, territory, subject_id, as_of, known_at)]


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.partenariats.demo import load

    load(trame, territory)
