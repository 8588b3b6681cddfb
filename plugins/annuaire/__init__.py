"""Annuaire: the shared partner directory, with bitemporal history, audit, erasure and search."""

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
        name="annuaire", title="Annuaire partagé", description="Qui fait quoi sur le territoire, qui contacter, depuis quand."
    )


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Annuaire", "annuaire/", order=10)]


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.annuaire import campaigns
    from plugins.annuaire.events import EVENTS

    return [*EVENTS, *campaigns.EVENTS]


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.annuaire.campaigns import CampaignsProjection
    from plugins.annuaire.projection import PeopleProjection, StructuresProjection

    return [StructuresProjection(), PeopleProjection(), CampaignsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.annuaire import api, pages, tools

    return [*api.ROUTES, *pages.ROUTES, *tools.ROUTES]


@hookimpl
def structures_in(trame: Trame, territory: str, structure_ids: list[str]) -> list[str]:
    """The ids among ``structure_ids`` that are structures of ``territory`` (core/structures.py asks)."""
    found: list[str] = []
    with trame.db.read() as cur:
        for start in range(0, len(structure_ids), 500):
            chunk = structure_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = cur.execute(
                f"SELECT structure_id FROM annuaire_structure_streams WHERE territory = ? AND structure_id IN ({marks})",
                (territory, *chunk),
            ).fetchall()
            found += [r["structure_id"] for r in rows]
    return found


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.annuaire.demo import load

    load(trame, territory)
