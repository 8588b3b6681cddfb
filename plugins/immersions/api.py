"""JSON API of immersion programmes (OpenAPI tag « immersions »).

Coordinators open programmes, pair and follow up; a referent enrols, offers and asks for
their own structure; members read. Errors are ``{"detail", "status"}`` in French. The day
of a binôme is a meeting: its answers and .ics are also under the « rencontres » endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, post, put

from core.application import Trame
from core.refusals import Refused, Why, forbidden
from core.web.access import access_of, author_of
from plugins.immersions.service import QUESTIONS, PairDelivery, immersions

BASE = "/api/v1/territories/{slug:str}/immersions"
TAGS = ["immersions"]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]


class ProgrammeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Short
    starts_on: str
    ends_on: str
    fields: list[str]  # two keys among social, emploi, sante, logement, education, handicap
    description: Text | None = None


class ProgrammeOut(msgspec.Struct):
    id: str
    title: str
    starts_on: str
    ends_on: str
    fields: list[str]
    description: str | None


class ParticipantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    field: str
    person_id: str | None = None  # a current contact of the structure in the directory
    full_name: Short | None = None  # or a professional named here (personal data, erasable)
    email: Short | None = None
    job: Short | None = None


class ParticipantOut(msgspec.Struct):
    id: str
    structure_id: str
    structure_name: str
    field: str
    name: str
    job: str | None
    from_directory: bool
    erased: bool


class OfferIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host_participant_id: str
    day: str
    length: Literal["matin", "apres-midi", "journee"]
    note: Text | None = None


class OfferOut(msgspec.Struct):
    id: str
    structure_id: str
    host_participant_id: str
    day: str
    length: str
    note: str | None
    pair_id: str | None


class RequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    participant_id: str
    wish: Literal["demi-journee", "journee", "indifferent"] = "indifferent"
    note: Text | None = None


class RequestOut(msgspec.Struct):
    id: str
    participant_id: str
    wish: str
    note: str | None
    pair_id: str | None


class PairIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    offer_id: str
    request_id: str


class SideOut(msgspec.Struct):
    participant_id: str
    structure_id: str
    answer: str | None
    feedback_given: bool


class PairOut(msgspec.Struct):
    id: str
    offer_id: str
    request_id: str
    meeting_id: str
    day: str
    length: str
    status: str
    host: SideOut
    visitor: SideOut
    completed: bool


class LinkOut(msgspec.Struct):
    side: str
    url: str  # shown once: only its digest is stored
    sent: bool


class PairedOut(msgspec.Struct):
    pair: PairOut
    links: list[LinkOut]


class SuggestionOut(msgspec.Struct):
    request_id: str
    offer_id: str
    day: str
    length: str


class FeedbackIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    expectations: Text = ""
    convergences: Text = ""
    obstacles: Text = ""
    recommendations: Text = ""


class AnswerOut(msgspec.Struct):
    text: str
    field: str  # the field of those who wrote it
    sources: list[str]  # their structures and sides, never a person helped


class ReportOut(msgspec.Struct):
    programme: ProgrammeOut
    participants: int
    participants_by_field: dict[str, int]
    offers: int
    requests: int
    pairs: int
    confirmed: int
    completed: int
    feedback: int
    answers: dict[str, list[AnswerOut]]


def programme_out(p: dict[str, Any]) -> ProgrammeOut:
    return ProgrammeOut(p["programme_id"], p["title"], p["starts_on"], p["ends_on"], list(p["fields"]), p["description"])


def participant_out(p: dict[str, Any]) -> ParticipantOut:
    return ParticipantOut(
        p["participant_id"], p["structure_id"], p["structure_name"], p["field"], p["name"], p["job"], bool(p["person_id"]), p["erased"]
    )


def pair_out(p: dict[str, Any]) -> PairOut:
    def side(key: str) -> SideOut:
        who = p[key]
        return SideOut(who["participant_id"], who["structure_id"], p["answers"][key], key in p["feedback"])

    return PairOut(
        p["pair_id"],
        p["offer_id"],
        p["request_id"],
        p["meeting_id"],
        p["day"],
        p["length"],
        p["status"],
        side("host"),
        side("visitor"),
        p["completed"],
    )


def _paired(trame: Trame, slug: str, delivery: PairDelivery) -> PairedOut:
    pair = immersions(trame).require_pair(slug, delivery.pair_id)
    return PairedOut(pair_out(pair), [LinkOut(link.side, link.url, link.sent) for link in delivery.links])


def may_speak_for(request: Request[Any, Any, Any], structure_id: str) -> None:
    """Coordinators act for any structure; a referent only for their own."""
    if not access_of(request).may_edit_structure(structure_id):
        raise forbidden("Vous ne pouvez agir que pour votre propre structure.")


def _participant(trame: Trame, slug: str, programme_id: str, participant_id: str) -> dict[str, Any]:
    found = next((p for p in immersions(trame).participants(slug, programme_id) if p["participant_id"] == participant_id), None)
    if found is None:
        raise Refused("Ce·tte participant·e n'existe pas dans ce programme.", why=Why.ABSENT, field="participant_id")
    return found


@get(f"{BASE}/programmes", tags=TAGS, sync_to_thread=False)
def list_programmes(trame: Trame, slug: str) -> list[ProgrammeOut]:
    return [programme_out(p) for p in immersions(trame).programmes(slug)]


@post(f"{BASE}/programmes", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def open_programme(request: Request[Any, Any, Any], trame: Trame, slug: str, data: ProgrammeIn) -> ProgrammeOut:
    """Open a programme crossing two fields (e.g. ``["social", "emploi"]``) over a period."""
    svc = immersions(trame)
    pid = svc.open_programme(
        slug,
        author=author_of(request),
        title=data.title,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        fields=data.fields,
        description=data.description,
    )
    return programme_out(svc.require(slug, pid))


@get(f"{BASE}/programmes/{{programme_id:str}}", tags=TAGS, sync_to_thread=False)
def get_programme(trame: Trame, slug: str, programme_id: str) -> ProgrammeOut:
    return programme_out(immersions(trame).require(slug, programme_id))


@get(f"{BASE}/programmes/{{programme_id:str}}/participants", tags=TAGS, sync_to_thread=False)
def list_participants(trame: Trame, slug: str, programme_id: str) -> list[ParticipantOut]:
    svc = immersions(trame)
    svc.require(slug, programme_id)
    return [participant_out(p) for p in svc.participants(slug, programme_id)]


@post(f"{BASE}/programmes/{{programme_id:str}}/participants", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def join(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, data: ParticipantIn) -> ParticipantOut:
    """Enrol a professional: a contact of the directory (``person_id``) or a name typed here."""
    may_speak_for(request, data.structure_id)
    pid = immersions(trame).join(
        slug,
        programme_id,
        author=author_of(request),
        structure_id=data.structure_id,
        field=data.field,
        person_id=data.person_id,
        full_name=data.full_name,
        email=data.email,
        job=data.job,
    )
    return participant_out(_participant(trame, slug, programme_id, pid))


@delete(
    f"{BASE}/programmes/{{programme_id:str}}/participants/{{participant_id:str}}/name",
    opt={"role": "coordinator"},
    tags=TAGS,
    sync_to_thread=True,
    status_code=200,
)
def erase_participant(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, participant_id: str) -> ParticipantOut:
    """Right to erasure of a name typed here (its key is shredded); the participation stays."""
    immersions(trame).erase_participant(slug, programme_id, participant_id, author=author_of(request))
    return participant_out(_participant(trame, slug, programme_id, participant_id))


@get(f"{BASE}/programmes/{{programme_id:str}}/offers", tags=TAGS, sync_to_thread=False)
def list_offers(trame: Trame, slug: str, programme_id: str) -> list[OfferOut]:
    svc = immersions(trame)
    svc.require(slug, programme_id)
    return [
        OfferOut(o["offer_id"], o["structure_id"], o["host_participant_id"], o["day"], o["length"], o["note"], o["pair_id"])
        for o in svc.offers(slug, programme_id)
    ]


@post(f"{BASE}/programmes/{{programme_id:str}}/offers", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def offer(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, data: OfferIn) -> OfferOut:
    """The host's structure offers a half-day (``matin``, ``apres-midi``) or a day (``journee``)."""
    host = _participant(trame, slug, programme_id, data.host_participant_id)
    may_speak_for(request, host["structure_id"])
    svc = immersions(trame)
    oid = svc.offer(
        slug,
        programme_id,
        author=author_of(request),
        host_participant_id=data.host_participant_id,
        day=data.day,
        length=data.length,
        note=data.note,
    )
    o = next(x for x in svc.offers(slug, programme_id) if x["offer_id"] == oid)
    return OfferOut(oid, o["structure_id"], o["host_participant_id"], o["day"], o["length"], o["note"], o["pair_id"])


