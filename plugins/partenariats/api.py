"""JSON API of partnerships (OpenAPI tag « partenariats »), under /api/v1/territories/{slug}/partenariats/.

Reads take ``as_of`` and ``known_at`` (a day or an instant); errors are the core's French
``{"detail", "status"}``. Members read; the coordination records, amends and ends; the
coordination or a partner's referent evaluates.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException

from core.application import Trame
from core.web.access import access_of, author_of
from plugins.partenariats import calendar
from plugins.partenariats.pages import FORBIDDEN, _kind, may_evaluate, moment
from plugins.partenariats.service import (
    AmendmentIn,
    EndIn,
    EvaluationIn,
    Partnership,
    PartnershipIn,
    partnerships,
)

BASE = "/api/v1/territories/{slug:str}/partenariats"
TAGS = ["partenariats"]
Req = Request[Any, Any, Any]


class PartnerOut(msgspec.Struct):
    structure_id: str
    name: str
    role: str
    recorded_structure_id: str
    former_name: str | None


class PartnershipOut(msgspec.Struct):
    id: str
    title: str
    kind: str
    form: str
    partners: list[PartnerOut]
    starts_on: str
    ends_on: str | None
    convention_ref: str | None
    renewal_on: str | None
    description: str
    ended: bool
    end_reason: str | None


class EvaluationOut(msgspec.Struct, kw_only=True):
    id: str
    evaluated_on: str
    what_works: str
    obstacles: str
    steering: str
    communication: str
    public_feedback: str
    evolution: str
    author: str
    recorded_at: str


class HistoryOut(msgspec.Struct):
    event: str
    label: str
    effective: str
    recorded_at: str
    author: str
    reason: str | None


class MapPartnerOut(msgspec.Struct):
    structure_id: str
    name: str
    role: str
    former_name: str | None
    partnership_ids: list[str]


class MapOut(msgspec.Struct):
    structure_id: str
    name: str
    day: str
    partners: list[MapPartnerOut]


class NodeOut(msgspec.Struct):
    structure_id: str
    name: str
    links: int
    isolated: bool


class LinkOut(msgspec.Struct):
    a: str
    b: str
    partnership_ids: list[str]
    kinds: list[str]


class NetworkOut(msgspec.Struct):
    day: str
    kind: str | None
    structures: list[NodeOut]
    links: list[LinkOut]


class ReminderOut(msgspec.Struct):
    partnership_id: str
    title: str
    what: str
    day: str | None
    text: str


class CreatedOut(msgspec.Struct):
    id: str


def out(p: Partnership) -> PartnershipOut:
    return PartnershipOut(
        p.id,
        p.title,
        p.kind,
        p.form,
        [PartnerOut(x.structure_id, x.name, x.role, x.recorded_id, x.former_name) for x in p.partners],
        p.starts_on,
        p.ends_on,
        p.convention_ref,
        p.renewal_on,
        p.description,
        p.ended,
        p.end_reason,
    )


@get(f"{BASE}/partnerships", tags=TAGS, sync_to_thread=False)
def list_partnerships(
    trame: Trame, slug: str, as_of: str | None = None, known_at: str | None = None, kind: str | None = None
) -> list[PartnershipOut]:
    """The partnerships running at ``as_of`` (default today), as known at ``known_at``, of one ``kind`` or all."""
    at, known = moment(as_of, known_at)
    return [out(p) for p in partnerships(trame).at(slug, as_of=at, known_at=known, kind=_kind(kind))]


@post(f"{BASE}/partnerships", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def record(request: Req, trame: Trame, slug: str, data: PartnershipIn) -> CreatedOut:
    """Record a partnership of at least two structures of the directory, effective from ``starts_on``."""
    return CreatedOut(partnerships(trame).record(slug, data, author=author_of(request)))


@get(f"{BASE}/partnerships/{{partnership_id:str}}", tags=TAGS, sync_to_thread=False)
def get_partnership(trame: Trame, slug: str, partnership_id: str, as_of: str | None = None, known_at: str | None = None) -> PartnershipOut:
    at, known = moment(as_of, known_at)
    return out(partnerships(trame).require(slug, partnership_id, as_of=at, known_at=known))


@post(f"{BASE}/partnerships/{{partnership_id:str}}/amendments", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def amend(request: Req, trame: Trame, slug: str, partnership_id: str, data: AmendmentIn) -> PartnershipOut:
    """New terms from ``effective`` on (the earlier days keep the earlier terms)."""
    svc = partnerships(trame)
    svc.amend(slug, partnership_id, data, author=author_of(request))
    return out(svc.require(slug, partnership_id))


@post(f"{BASE}/partnerships/{{partnership_id:str}}/end", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def end(request: Req, trame: Trame, slug: str, partnership_id: str, data: EndIn) -> PartnershipOut:
    svc = partnerships(trame)
    svc.end(slug, partnership_id, data, author=author_of(request))
    return out(svc.require(slug, partnership_id))


@get(f"{BASE}/partnerships/{{partnership_id:str}}/history", tags=TAGS, sync_to_thread=False)
def history(trame: Trame, slug: str, partnership_id: str) -> list[HistoryOut]:
    svc = partnerships(trame)
    svc.require(slug, partnership_id)
    return [HistoryOut(h.event, h.label, h.effective, h.recorded_at, h.author, h.reason) for h in svc.history(slug, partnership_id)]


def _evaluations(trame: Trame, slug: str, partnership_id: str) -> list[EvaluationOut]:
    svc = partnerships(trame)
    svc.require(slug, partnership_id)
    return [
        EvaluationOut(id=e.id, evaluated_on=e.evaluated_on, author=e.author, recorded_at=e.recorded_at, **e.texts)
        for e in svc.evaluations(slug, partnership_id)
    ]


@get(f"{BASE}/partnerships/{{partnership_id:str}}/evaluations", tags=TAGS, sync_to_thread=False)
def evaluations(trame: Trame, slug: str, partnership_id: str) -> list[EvaluationOut]:
    return _evaluations(trame, slug, partnership_id)


@post(f"{BASE}/partnerships/{{partnership_id:str}}/evaluations", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def evaluate(request: Req, trame: Trame, slug: str, partnership_id: str, data: EvaluationIn) -> list[EvaluationOut]:
    """An evaluation on the seed 002 grid, by the coordination or a partner's referent."""
    svc = partnerships(trame)
    if not may_evaluate(request, svc.require(slug, partnership_id)):
        raise PermissionDeniedException(FORBIDDEN)
    svc.evaluate(slug, partnership_id, data, author=author_of(request))
    return _evaluations(trame, slug, partnership_id)


