"""The section the café plugin adds to a structure's sheet in the directory (autoescaped HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.plugins import PageSection
from core.web.rendering import fragment

if TYPE_CHECKING:
    from core.application import Trame

SHOWN = 5


def structure_news(trame: Trame, territory: str, structure_id: str) -> PageSection | None:
    from plugins.cafe.service import cafes

    entries = cafes(trame).search(territory, structure_id=structure_id, limit=SHOWN + 1)
    if not entries:
        return None
    html = fragment(trame, "cafe/_section.html", entries=entries[:SHOWN], more=len(entries) > SHOWN, territory=territory)
    return PageSection(title="Au Café partenaires", html=html, order=60, plugin="cafe")