@get(f"{BASE}/programmes/{{programme_id:str}}/requests", tags=TAGS, sync_to_thread=False)
def list_requests(trame: Trame, slug: str, programme_id: str) -> list[RequestOut]:
    svc = immersions(trame)
    svc.require(slug, programme_id)
    return [RequestOut(r["request_id"], r["participant_id"], r["wish"], r["note"], r["pair_id"]) for r in svc.requests(slug, programme_id)]


@post(f"{BASE}/programmes/{{programme_id:str}}/requests", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def ask(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, data: RequestIn) -> RequestOut:
    """A participant asks for an immersion in the other field (one request each)."""
    who = _participant(trame, slug, programme_id, data.participant_id)
    may_speak_for(request, who["structure_id"])
    svc = immersions(trame)
    rid = svc.request(slug, programme_id, author=author_of(request), participant_id=data.participant_id, wish=data.wish, note=data.note)
    r = next(x for x in svc.requests(slug, programme_id) if x["request_id"] == rid)
    return RequestOut(rid, r["participant_id"], r["wish"], r["note"], r["pair_id"])


@get(f"{BASE}/programmes/{{programme_id:str}}/suggestions", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=False)
def suggestions(trame: Trame, slug: str, programme_id: str) -> list[SuggestionOut]:
    """A suggested pairing of open requests with free offers: across the two fields, never inside one structure."""
    svc = immersions(trame)
    svc.require(slug, programme_id)
    return [SuggestionOut(s.request_id, s.offer_id, s.day, s.length) for s in svc.suggestions(slug, programme_id)]


@get(f"{BASE}/programmes/{{programme_id:str}}/pairs", tags=TAGS, sync_to_thread=False)
def list_pairs(trame: Trame, slug: str, programme_id: str) -> list[PairOut]:
    svc = immersions(trame)
    svc.require(slug, programme_id)
    return [pair_out(p) for p in svc.pairs(slug, programme_id)]


@post(f"{BASE}/programmes/{{programme_id:str}}/pairs", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def pair(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, data: PairIn) -> PairedOut:
    """Form a binôme; the answer carries each side's confirmation link, shown this once (mailed with the .ics when SMTP is set)."""
    delivery = immersions(trame).pair(slug, programme_id, data.offer_id, data.request_id, author=author_of(request))
    return _paired(trame, slug, delivery)


def _pair_in(trame: Trame, slug: str, programme_id: str, pair_id: str) -> dict[str, Any]:
    p = immersions(trame).require_pair(slug, pair_id)
    if p["programme_id"] != programme_id:
        raise Refused("Ce binôme n'existe pas dans ce programme.", why=Why.ABSENT)
    return p


@post(f"{BASE}/programmes/{{programme_id:str}}/pairs/{{pair_id:str}}/links", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def reissue(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, pair_id: str) -> PairedOut:
    """New confirmation links for both sides; the previous ones stop working."""
    _pair_in(trame, slug, programme_id, pair_id)
    return _paired(trame, slug, immersions(trame).reissue_links(slug, programme_id, pair_id, author=author_of(request)))


@post(f"{BASE}/programmes/{{programme_id:str}}/pairs/{{pair_id:str}}/held", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def held(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, pair_id: str) -> PairOut:
    _pair_in(trame, slug, programme_id, pair_id)
    immersions(trame).mark_held(slug, programme_id, pair_id, author=author_of(request))
    return pair_out(immersions(trame).require_pair(slug, pair_id))


@delete(
    f"{BASE}/programmes/{{programme_id:str}}/pairs/{{pair_id:str}}",
    opt={"role": "coordinator"},
    tags=TAGS,
    sync_to_thread=True,
    status_code=200,
)
def cancel(request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, pair_id: str) -> PairOut:
    """Undo a binôme: its day is cancelled, its offer and request can be paired again."""
    _pair_in(trame, slug, programme_id, pair_id)
    immersions(trame).cancel_pair(slug, programme_id, pair_id, author=author_of(request))
    return pair_out(immersions(trame).require_pair(slug, pair_id))


@put(
    f"{BASE}/programmes/{{programme_id:str}}/pairs/{{pair_id:str}}/feedback/{{side:str}}",
    opt={"role": "coordinator"},
    tags=TAGS,
    sync_to_thread=True,
)
def feedback(
    request: Request[Any, Any, Any], trame: Trame, slug: str, programme_id: str, pair_id: str, side: str, data: FeedbackIn
) -> PairOut:
    """A side's answers to the four questions (``side``: ``host`` or ``visitor``), typed by the coordination."""
    _pair_in(trame, slug, programme_id, pair_id)
    immersions(trame).give_feedback(slug, programme_id, pair_id, side, msgspec.to_builtins(data), author=author_of(request))
    return pair_out(immersions(trame).require_pair(slug, pair_id))


@get(f"{BASE}/programmes/{{programme_id:str}}/report", tags=TAGS, sync_to_thread=False)
def report(trame: Trame, slug: str, programme_id: str) -> ReportOut:
    """Figures (participants by field, offers, requests, binômes, completed) and the answers, question by question."""
    r = immersions(trame).report(slug, programme_id)
    f = r["figures"]
    return ReportOut(
        programme_out(r["programme"]),
        f["participants"],
        f["by_field"],
        f["offers"],
        f["requests"],
        f["pairs"],
        f["confirmed"],
        f["completed"],
        f["feedback"],
        {q: [AnswerOut(a["text"], field, a["sources"]) for field, group in r["answers"][q].items() for a in group] for q in QUESTIONS},
    )


ROUTES = [
    list_programmes,
    open_programme,
    get_programme,
    list_participants,
    join,
    erase_participant,
    list_offers,
    offer,
    list_requests,
    ask,
    suggestions,
    list_pairs,
    pair,
    reissue,
    held,
    cancel,
    feedback,
    report,
]
