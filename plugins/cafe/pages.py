"""Café pages: the list and planning, one café (invitations, round table, newcomers), hosting, search."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core import clock, privacy
from core.application import Trame
from core.refusals import Refused, invalid
from core.web import flash
from core.web.access import access_of, author_of
from core.web.forms import Form, many, one
from core.web.rendering import render
from plugins.annuaire import public as annuaire
from plugins.cafe.service import KINDS, cafes, next_friday_rank_day
from plugins.rencontres.public import Delivery, meeting_context

P = "/t/{territory:str}/cafe"


def _index(request: Request[Any, Any, Any], trame: Trame, territory: str, *, error: str | None = None, status_code: int = 200) -> Template:
    svc = cafes(trame)
    today = clock.paris_today()
    upcoming, past = svc.cafes(territory, since=today), svc.cafes(territory, until=today, descending=True, limit=24)
    return render(
        request,
        "cafe/index.html",
        status_code=status_code,
        error=error,
        upcoming=upcoming,
        past=past,
        figures=svc.figures(territory, [m["meeting_id"] for m in upcoming + past]),
        suggestion=svc.suggest_host(territory),
        structures=annuaire.structures(trame, territory),
        themes=annuaire.THEMES,
        kinds=KINDS,
        default_day=next_friday_rank_day(),
        series=svc.meetings.all_series(territory, "cafe"),
    )


@get(f"{P}/", sync_to_thread=False)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return _index(request, trame, territory)


@post(f"{P}/nouveau", opt={"role": "coordinator"}, sync_to_thread=True)
def plan(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        mid = cafes(trame).plan(
            territory,
            author=author_of(request),
            day=one(data, "day"),
            start=one(data, "start", "09:00"),
            end=one(data, "end", "10:30"),
            host_structure_id=one(data, "host_structure_id") or None,
            place_text=one(data, "place_text") or None,
            kind=one(data, "kind", "cafe"),
            theme=one(data, "theme") or None,
        )
    except Refused as exc:
        return _index(request, trame, territory, error=exc.detail, status_code=exc.status)
    return Redirect(f"/t/{territory}/cafe/{mid}", status_code=303)


@post(f"{P}/rythme", opt={"role": "coordinator"}, sync_to_thread=True)
def series(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    count = one(data, "count")
    try:
        cafes(trame).start_series(
            territory,
            author=author_of(request),
            first_day=one(data, "first_day"),
            until=one(data, "until") or None,
            count=int(count) if count.isdigit() else None,
            start=one(data, "start", "09:00"),
            end=one(data, "end", "10:30"),
            host_structure_id=one(data, "host_structure_id") or None,
            place_text=one(data, "place_text") or None,
        )
    except Refused as exc:
        return _index(request, trame, territory, error=exc.detail, status_code=exc.status)
    return Redirect(f"/t/{territory}/cafe/", status_code=303)


def _cafe(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: str, **extra: Any) -> Template:
    svc = cafes(trame)
    svc.require(territory, meeting_id)
    ctx = meeting_context(trame, territory, meeting_id)
    extra.setdefault("delivery", None)
    extra.setdefault("error", None)
    extra.setdefault("privacy_warning", [])
    extra.setdefault("typed", {})
    return render(
        request,
        "cafe/cafe.html",
        status_code=extra.pop("status_code", 200),
        **ctx,
        entries=svc.round_table(territory, meeting_id),
        new_services=svc.new_services(territory, meeting_id),
        newcomers=svc.newcomers(territory, meeting_id),
        kinds=KINDS,
        themes=annuaire.THEMES,
        invitation_size=len(svc.invitation_list(territory, meeting_id)),
        capacity=svc.capacity(territory, meeting_id),
        registrations=svc.registrations(territory, meeting_id),
        **extra,
    )


@get(f"{P}/{{meeting_id:uuid}}", sync_to_thread=False)
def cafe_page(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, envoi: str | None = None) -> Template:
    delivery = flash.take(trame.db, author_of(request), envoi, Delivery) if envoi else None
    return _cafe(request, trame, territory, str(meeting_id), delivery=delivery)


@post(f"{P}/{{meeting_id:uuid}}/invitations", opt={"role": "coordinator"}, sync_to_thread=True)
def invite(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID) -> Redirect:
    """Send the invitations, then show what was sent once on the café's page (a refresh sends nothing)."""
    delivery = cafes(trame).invite(territory, str(meeting_id), author=author_of(request))
    key = flash.put(trame.db, author_of(request), delivery)
    return Redirect(f"/t/{territory}/cafe/{meeting_id}?envoi={key}", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/capacite", opt={"role": "coordinator"}, sync_to_thread=True)
def set_capacity(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    typed = one(data, "capacity").strip()
    try:
        if typed and not typed.isdigit():
            raise invalid("La capacité est un nombre de structures (laissez vide pour ne pas limiter).")
        cafes(trame).set_capacity(territory, str(meeting_id), int(typed) if typed else None, author=author_of(request))
    except Refused as exc:
        return _cafe(request, trame, territory, str(meeting_id), error=exc.detail, status_code=exc.status)
    return Redirect(f"/t/{territory}/cafe/{meeting_id}#inscriptions", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/tour-de-table", opt={"role": "referent"}, sync_to_thread=True)
def add_news(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    access = access_of(request)
    structure_id = one(data, "structure_id") or access.structure_id or ""
    if not access.may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez écrire que pour votre propre structure.")
    warned = privacy.unconfirmed([one(data, "news")], annuaire.known_names(trame, territory), one(data, privacy.CONFIRM) == "1")
    if warned:  # shared secrecy: the round table is about structures; say why, let the author confirm
        typed = {"news": one(data, "news"), "structure_id": structure_id}
        return _cafe(request, trame, territory, str(meeting_id), privacy_warning=warned, typed=typed, status_code=422)
    try:
        cafes(trame).record_news(territory, str(meeting_id), structure_id, one(data, "news"), author=access.principal.account_id)
    except Refused as exc:
        return _cafe(request, trame, territory, str(meeting_id), error=exc.detail)
    return Redirect(f"/t/{territory}/cafe/{meeting_id}#tour-de-table", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/nouveaux", opt={"role": "coordinator"}, sync_to_thread=True)
def newcomer(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    cafes(trame).present_newcomer(
        territory,
        str(meeting_id),
        author=author_of(request),
        organisation=one(data, "organisation"),
        presentation=one(data, "presentation"),
    )
    return Redirect(f"/t/{territory}/cafe/{meeting_id}#nouveaux", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/nouveaux/{{newcomer_id:uuid}}/fiche", opt={"role": "coordinator"}, sync_to_thread=True)
def register(
    request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, newcomer_id: UUID, data: Form
) -> Response[Any]:
    cafes(trame).register_newcomer(
        territory,
        str(meeting_id),
        str(newcomer_id),
        author=author_of(request),
        name=one(data, "name"),
        email=one(data, "email") or None,
        phone=one(data, "phone") or None,
        address=one(data, "address") or None,
        missions=one(data, "missions") or None,
        themes=many(data, "themes"),
    )
    return Redirect(f"/t/{territory}/cafe/{meeting_id}#nouveaux", status_code=303)


@get(f"{P}/recherche", sync_to_thread=False)
def search(request: Request[Any, Any, Any], trame: Trame, territory: str, q: str = "") -> Template:
    return render(request, "cafe/search.html", q=q, results=cafes(trame).search(territory, q) if q.strip() else [])


@get(f"{P}/accueil", sync_to_thread=False)
def hosts(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    svc = cafes(trame)
    return render(
        request,
        "cafe/hosts.html",
        hosts=svc.hosts(territory),
        suggestion=svc.suggest_host(territory),
        structures=annuaire.structures(trame, territory),
    )


@post(f"{P}/accueil", opt={"role": "referent"}, sync_to_thread=True)
def offer(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    access = access_of(request)
    structure_id = one(data, "structure_id") or access.structure_id or ""
    if not access.may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez répondre que pour votre propre structure.")
    cafes(trame).offer_hosting(
        territory,
        structure_id,
        author=access.principal.account_id,
        willing=one(data, "willing") == "oui",
        has_room=one(data, "has_room") == "oui",
        note=one(data, "note") or None,
    )
    return Redirect(f"/t/{territory}/cafe/accueil", status_code=303)


ROUTES = [index, plan, series, cafe_page, invite, set_capacity, add_news, newcomer, register, search, hosts, offer]
