"""A third-party Trame plugin, as small as it gets: one page and one navigation link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.response import Template

from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo
from core.web.rendering import render


@get("/t/{territory:str}/exemple/", sync_to_thread=False)
def lexique(request: Request[Any, Any, Any], territory: str) -> Template:
    return render(
        request, "exemple/lexique.html", sigles={"CCAS": "centre communal d'action sociale", "MDS": "maison départementale des solidarités"}
    )


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(name="exemple", title="Lexique (exemple)", description="Les sigles du territoire.")


@hookimpl
def register_routes() -> list[Any]:
    return [lexique]


@hookimpl
def register_templates() -> str:
    return str(Path(__file__).parent / "templates")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Lexique", "exemple/", order=60)]
