"""« Les personnes ressources » (seed 004): whom each partner institution names as its resource
person, across the territory, at a date, with their job title and their details then."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from core.application import Trame
from core.text import collation_key
from core.web.rendering import render
from plugins.annuaire.pages import common, moment, names_of
from plugins.annuaire.service import directory

Req = Request[Any, Any, Any]
READ = {"role": "member", "plugin": "annuaire"}


@get("/t/{territory:str}/annuaire/personnes-ressources", opt=READ, sync_to_thread=False)
def resource_people_page(
    request: Req, trame: Trame, territory: str, q: str | None = None, toutes: str | None = None,
    as_of: str | None = None, known_at: str | None = None,
) -> Template:  # fmt: skip
    """The resource people at ``as_of`` (as known at ``known_at``), by structure; ``q`` searches their
    job title, name or role; ``toutes`` widens the search to every contact."""
    m = moment(as_of, known_at)
    every_role = bool(toutes)
    found = directory(trame).resource_people(territory, q or "", as_of=m.as_of, known_at=m.known_at, every_role=every_role)
    names = names_of(trame, territory, {c.structure_id for c in found}, m)
    rows = sorted(found, key=lambda c: (collation_key(names.get(c.structure_id, "")), collation_key(c.person.name or "")))
    return render(
        request, "annuaire/personnes_ressources.html", contacts=rows, names=names, q=q or "", every_role=every_role, **common(m),
    )  # fmt: skip


ROUTES = [resource_people_page]
