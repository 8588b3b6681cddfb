"""JSON API of cafés (OpenAPI tag « cafe »): plan, invite, round table, search, hosting, newcomers.

Attendance, answers, minutes and the feed of a café are those of its meeting: see the
« rencontres » endpoints with the same id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.exceptions import PermissionDeniedException

from core.application import Trame
from core.web.access import access_of, author_of
from core.web.hygiene import Clock, Day, DayQuery, Filled, OptionalDay, day_param
from plugins.cafe.service import cafes
from plugins.rencontres.public import DeliveryOut, MeetingOut, delivery_out, meeting_out

BASE = "/api/v1/territories/{slug:str}/cafe"
TAGS = ["cafe"]
Short = Annotated[str, msgspec.Meta(max_length=300)]


class CafeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    day: Day
    start: Clock = "09:00"
    end: Clock = "10:30"
    kind: Literal["cafe", "thematique", "pleniere"] = "cafe"
    theme: str | None = None
    host_structure_id: str | None = None
    place: Short | None = None  # without a host


class SeriesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    first_day: Day
    until: OptionalDay | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None
    start: Clock = "09:00"
    end: Clock = "10:30"
    host_structure_id: str | None = None
    place: Short | None = None


class SeriesOut(msgspec.Struct):
    series_id: str | None
    cafes: list[MeetingOut]


class NewsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    news: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class NewsOut(msgspec.Struct):
    meeting_id: str
    structure_id: str
    structure_name: str
    news: str
    day: str | None = None


class HostingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    willing: bool
    has_room: bool
    note: Short | None = None


class HostOut(msgspec.Struct):
    structure_id: str
    name: str
    willing: bool
    has_room: bool
    last_hosted: str | None


class NewcomerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organisation: Filled
    presentation: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class NewcomerSheetIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Short | None = None
    email: Short | None = None
    phone: Short | None = None
    address: Short | None = None
    missions: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    themes: list[str] = msgspec.field(default_factory=list)


class NewcomerOut(msgspec.Struct):
    id: str
    organisation: str
    presentation: str
    structure_id: str | None


def may_speak_for(request: Request[Any, Any, Any], structure_id: str) -> None:
    """Coordinators write for any structure; a referent only for their own."""
    if not access_of(request).may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez écrire que pour votre propre structure.")


@get(f"{BASE}/cafes", tags=TAGS, sync_to_thread=False)
def list_cafes(trame: Trame, slug: str, since: DayQuery = None, until: DayQuery = None) -> list[MeetingOut]:
    since, until = day_param("since", since), day_param("until", until)
    return [meeting_out(m) for m in cafes(trame).cafes(slug, since=since, until=until)]


@post(f"{BASE}/cafes", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def plan_cafe(request: Request[Any, Any, Any], trame: Trame, slug: str, data: CafeIn) -> MeetingOut:
    """Plan one café (thematic ones need a ``theme``; one plenary a year). The host's address becomes the place."""
    svc = cafes(trame)
    mid = svc.plan(
        slug,
        author=author_of(request),
        day=data.day,
        start=data.start,
        end=data.end,
        host_structure_id=data.host_structure_id,
        place_text=data.place,
        kind=data.kind,
        theme=data.theme,
    )
    return meeting_out(svc.require(slug, mid))


