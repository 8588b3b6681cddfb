"""Diffusion: write to the group. The lists built from the directory and the meetings, the
message queued through the core's mailings service (``core/mailings.py``), the log per
recipient, the addresses to copy without SMTP, and the unsubscribe link of personal addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.mailings import MailingList


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="diffusion",
        title="Envois au groupe",
        description="Écrire à tout le territoire, à un thème, aux responsables ou aux invités d'une rencontre, un message par adresse.",
        needs=("annuaire",),
    )


@hookimpl
def mailing_lists(trame: Trame, territory: str) -> list[MailingList]:
    from plugins.diffusion.lists import offered

    return offered(trame, territory)


@hookimpl
def register_routes() -> list[Any]:
    from plugins.diffusion import pages

    return pages.ROUTES


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Envois", "diffusion/", order=70)] if role in (None, "coordinator") else []
