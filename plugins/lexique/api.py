"""JSON API of the glossary (OpenAPI tag « lexique »), under ``/api/v1/territories/{slug}/lexique/``.

Reads are open to members; writes to coordinators. Every write takes a ``reason`` that stays in
the term's history (required to amend or withdraw). A term's ``version`` may be sent back in
``If-Match`` (or ``expected_version``): a stale one is a 409. Errors are JSON
``{"detail", "status"}`` in French, as everywhere in Trame.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post, put

from core.application import Trame
from core.refusals import invalid
from core.web.access import author_of
from plugins.lexique.service import AdoptionOut, HistoryOut, ImportReport, TermChange, TermIn, TermOut, lexique

BASE = "/api/v1/territories/{slug:str}/lexique"
ONE = BASE + "/{term_id:str}"
TAGS = ["lexique"]
COORDINATOR = {"role": "coordinator"}


class TermPage(msgspec.Struct):
    items: list[TermOut]


class HistoryPage(msgspec.Struct):
    items: list[HistoryOut]


class AdoptIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class ImportIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=1_000_000, description="Le fichier, comme l'export le donne")]
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


def _if_match(request: Request[Any, Any, Any], given: int | None) -> int | None:
    header = (request.headers.get("if-match") or "").strip().strip('"').removeprefix("W/").strip('"')
    if not header:
        return given
    if not header.isdigit():
        raise invalid("L'en-tête If-Match porte la version du terme (un nombre), telle que la lecture l'a donnée.")
    return int(header)


@get(f"{BASE}/", tags=TAGS, sync_to_thread=True)
def list_terms(trame: Trame, slug: str, q: str | None = None, national: bool | None = None) -> TermPage:
    """The territory's glossary in French alphabetical order; ``q`` searches terms, expansions and definitions."""
    return TermPage(lexique(trame).terms(slug, q, national=national))


@post(f"{BASE}/", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def add_term(request: Request[Any, Any, Any], trame: Trame, slug: str, data: TermIn) -> TermOut:
    """Add a term (refused with 409 if the same term, whatever its case and accents, is already there)."""
    svc = lexique(trame)
    return svc.get(slug, svc.add(slug, data, author=author_of(request)))


@post(f"{BASE}/liste-de-depart", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def adopt_starter(request: Request[Any, Any, Any], trame: Trame, slug: str, data: AdoptIn | None = None) -> AdoptionOut:
    """Adopt the national starter list in one command (once per territory; terms already there stay as they are)."""
    svc = lexique(trame)
    svc.adopt_starter(slug, author=author_of(request), reason=data.reason if data else None)
    adoption = svc.adoption(slug)
    assert adoption is not None
    return adoption


@get(f"{BASE}/export.csv", tags=TAGS, sync_to_thread=True, media_type="text/csv")
def export_csv(trame: Trame, slug: str) -> Response[str]:
    """The glossary as CSV (columns terme, signification, definition, portee, structure_id), safe to open in a spreadsheet."""
    return Response(
        lexique(trame).export_csv(slug),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lexique-{slug}.csv"'},
    )


@post(f"{BASE}/import", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def import_csv(request: Request[Any, Any, Any], trame: Trame, slug: str, data: ImportIn) -> ImportReport:
    """Import a CSV glossary: new terms added, changed ones amended, all or nothing (a wrong line is a 400 naming it)."""
    return lexique(trame).import_csv(slug, data.csv, author=author_of(request), reason=data.reason)


@get(ONE, tags=TAGS, sync_to_thread=True)
def get_term(trame: Trame, slug: str, term_id: str) -> TermOut:
    return lexique(trame).get(slug, term_id)


@put(ONE, opt=COORDINATOR, tags=TAGS, sync_to_thread=True)
def amend_term(request: Request[Any, Any, Any], trame: Trame, slug: str, term_id: str, data: TermChange) -> TermOut:
    """Amend a term: every field gets the value sent; ``reason`` is required."""
    svc = lexique(trame)
    change = msgspec.structs.replace(data, expected_version=_if_match(request, data.expected_version))
    svc.amend(slug, term_id, change, author=author_of(request))
    return svc.get(slug, term_id)


@delete(ONE, opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def withdraw_term(request: Request[Any, Any, Any], trame: Trame, slug: str, term_id: str, reason: str | None = None) -> TermOut:
    """Withdraw a term (``?reason=`` required); its history stays readable."""
    svc = lexique(trame)
    svc.withdraw(slug, term_id, author=author_of(request), reason=reason)
    return svc.get(slug, term_id)


@get(ONE + "/historique", tags=TAGS, sync_to_thread=True)
def term_history(trame: Trame, slug: str, term_id: str) -> HistoryPage:
    """Every change of the term, oldest first, with its author, time and reason."""
    return HistoryPage(lexique(trame).history(slug, term_id))


ROUTES = [list_terms, add_term, adopt_starter, export_csv, import_csv, get_term, amend_term, withdraw_term, term_history]