@post(f"{BASE}/series", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def start_series(request: Request[Any, Any, Any], trame: Trame, slug: str, data: SeriesIn) -> SeriesOut:
    """Monthly cafés on the weekday and rank of the first one (default Friday 9:00-10:30); holidays flagged."""
    svc = cafes(trame)
    series_id, ids = svc.start_series(
        slug,
        author=author_of(request),
        first_day=data.first_day,
        until=data.until,
        count=data.count,
        start=data.start,
        end=data.end,
        host_structure_id=data.host_structure_id,
        place_text=data.place,
    )
    return SeriesOut(series_id, [meeting_out(svc.require(slug, i)) for i in ids])


@post(f"{BASE}/cafes/{{meeting_id:str}}/invitations", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def invite(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str) -> DeliveryOut:
    """Invite the café's list: everyone, or the structures of its theme for a thematic café."""
    return delivery_out(cafes(trame).invite(slug, meeting_id, author=author_of(request)))


@get(f"{BASE}/cafes/{{meeting_id:str}}/round-table", tags=TAGS, sync_to_thread=False)
def round_table(trame: Trame, slug: str, meeting_id: str) -> list[NewsOut]:
    return _round_table(trame, slug, meeting_id)


def _round_table(trame: Trame, slug: str, meeting_id: str) -> list[NewsOut]:
    svc = cafes(trame)
    m = svc.require(slug, meeting_id)
    return [NewsOut(meeting_id, e["structure_id"], e["name"], e["news"], m["day"]) for e in svc.round_table(slug, meeting_id)]


@post(f"{BASE}/cafes/{{meeting_id:str}}/round-table", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def add_news(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: NewsIn) -> list[NewsOut]:
    """A structure's news at the tour de table (referents: their own structure); marks it present."""
    may_speak_for(request, data.structure_id)
    cafes(trame).record_news(slug, meeting_id, data.structure_id, data.news, author=author_of(request))
    return _round_table(trame, slug, meeting_id)


@get(f"{BASE}/round-table", tags=TAGS, sync_to_thread=False)
def search_news(trame: Trame, slug: str, q: str = "", structure_id: str | None = None) -> list[NewsOut]:
    """Search round-table news (case and accents ignored), newest first."""
    return [
        NewsOut(e["meeting_id"], e["structure_id"], e["name"], e["news"], e["day"])
        for e in cafes(trame).search(slug, q, structure_id=structure_id)
    ]


@get(f"{BASE}/hosts", tags=TAGS, sync_to_thread=False)
def list_hosts(trame: Trame, slug: str) -> list[HostOut]:
    return _hosts(trame, slug)


def _hosts(trame: Trame, slug: str) -> list[HostOut]:
    return [HostOut(h["structure_id"], h["name"], h["willing"], h["has_room"], h["last_hosted"]) for h in cafes(trame).hosts(slug)]


@get(f"{BASE}/hosts/suggestion", tags=TAGS, sync_to_thread=False)
def suggest_host(trame: Trame, slug: str) -> HostOut | None:
    """The next host: willing, with a room, never hosted yet or hosted least recently."""
    h = cafes(trame).suggest_host(slug)
    return None if h is None else HostOut(h["structure_id"], h["name"], h["willing"], h["has_room"], h["last_hosted"])


@put(f"{BASE}/hosts/{{structure_id:str}}", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def offer_hosting(request: Request[Any, Any, Any], trame: Trame, slug: str, structure_id: str, data: HostingIn) -> list[HostOut]:
    may_speak_for(request, structure_id)
    cafes(trame).offer_hosting(slug, structure_id, author=author_of(request), willing=data.willing, has_room=data.has_room, note=data.note)
    return _hosts(trame, slug)


@post(f"{BASE}/cafes/{{meeting_id:str}}/newcomers", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def present_newcomer(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: NewcomerIn) -> NewcomerOut:
    svc = cafes(trame)
    nid = svc.present_newcomer(slug, meeting_id, author=author_of(request), organisation=data.organisation, presentation=data.presentation)
    n = next(x for x in svc.newcomers(slug, meeting_id) if x["newcomer_id"] == nid)
    return NewcomerOut(nid, n["organisation"], n["presentation"], n["structure_id"])


@post(
    f"{BASE}/cafes/{{meeting_id:str}}/newcomers/{{newcomer_id:str}}/structure", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True
)
def register_newcomer(
    request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, newcomer_id: str, data: NewcomerSheetIn
) -> NewcomerOut:
    """Create the newcomer's sheet in the directory from the café (the « fiche signalétique »)."""
    svc = cafes(trame)
    svc.register_newcomer(slug, meeting_id, newcomer_id, author=author_of(request), **msgspec.to_builtins(data))
    n = next(x for x in svc.newcomers(slug, meeting_id) if x["newcomer_id"] == newcomer_id)
    return NewcomerOut(newcomer_id, n["organisation"], n["presentation"], n["structure_id"])


ROUTES = [
    list_cafes,
    plan_cafe,
    start_series,
    invite,
    round_table,
    add_news,
    search_news,
    list_hosts,
    suggest_host,
    offer_hosting,
    present_newcomer,
    register_newcomer,
]
