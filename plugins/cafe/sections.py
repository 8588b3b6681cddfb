"""The section the café plugin adds to a structure's sheet in the directory (autoescaped HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from core.plugins import PageSection

if TYPE_CHECKING:
    from core.application import Trame

SHOWN = 5
_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        from plugins.cafe import TEMPLATES

        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True, default_for_string=True))
    return _env


def structure_news(trame: Trame, territory: str, structure_id: str) -> PageSection | None:
    from plugins.cafe.service import cafes

    entries = cafes(trame).search(territory, structure_id=structure_id, limit=SHOWN + 1)
    if not entries:
        return None
    html = _environment().get_template("cafe/_section.html").render(entries=entries[:SHOWN], more=len(entries) > SHOWN, territory=territory)
    return PageSection(title="Au Café partenaires", html=Markup(html), order=60, plugin="cafe")  # noqa: S704 - rendered with autoescape
