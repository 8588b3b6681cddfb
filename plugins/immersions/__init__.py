"""Immersions in pairs (« immersions par binômes »): a professional spends a half-day or a day
beside a partner of the other field, then both say what they learnt (seed 004, the Maison de
l'emploi's day « du social à l'emploi », 2012).

Built on the directory (structures and their contacts) and on ``rencontres`` (each binôme's
day is a meeting, with its place, its .ics and the agenda), through their ``public`` modules.
"""

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
        name="immersions",
        title="Immersions en binômes",
        description="Des professionnels de deux champs (social, emploi…) passent une demi-journée ou une journée chez un partenaire, "
        "puis partagent attentes, convergences, freins et préconisations.",
        needs=("annuaire", "rencontres"),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.immersions.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.immersions.projection import ImmersionsProjection

    return [ImmersionsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.immersions import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Immersions", "immersions/", order=30)]


@hookimpl
def subject_erased(trame: Trame, territory: str, subject_id: str, names: list[str]) -> list[str]:
    """Professionals typed by name into a programme who are the person erased (their whole name)."""
    from core.erasure import names_in

    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT participant_id, full_name FROM immersions_participants WHERE territory = ? AND full_name IS NOT NULL", (territory,)
        ).fetchall()
    return [r["participant_id"] for r in rows if names_in(r["full_name"], names, whole=True)]


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.immersions.demo import load

    load(trame, territory)