@get(f"{BASE}/structures/{{structure_id:str}}/map", tags=TAGS, sync_to_thread=False)
def structure_map(trame: Trame, slug: str, structure_id: str, as_of: str | None = None, known_at: str | None = None) -> MapOut:
    """A structure's partners at ``as_of`` in the four families of the seed 002 map (``role``)."""
    from core.structures import require_structure

    require_structure(trame, slug, structure_id)
    at, known = moment(as_of, known_at)
    m = partnerships(trame).partner_map(slug, structure_id, as_of=at, known_at=known)
    return MapOut(
        m.structure_id,
        m.name,
        m.day,
        [MapPartnerOut(e.structure_id, e.name, e.role, e.former_name, [p.id for p in e.partnerships]) for e in m.entries()],
    )


@get(f"{BASE}/network", tags=TAGS, sync_to_thread=False)
def network(trame: Trame, slug: str, as_of: str | None = None, known_at: str | None = None, kind: str | None = None) -> NetworkOut:
    """Who works with whom at ``as_of``: each pair of partners of a running partnership; isolated structures flagged."""
    at, known = moment(as_of, known_at)
    net = partnerships(trame).network(slug, as_of=at, known_at=known, kind=_kind(kind))
    return NetworkOut(
        net.day,
        net.kind,
        [NodeOut(n.id, n.name, n.degree, n.isolated) for n in net.nodes],
        [LinkOut(e.a, e.b, [p.id for p in e.partnerships], e.kinds) for e in net.edges],
    )


@get(f"{BASE}/reminders", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=False)
def reminders(trame: Trame, slug: str) -> list[ReminderOut]:
    """Conventions ending or to renew within 90 days; running partnerships not evaluated for a year."""
    return [ReminderOut(r.partnership.id, r.partnership.title, r.what, r.day, r.text) for r in partnerships(trame).reminders(slug)]


@get(f"{BASE}/echeances.ics", tags=TAGS, sync_to_thread=False, media_type="text/calendar")
def end_dates(request: Req, trame: Trame, slug: str) -> Response[bytes]:
    """The end and renewal dates as an iCalendar feed."""
    return calendar.response(trame, slug, access_of(request).territory_title)


ROUTES = [
    list_partnerships,
    record,
    get_partnership,
    amend,
    end,
    history,
    evaluations,
    evaluate,
    structure_map,
    network,
    reminders,
    end_dates,
]
