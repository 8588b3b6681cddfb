"""Project sheets (« fiche projet »): per working group or for the whole network, its objectives,
partners from the directory, steps and the meetings' follow-up actions, documents, status and
dates, printable with its history, and a shared diagnosis the structures write together."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.projection import Projection


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="projets",
        title="Fiches projet",
        description="La fiche projet d'un groupe ou du réseau : objectifs, partenaires, étapes et suites à donner, documents, "
        "et un diagnostic partagé des besoins du territoire.",
        needs=("annuaire", "rencontres"),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.projets.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.projets.projection import ProjetsProjection

    return [ProjetsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.projets import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Projets", "projets/", order=35)]


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.projets.demo import load

    load(trame, territory)
