"""Immersion pages: programmes, one programme (participants, offers, requests, binômes), the
printable report, and the confirmation / feedback link that needs no account. No JavaScript."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.refusals import Refused, absent, forbidden, invalid
from core.web.access import access_of, author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire import public as annuaire
from plugins.immersions.service import ANSWERS, FIELDS, LENGTHS, QUESTIONS, SIDES, WISHES, PairDelivery, immersions

P = "/t/{territory:str}/immersions"


def _index(request: Request[Any, Any, Any], trame: Trame, territory: str, *, error: str | None = None, status_code: int = 200) -> Template:
    return render(
        request,
        "immersions/index.html",
        status_code=status_code,
        programmes=immersions(trame).programmes(territory),
        fields=FIELDS,
        error=error,
        today=clock.paris_today(),
    )


@get(f"{P}/", sync_to_thread=False)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return _index(request, trame, territory)


@post(f"{P}/nouveau", opt={"role": "coordinator"}, sync_to_thread=True)
def open_programme(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        pid = immersions(trame).open_programme(
            territory,
            author=author_of(request),
            title=one(data, "title"),
            starts_on=one(data, "starts_on"),
            ends_on=one(data, "ends_on"),
            fields=[one(data, "field_a"), one(data, "field_b")],
            description=one(data, "description") or None,
        )
    except Refused as exc:
        return _index(request, trame, territory, error=exc.detail, status_code=exc.status)
    return Redirect(f"/t/{territory}/immersions/programmes/{pid}", status_code=303)


def _programme(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    programme_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    delivery: PairDelivery | None = None,
) -> Template:
    svc = immersions(trame)
    programme = svc.require(territory, programme_id)
    access = access_of(request)
    participants = svc.participants(territory, programme_id)
    structures = annuaire.structures(trame, territory)
    mine = [p for p in participants if access.may_edit_structure(p["structure_id"])]
    contacts = []
    if access.at_least("referent"):
        ids = [s.id for s in structures if access.may_edit_structure(s.id)]
        names = {s.id: s.name for s in structures}
        for sid in ids:
            for c in annuaire.contacts(trame, territory, sid):
                if c.person.name:
                    contacts.append({"person_id": c.person.id, "structure_id": sid, "label": f"{c.person.name} — {names[sid]}"})
    return render(
        request,
        "immersions/programme.html",
        status_code=status_code,
        p=programme,
        participants=participants,
        mine=mine,
        offers=svc.offers(territory, programme_id),
        requests=svc.requests(territory, programme_id),
        pairs=svc.pairs(territory, programme_id),
        suggestions=svc.suggestions(territory, programme_id) if access.at_least("coordinator") else [],
        structures=[s for s in structures if access.may_edit_structure(s.id)],
        contacts=contacts,
        fields=FIELDS,
        lengths=LENGTHS,
        wishes=WISHES,
        answers=ANSWERS,
        error=error,
        delivery=delivery,
        today=clock.paris_today(),
    )


@get(f"{P}/programmes/{{programme_id:uuid}}", sync_to_thread=False)
def programme_page(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID) -> Template:
    return _programme(request, trame, territory, str(programme_id))


def _participant_structure(trame: Trame, territory: str, programme_id: str, participant_id: str) -> str:
    found = next((p for p in immersions(trame).participants(territory, programme_id) if p["participant_id"] == participant_id), None)
    if found is None:
        raise invalid("Choisissez un·e participant·e du programme.")
    return str(found["structure_id"])


def _may_speak_for(request: Request[Any, Any, Any], structure_id: str) -> None:
    if not access_of(request).may_edit_structure(structure_id):
        raise forbidden("Vous ne pouvez agir que pour votre propre structure.")


def _after(territory: str, programme_id: str, anchor: str) -> Response[Any]:
    return Redirect(f"/t/{territory}/immersions/programmes/{programme_id}#{anchor}", status_code=303)


@post(f"{P}/programmes/{{programme_id:uuid}}/participants", opt={"role": "referent"}, sync_to_thread=True)
def join(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, data: Form) -> Response[Any]:
    pid = str(programme_id)
    person, structure_id = "", one(data, "structure_id")
    if one(data, "person_id"):  # a contact chosen from the directory carries its structure: "person|structure"
        person, _, structure_id = one(data, "person_id").partition("|")
    _may_speak_for(request, structure_id)
    try:
        immersions(trame).join(
            territory,
            pid,
            author=author_of(request),
            structure_id=structure_id,
            field=one(data, "field"),
            person_id=person or None,
            full_name=one(data, "full_name") or None,
            email=one(data, "email") or None,
            job=one(data, "job") or None,
        )
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "participants")


@post(f"{P}/programmes/{{programme_id:uuid}}/participants/effacement", opt={"role": "coordinator"}, sync_to_thread=True)
def erase(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, data: Form) -> Response[Any]:
    pid = str(programme_id)
    try:
        immersions(trame).erase_participant(territory, pid, one(data, "participant_id"), author=author_of(request))
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "participants")


@post(f"{P}/programmes/{{programme_id:uuid}}/accueils", opt={"role": "referent"}, sync_to_thread=True)
def offer(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, data: Form) -> Response[Any]:
    pid = str(programme_id)
    host = one(data, "host_participant_id")
    _may_speak_for(request, _participant_structure(trame, territory, pid, host))
    try:
        immersions(trame).offer(
            territory,
            pid,
            author=author_of(request),
            host_participant_id=host,
            day=one(data, "day"),
            length=one(data, "length"),
            note=one(data, "note") or None,
        )
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "accueils")


@post(f"{P}/programmes/{{programme_id:uuid}}/demandes", opt={"role": "referent"}, sync_to_thread=True)
def ask(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, data: Form) -> Response[Any]:
    pid = str(programme_id)
    who = one(data, "participant_id")
    _may_speak_for(request, _participant_structure(trame, territory, pid, who))
    try:
        immersions(trame).request(
            territory,
            pid,
            author=author_of(request),
            participant_id=who,
            wish=one(data, "wish", "indifferent"),
            note=one(data, "note") or None,
        )
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "demandes")


@post(f"{P}/programmes/{{programme_id:uuid}}/binomes", opt={"role": "coordinator"}, sync_to_thread=True)
def pair(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, data: Form) -> Template:
    """Form one binôme (a suggestion accepted, or chosen by hand); its links are shown once."""
    pid = str(programme_id)
    offer_id, request_id = one(data, "offer_id"), one(data, "request_id")
    if "|" in offer_id:  # a suggestion: "request|offer"
        request_id, _, offer_id = offer_id.partition("|")
    try:
        delivery = immersions(trame).pair(territory, pid, offer_id, request_id, author=author_of(request))
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _programme(request, trame, territory, pid, delivery=delivery)


@post(f"{P}/programmes/{{programme_id:uuid}}/binomes/{{pair_id:uuid}}/liens", opt={"role": "coordinator"}, sync_to_thread=True)
def reissue(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, pair_id: UUID) -> Template:
    pid = str(programme_id)
    try:
        delivery = immersions(trame).reissue_links(territory, pid, str(pair_id), author=author_of(request))
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _programme(request, trame, territory, pid, delivery=delivery)


@post(f"{P}/programmes/{{programme_id:uuid}}/binomes/{{pair_id:uuid}}/realisee", opt={"role": "coordinator"}, sync_to_thread=True)
def held(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, pair_id: UUID) -> Response[Any]:
    pid = str(programme_id)
    try:
        immersions(trame).mark_held(territory, pid, str(pair_id), author=author_of(request))
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "binomes")


@post(f"{P}/programmes/{{programme_id:uuid}}/binomes/{{pair_id:uuid}}/annulation", opt={"role": "coordinator"}, sync_to_thread=True)
def cancel(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID, pair_id: UUID, data: Form) -> Response[Any]:
    pid = str(programme_id)
    try:
        immersions(trame).cancel_pair(territory, pid, str(pair_id), author=author_of(request), reason=one(data, "reason") or None)
    except Refused as exc:
        return _programme(request, trame, territory, pid, error=exc.detail, status_code=exc.status)
    return _after(territory, pid, "binomes")


@get(f"{P}/programmes/{{programme_id:uuid}}/bilan", sync_to_thread=False)
def report(request: Request[Any, Any, Any], trame: Trame, territory: str, programme_id: UUID) -> Template:
    r = immersions(trame).report(territory, str(programme_id))
    return render(request, "immersions/report.html", **r, fields=FIELDS, questions=QUESTIONS, sides=SIDES)


@get(f"{P}/{{meeting_id:uuid}}", sync_to_thread=False)
def meeting_link(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID) -> Response[Any]:
    """Where an immersion's calendar entry points: its binôme in its programme."""
    found = immersions(trame).pair_of_meeting(territory, str(meeting_id))
    if found is None:
        raise NotFoundException("Cette immersion n'existe pas sur ce territoire.")
    return Redirect(f"/t/{territory}/immersions/programmes/{found['programme_id']}#binome-{found['pair_id']}", status_code=303)


