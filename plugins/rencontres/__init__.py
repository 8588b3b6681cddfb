"""Rencontres: partner meetings, shared by the café and charter plugins.

Schedule (once or on a rhythm, holidays flagged), invite with answer links that need
no account, take attendance, print the sign-in sheet, write and publish minutes with
follow-up actions that carry over, subscribe to the calendar, and count who came.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.events import Event
from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo
from core.projection import Projection


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="rencontres",
        title="Rencontres",
        description="Réunions partenariales : invitations, présences, feuille d'émargement, comptes rendus, suites à donner, agenda.",
        needs=("annuaire",),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.rencontres.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.rencontres.projection import MeetingsProjection

    return [MeetingsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.rencontres import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Rencontres", "rencontres/", order=20), NavLink("Participation", "rencontres/chiffres", order=60)]
