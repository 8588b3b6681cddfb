"""Café partenaires: the monthly informal breakfast of a territory's partners (Agen since 2004, Fumel 2009).

Built on ``rencontres`` (a café is a meeting) and on the directory: hosting in turn,
the round table whose news also shows on each structure's sheet, thematic cafés and
the yearly plenary, and newcomers whose sheet is created from the café page.
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
        name="cafe",
        title="Café partenaires",
        description="Un petit-déjeuner mensuel entre partenaires, accueilli à tour de rôle, avec son tour de table.",
        needs=("annuaire", "rencontres"),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.cafe.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.cafe.projection import CafeProjection

    return [CafeProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.cafe import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(TEMPLATES)


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Café partenaires", "cafe/", order=25)]


@hookimpl
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """On a structure's sheet in the directory: its latest round-table news."""
    if page != "annuaire.structure":
        return []
    from plugins.cafe.sections import structure_news

    section = structure_news(trame, territory, subject_id)
    return [section] if section is not None else []


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.cafe.demo import load

    load(trame, territory)
