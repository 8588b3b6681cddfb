"""« Les personnes ressources » (seed 004): whom each partner institution names as its resource
person, across the territory, at a date, with their job title and their details then."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from core import clock
from core.application import Trame
from core.text import collation_key
from core.web.hygiene import DayQuery, day_param
from core.web.rendering import render
from plugins.annuaire.display import common, names_of
from plugins.annuaire.moments import moment
from plugins.annuaire.schemas import ContactOut
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


class ResourcePeople(msgspec.Struct):
    items: list[ContactOut]


Search = Annotated[str, Parameter(query="q", required=False, max_length=300, description="mots de la fonction, du nom ou du rôle")]
EveryRole = Annotated[
    bool, Parameter(query="every_role", required=False, description="true : tous les contacts, pas seulement les personnes ressources")
]


@get("/api/v1/territories/{slug:str}/resource-people", opt=READ, tags=["annuaire"], sync_to_thread=False)
def api_resource_people(
    trame: Trame, slug: str, q: Search = "", every_role: EveryRole = False, as_of: DayQuery = None, known_at: DayQuery = None
) -> ResourcePeople:
    """The territory's resource people (or every contact) at ``as_of`` as known at ``known_at``, with their
    job title and their details then; ``q`` searches job titles, names and roles (accents and case ignored)."""
    days = day_param("as_of", as_of), day_param("known_at", known_at)  # a bad date is a French 400
    at, known = (clock.parse(day, end_of_day=True) if day else None for day in days)
    return ResourcePeople(directory(trame).resource_people(slug, q or "", as_of=at, known_at=known, every_role=every_role))


ROUTES = [resource_people_page, api_resource_people]
