"""JSON API of the directory, under ``/api/v1/territories/{slug}``.

Reads take ``as_of`` (valid time) and ``known_at`` (transaction time) as
``YYYY-MM-DD`` (the whole day) or ISO 8601; a bad one is a 400 naming the parameter.
Writes answer 201 with the id and the new version; a structure's version is its ETag
and a PATCH must send it back in ``If-Match`` (428 without it, 409 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import Parameter

from core import clock
from core.application import Trame
from core.clock import BadInstant
from core.refusals import absent, invalid
from core.web.access import access_of, author_of
from core.web.hygiene import Day, DayQuery, Limit, Offset, page_bounds
from plugins.annuaire.schemas import (
    ContactEnd,
    ContactIn,
    ContactOut,
    ContactPatch,
    HistoryEntry,
    LeaveIn,
    MergeIn,
    PersonIn,
    PersonOut,
    PersonPatch,
    StructureIn,
    StructureOut,
    StructurePage,
    StructurePatch,
)
from plugins.annuaire.service import directory

BASE = "/api/v1/territories/{slug:str}"
TAGS = ["annuaire"]
ONE = BASE + "/structures/{structure_id:str}"


class Written(msgspec.Struct):
    """What a write returns: the id of what was written and its new version."""

    id: str
    version: int


class ContactPage(msgspec.Struct):
    items: list[ContactOut]


class HistoryPage(msgspec.Struct):
    items: list[HistoryEntry]


class Confirm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str | None = None


class Rejoin(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    effective: Day
    reason: str | None = None


def instant(name: str, value: str | None, *, end_of_day: bool = True) -> str | None:
    """A date parameter; a bare date means the end of that day ("as of 2010-06-01" includes it)."""
    if value is None or not value.strip():
        return None
    try:
        return clock.parse(value, end_of_day=end_of_day)
    except BadInstant as exc:
        raise invalid(str(exc), name, label=f"Paramètre {name}") from None


def _may_edit(request: Request[Any, Any, Any], structure_id: str) -> None:
    if not access_of(request).may_edit_structure(structure_id):
        raise PermissionDeniedException("Un·e référent·e ne peut modifier que la fiche et les contacts de sa propre structure.")


_VERSION = r'^(W/)?"?[0-9]{1,18}"?$'
IfMatch = Annotated[
    str | None,
    Parameter(
        header="If-Match",
        required=True,
        pattern=_VERSION,
        description="la version (ETag) de la fiche lue, renvoyée telle quelle ; sans elle : 428, périmée : 409",
    ),
]
OptionalIfMatch = Annotated[
    str | None,
    Parameter(header="If-Match", required=False, pattern=_VERSION, description="la version (ETag) lue ; périmée : 409"),
]


def _if_match(request: Request[Any, Any, Any]) -> int:
    header = request.headers.get("if-match")
    if not header:
        raise HTTPException(
            status_code=428, detail="En-tête If-Match obligatoire : renvoyez l'ETag (la version) de la fiche que vous avez lue."
        )
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise invalid(f"En-tête If-Match : « {header} » n'est pas une version de fiche.", "If-Match")
    return int(value)


# -- structures ------------------------------------------------------------------------------
@post(BASE + "/structures", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True, status_code=201)
def create_structure(request: Request[Any, Any, Any], trame: Trame, slug: str, data: StructureIn) -> Written:
    """A structure joins the network (coordinators)."""
    sid, version = directory(trame).create_structure(slug, data, author_of(request))
    return Written(sid, version)


@get(BASE + "/structures", tags=TAGS, sync_to_thread=False)
def list_structures(
    trame: Trame,
    slug: str,
    q: str | None = None,
    kind: str | None = None,
    commune: str | None = None,
    theme: str | None = None,
    role: str | None = None,
    as_of: DayQuery = None,
    known_at: DayQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StructurePage:
    """The directory at a date, searched (names past and present, acronyms, missions, publics, communes) and filtered."""
    limit, offset = page_bounds(limit, offset)
    at, known = instant("as_of", as_of), instant("known_at", known_at)
    items, total = directory(trame).list_structures(
        slug,
        q,
        kind=kind,
        commune=commune,
        theme=theme,
        role=role,
        as_of=at,
        known_at=known,
        limit=limit,
        offset=offset,
    )
    return StructurePage(items=directory(trame).with_present_relays(slug, items, at, known), total=total)


@get(ONE, tags=TAGS, sync_to_thread=False)
def get_structure(trame: Trame, slug: str, structure_id: str, as_of: DayQuery = None, known_at: DayQuery = None) -> Response[StructureOut]:
    """One sheet at a date (404 if it was not in the network then); the ETag is its version."""
    d = directory(trame)
    at, known = instant("as_of", as_of), instant("known_at", known_at)
    found = d.get_structure(slug, structure_id, at, known)
    if found is None:
        raise absent(_absent_message(trame, slug, structure_id, at, known))
    [found] = d.with_present_relays(slug, [found], at, known)  # relays that were partners at that date only
    return Response(found, headers={"ETag": f'"{found.version}"'})


def _absent_message(trame: Trame, slug: str, structure_id: str, as_of: str | None, known_at: str | None) -> str:
    """Why a sheet is absent: a merge or a departure names where and when (the contract keeps 404)."""
    d = directory(trame)
    gone = d.departure(slug, structure_id, as_of, known_at)
    if gone is None:
        return "Cette structure n'existe pas sur ce territoire à cette date."
    day = clock.french_long_date(gone["left"])
    into = gone["merged_into"]
    if into:
        target = d.get_structure(slug, into, gone["left"], known_at)
        name = f"« {target.name} » " if target else ""
        return f"Cette structure a fusionné le {day} dans la structure {name}d'identifiant {into}."
    return f"Cette structure a quitté le réseau le {day}."


@patch(ONE, opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def update_structure(
    request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: StructurePatch, if_match: IfMatch = None
) -> Written:
    """Change fields of a sheet (its referent or a coordinator), with If-Match."""
    _may_edit(request, structure_id)
    expected = _if_match(request)
    version = directory(trame).update_structure(slug, structure_id, data, expected, author_of(request))
    return Written(structure_id, version)


@post(ONE + "/merge", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True, status_code=201)
def merge_structure(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: MergeIn) -> Written:
    """The structure merges into ``into`` at ``effective``."""
    version = directory(trame).merge_structure(slug, structure_id, data.into, data.effective, author_of(request), data.reason)
    return Written(structure_id, version)


@post(ONE + "/leave", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True, status_code=201)
def leave_structure(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: LeaveIn) -> Written:
    version = directory(trame).leave_structure(slug, structure_id, data.effective, author_of(request), data.reason)
    return Written(structure_id, version)


@post(ONE + "/rejoin", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True, status_code=201)
def rejoin_structure(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: Rejoin) -> Written:
    version = directory(trame).rejoin_structure(slug, structure_id, data.effective, author_of(request), data.reason)
    return Written(structure_id, version)


@post(ONE + "/confirm", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=201)
def confirm_structure(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: Confirm) -> Written:
    """ "Still correct": the referent reviewed the sheet (update campaigns)."""
    _may_edit(request, structure_id)
    version = directory(trame).confirm_structure(slug, structure_id, author_of(request), data.reason)
    return Written(structure_id, version)


@get(ONE + "/history", tags=TAGS, sync_to_thread=False)
def structure_history(trame: Trame, slug: str, structure_id: str) -> HistoryPage:
    """The timeline of the sheet and its contacts: who, when, effective when, why, before/after."""
    return HistoryPage(directory(trame).history(slug, structure_id=structure_id))


# -- people ----------------------------------------------------------------------------------
@post(BASE + "/people", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=201)
def create_person(request: Request[Any, Any, Any], trame: Trame, slug: str, data: PersonIn) -> Written:
    pid, version = directory(trame).create_person(slug, data, author_of(request))
    return Written(pid, version)


@get(BASE + "/people/{person_id:str}", tags=TAGS, sync_to_thread=False)
def get_person(trame: Trame, slug: str, person_id: str) -> PersonOut:
    found = directory(trame).person(slug, person_id)
    if found is None:
        raise absent("Cette personne n'existe pas sur ce territoire.")
    return found


@patch(BASE + "/people/{person_id:str}", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def update_person(
    request: Request[Any, Any, Any], trame: Trame, slug: str, person_id: str, data: PersonPatch, if_match: OptionalIfMatch = None
) -> Written:
    """Name, professional e-mail, phone: coordinators, or the referent of the only structure where the person holds a role."""
    d = directory(trame)
    if d.person(slug, person_id) is None:
        raise absent("Cette personne n'existe pas sur ce territoire.")
    access = access_of(request)
    if not access.at_least("coordinator") and not (
        access.structure_id is not None and d.answers_only_to(slug, person_id, access.structure_id)
    ):
        raise PermissionDeniedException(
            "Un·e référent·e ne peut modifier que les coordonnées des personnes qui ne sont contact que de sa propre structure."
        )
    header = request.headers.get("if-match")
    expected = _if_match(request) if header else None
    version = directory(trame).update_person(slug, person_id, data, author_of(request), expected)
    return Written(person_id, version)


@delete(BASE + "/people/{person_id:str}", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True, status_code=200)
def erase_person(request: Request[Any, Any, Any], trame: Trame, slug: str, person_id: str, reason: str | None = None) -> PersonOut:
    """GDPR erasure: personal data crypto-shredded and scrubbed; the timeline keeps "personne effacée"."""
    d = directory(trame)
    d.erase_person(slug, person_id, author_of(request), reason)
    found = d.person(slug, person_id)
    assert found is not None
    return found


@get(BASE + "/people/{person_id:str}/history", tags=TAGS, sync_to_thread=False)
def person_history(trame: Trame, slug: str, person_id: str) -> HistoryPage:
    return HistoryPage(directory(trame).history(slug, person_id=person_id))


# -- contacts --------------------------------------------------------------------------------
@post(ONE + "/contacts", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=201)
def start_contact(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: ContactIn) -> Written:
    _may_edit(request, structure_id)
    cid, version = directory(trame).start_contact(slug, structure_id, data, author_of(request))
    return Written(cid, version)


@post(ONE + "/contacts/{contact_id:str}/end", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=201)
def end_contact(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, contact_id: str, data: ContactEnd) -> Written:
    _may_edit(request, structure_id)
    version = directory(trame).end_contact(slug, structure_id, contact_id, data, author_of(request))
    return Written(contact_id, version)


@patch(ONE + "/contacts/{contact_id:str}", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def correct_contact(
    request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, contact_id: str, data: ContactPatch
) -> Written:
    """A correction of the recorded role or dates: changes answers as of a date, not those known before."""
    _may_edit(request, structure_id)
    version = directory(trame).correct_contact(slug, structure_id, contact_id, data, author_of(request))
    return Written(contact_id, version)


@get(ONE + "/contacts", tags=TAGS, sync_to_thread=False)
def list_contacts(
    trame: Trame, slug: str, structure_id: str, as_of: DayQuery = None, known_at: DayQuery = None, include_past: bool = False
) -> ContactPage:
    """Who held which role there at ``as_of`` (every period with ``include_past``)."""
    items = directory(trame).contacts(slug, structure_id, instant("as_of", as_of), instant("known_at", known_at), include_past=include_past)
    return ContactPage(items)


# -- audit -----------------------------------------------------------------------------------
@get(BASE + "/audit", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=False)
def audit(
    trame: Trame,
    slug: str,
    actor: str | None = None,
    structure: str | None = None,
    since: DayQuery = None,
    until: DayQuery = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> HistoryPage:
    """Every directory change in the territory, newest first, by author, structure and period (recorded time)."""
    limit, offset = page_bounds(limit, offset)
    items = directory(trame).audit(
        slug,
        actor=actor,
        structure_id=structure,
        since=instant("since", since, end_of_day=False),
        until=instant("until", until),
        limit=limit,
        offset=offset,
    )
    return HistoryPage(items)


ROUTES = [
    create_structure,
    list_structures,
    get_structure,
    update_structure,
    merge_structure,
    leave_structure,
    rejoin_structure,
    confirm_structure,
    structure_history,
    create_person,
    get_person,
    update_person,
    erase_person,
    person_history,
    start_contact,
    end_contact,
    correct_contact,
    list_contacts,
    audit,
]