# -- the link without an account ---------------------------------------------------------------
def _enabled(trame: Trame, territory: str) -> None:
    if trame.territories.get(territory) is None or not trame.territories.is_enabled(territory, "immersions"):
        raise NotFoundException("Cette page n'existe pas sur ce territoire.")


def _link_page(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    token: str,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> Template:
    _enabled(trame, territory)
    found = immersions(trame).by_token(territory, token)
    if found is None:
        raise absent("Ce lien n'est pas (ou plus) valable. Demandez-en un nouveau à la coordination du programme.")
    pair, side = found
    programme = immersions(trame).require(territory, pair["programme_id"])
    return render(
        request,
        "immersions/link.html",
        status_code=status_code,
        pair=pair,
        side=side,
        sides=SIDES,
        programme=programme,
        token=token,
        territory=territory,
        territory_title=(trame.territories.get(territory) or {}).get("title", ""),
        answers=ANSWERS,
        questions=QUESTIONS,
        lengths=LENGTHS,
        after=pair["day"] <= clock.paris_today(),
        mine=pair["feedback"].get(side),
        done=done,
        error=error,
        values=values or {},
    )


@get(f"{P}/lien/{{token:str}}", opt={"public": True}, sync_to_thread=False)
def link_page(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    return _link_page(request, trame, territory, token)


@post(f"{P}/lien/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def link_confirm(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Template:
    _enabled(trame, territory)
    try:
        immersions(trame).confirm_with_token(territory, token, answer=one(data, "answer"), comment=one(data, "comment") or None)
    except Refused as exc:
        return _link_page(request, trame, territory, token, error=exc.detail, status_code=exc.status)
    return _link_page(request, trame, territory, token, done="answer")


@post(f"{P}/lien/{{token:str}}/retour", opt={"public": True}, sync_to_thread=True)
def link_feedback(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Template:
    _enabled(trame, territory)
    answers = {q: one(data, q) for q in QUESTIONS}
    try:
        immersions(trame).feedback_with_token(territory, token, answers)
    except Refused as exc:
        return _link_page(request, trame, territory, token, error=exc.detail, status_code=exc.status, values=answers)
    return _link_page(request, trame, territory, token, done="feedback")


ROUTES = [
    index,
    open_programme,
    programme_page,
    join,
    erase,
    offer,
    ask,
    pair,
    reissue,
    held,
    cancel,
    report,
    meeting_link,
    link_page,
    link_confirm,
    link_feedback,
]
