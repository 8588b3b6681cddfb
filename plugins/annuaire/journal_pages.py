"""The directory's journal for the coordination: every change, by author, structure and period."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import get
from litestar.response import Template

from core.application import Trame
from core.web.rendering import render
from plugins.annuaire.display import COORD, P, Req, Shower, common, ids_in, names_of
from plugins.annuaire.form_checks import page_number
from plugins.annuaire.service import directory, when


# == audit ======================================================================================
@get(f"{P}/journal", opt=COORD, sync_to_thread=False)
def audit_page(
    request: Req, trame: Trame, territory: str, auteur: str | None = None, structure: str | None = None, depuis: str | None = None,
    jusqu_au: str | None = None, page: str | None = None,
) -> Template:  # fmt: skip
    filters = {"auteur": (auteur or "").strip(), "structure": (structure or "").strip(), "depuis": (depuis or "").strip(),
               "jusqu_au": (jusqu_au or "").strip()}  # fmt: skip
    since = when(filters["depuis"], "Depuis le (depuis)", field="depuis")
    until = when(filters["jusqu_au"], "Jusqu'au (jusqu_au)", end_of_day=True, field="jusqu_au")
    number = page_number(page)
    size = 100
    entries = directory(trame).audit(
        territory, actor=filters["auteur"] or None, structure_id=filters["structure"] or None, since=since, until=until,
        limit=size + 1, offset=(number - 1) * size,
    )  # fmt: skip
    more = len(entries) > size
    entries = entries[:size]
    items, _ = directory(trame).list_structures(territory, limit=500)
    ids = {e.structure_id for e in entries if e.structure_id} | ids_in(entries)
    names = names_of(trame, territory, ids) | {s.id: s.name for s in items}
    people = {pid: directory(trame).person(territory, pid) for pid in {e.person_id for e in entries if e.person_id}}
    base = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return "?" + urlencode({**base, "page": n})

    return render(
        request, "annuaire/journal.html", entries=entries, filters=filters, structures=items, names=names, people=people,
        show=Shower(names), page=number, prev_url=page_url(number - 1) if number > 1 else None,
        next_url=page_url(number + 1) if more else None, **common(),
    )  # fmt: skip


ROUTES = [audit_page]
