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
    from plugins.annuaire import campaigns, import_columns, services
    from plugins.annuaire.events import EVENTS

    return [*EVENTS, *campaigns.EVENTS, *services.EVENTS, *import_columns.EVENTS]


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.annuaire.campaigns import CampaignsProjection
    from plugins.annuaire.import_columns import ImportColumnsProjection
    from plugins.annuaire.projection import PeopleProjection, StructuresProjection
    from plugins.annuaire.services import ServicesProjection

    return [StructuresProjection(), PeopleProjection(), CampaignsProjection(), ServicesProjection(), ImportColumnsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.annuaire import api, campaign_pages, exchange_pages, service_pages
    from plugins.annuaire.page_routes import ROUTES

    return [*api.ROUTES, *ROUTES, *exchange_pages.ROUTES, *campaign_pages.ROUTES, *service_pages.ROUTES]


@hookimpl
def structure_choices(trame: Trame, territory: str) -> list[tuple[str, str]]:
    """The directory's structures today, by name (core/structures.py asks)."""
    from plugins.annuaire.public import structures

    return [(s.id, s.name) for s in structures(trame, territory)]


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
def register_commands(subparsers: Any) -> None:
    from plugins.annuaire.exchange import add_commands

    add_commands(subparsers)


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.annuaire import demo_services
    from plugins.annuaire.demo import load

    demo_services.load(trame, territory, load(trame, territory))


@hookimpl
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[Any]:
    """The services a structure offers, on its sheet; the territory's services by theme, in the livret."""
    from plugins.annuaire.service_pages import livret_section, sheet_section

    if page == "annuaire.structure":
        return [sheet_section(trame, territory, subject_id, as_of, known_at)]
    if page == "annuaire.livret":
        return [livret_section(trame, territory, as_of, known_at)]
    return []


@hookimpl
def journal_subjects(trame: Trame, territory: str, lines: list[Any]) -> dict[int, Any]:
    """The directory's journal lines name the structure sheet (or the person) they changed."""
    from core.journal import Subject
    from plugins.annuaire.public import names

    mine = [line for line in lines if line.event.startswith("annuaire.")]
    known = names(trame, territory, {str(line.data["structure_id"]) for line in mine if line.data.get("structure_id")})
    out: dict[int, Any] = {}
    for line in mine:
        sid, pid = line.data.get("structure_id"), line.data.get("person_id")
        if sid:
            out[line.position] = Subject(f"fiche {known.get(str(sid), 'structure')}", f"/t/{territory}/annuaire/structures/{sid}")
        elif pid:
            out[line.position] = Subject("fiche d'une personne", f"/t/{territory}/annuaire/personnes/{pid}")
    return out
