"""Partnership pages: the list, one partnership (history, evaluations), the forms, the network, reminders.

Server-rendered, usable without JavaScript. Reads take ``as_of`` and ``known_at`` from the
query string (a view of the past is a shareable URL); writes redirect (303) to the page they
change, and a refused form comes back with what was typed and the reason beside the field.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.plugins import PageSection
from core.refusals import Refused, invalid
from core.web.access import access_of, author_of
from core.web.forms import Form, errors_of, one
from core.web.rendering import fragment, render
from plugins.annuaire import public as annuaire
from plugins.partenariats import calendar, layout
from plugins.partenariats.service import (
    FORMS,
    GRID,
    KINDS,
    ROLES,
    AmendmentIn,
    EndIn,
    EvaluationIn,
    PartnerIn,
    Partnership,
    PartnershipIn,
    partnerships,
)

Req = Request[Any, Any, Any]
P = "/t/{territory:str}/partenariats"
READ = {"role": "member"}
EVALUATE = {"role": "referent"}
COORD = {"role": "coordinator"}
FORBIDDEN = "Seuls la coordination et les référent·es des structures partenaires évaluent ce partenariat."
DONE = {
    "modifie": "Les nouveaux termes ont été enregistrés.",
    "evalue": "L'évaluation a été enregistrée.",
    "fin": "La fin du partenariat a été enregistrée.",
}
PARTNER_ROWS = 8  # partner lines of an empty form (no JavaScript to add more)
LABELS = {
    "title": "Intitulé",
    "kind": "Type",
    "form": "Forme",
    "partners": "Partenaires",
    "starts_on": "Date de début",
    "ends_on": "Date de fin",
    "convention_ref": "Référence de la convention",
    "renewal_on": "Date de renouvellement",
    "description": "Description",
    "reason": "Motif",
    "effective": "À compter du",
    "ended_on": "Dernier jour",
    "evaluated_on": "Date de l'évaluation",
    **GRID,
}


def moment(as_of: str | None, known_at: str | None) -> tuple[str | None, str | None]:
    """The instants typed in the query string (a day means its end: what took effect that day counts)."""
    try:
        return (
            clock.parse(as_of, end_of_day=True) if as_of else None,
            clock.parse(known_at, end_of_day=True) if known_at else None,
        )
    except clock.BadInstant as exc:
        raise invalid(f"Date de consultation : {exc}.", "as_of") from None


def _kind(kind: str | None) -> str | None:
    if not kind:
        return None
    if kind not in KINDS:
        raise invalid("Type de partenariat inconnu.", "kind")
    return kind


def _common(territory: str) -> dict[str, Any]:
    return {"kinds": KINDS, "forms": FORMS, "roles": ROLES, "grid": GRID, "labels": LABELS, "base": f"/t/{territory}/partenariats"}


# == the section on a structure's sheet ==========================================================
def structure_section(trame: Trame, territory: str, structure_id: str, as_of: str, known_at: str | None) -> PageSection:
    pmap = partnerships(trame).partner_map(territory, structure_id, as_of=as_of, known_at=known_at)
    html = fragment(
        trame, "partenariats/_map.html", pmap=pmap, drawing=layout.partner_map(pmap), uid=f"carte-{structure_id[:8]}", **_common(territory)
    )
    return PageSection(title="Carte des partenaires", html=html, order=35, plugin="partenariats")


# == list =========================================================================================
@get(f"{P}/", opt=READ, sync_to_thread=False)
def index(request: Req, trame: Trame, territory: str, as_of: str | None = None, kind: str | None = None) -> Template:
    at, _ = moment(as_of, None)
    items = partnerships(trame).at(territory, as_of=at, kind=_kind(kind))
    return render(
        request, "partenariats/index.html", items=items, day=at[:10] if at else clock.paris_today(), kind=kind or "", **_common(territory)
    )


# == forms ========================================================================================
def _partners_of(data: dict[str, Any]) -> list[PartnerIn]:
    out = []
    for i in range(1, 201):
        if f"partner_{i}" not in data:
            break
        sid = one(data, f"partner_{i}")
        if sid:
            out.append(PartnerIn(structure_id=sid, role=one(data, f"role_{i}", "terrain")))
    return out


def _terms(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": one(data, "title"),
        "kind": one(data, "kind"),
        "form": one(data, "form"),
        "partners": _partners_of(data),
        "ends_on": one(data, "ends_on") or None,
        "convention_ref": one(data, "convention_ref") or None,
        "renewal_on": one(data, "renewal_on") or None,
        "description": one(data, "description"),
        "reason": one(data, "reason") or None,
    }


def _form(
    request: Req,
    trame: Trame,
    territory: str,
    *,
    values: dict[str, Any],
    partners: list[tuple[str, str]],
    existing: Partnership | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    rows = [*partners, *[("", "terrain")] * max(3, PARTNER_ROWS - len(partners))]
    structures = annuaire.structures(trame, territory)
    return render(
        request,
        "partenariats/form.html",
        status_code=status_code,
        values=values,
        rows=rows,
        structures=structures,
        existing=existing,
        errors=errors or {},
        today=clock.paris_today(),
        **_common(territory),
    )


def _refused(exc: Refused) -> dict[str, str]:
    return errors_of(exc)


@get(f"{P}/nouveau", opt=COORD, sync_to_thread=False)
def new_form(request: Req, trame: Trame, territory: str) -> Template:
    return _form(request, trame, territory, values={"kind": "convention", "form": "initiative"}, partners=[])


@post(f"{P}/nouveau", opt=COORD, sync_to_thread=True)
def new_submit(request: Req, trame: Trame, territory: str, data: Form) -> Response[Any]:
    terms = _terms(data)
    try:
        pid = partnerships(trame).record(territory, PartnershipIn(**terms, starts_on=one(data, "starts_on")), author=author_of(request))
    except Refused as exc:
        if exc.status == 404:
            raise
        partners = [(p.structure_id, p.role) for p in terms["partners"]]
        return _form(request, trame, territory, values=dict(data), partners=partners, errors=_refused(exc), status_code=exc.status)
    return Redirect(f"/t/{territory}/partenariats/{pid}", status_code=303)


@get(f"{P}/{{partnership_id:uuid}}/modifier", opt=COORD, sync_to_thread=False)
def amend_form(request: Req, trame: Trame, territory: str, partnership_id: UUID) -> Template:
    p = partnerships(trame).require(territory, str(partnership_id))
    values = {
        "title": p.title,
        "kind": p.kind,
        "form": p.form,
        "ends_on": p.ends_on or "",
        "convention_ref": p.convention_ref or "",
        "renewal_on": p.renewal_on or "",
        "description": p.description,
        "effective": clock.paris_today(),
    }
    return _form(request, trame, territory, values=values, partners=[(x.structure_id, x.role) for x in p.partners], existing=p)


@post(f"{P}/{{partnership_id:uuid}}/modifier", opt=COORD, sync_to_thread=True)
def amend_submit(request: Req, trame: Trame, territory: str, partnership_id: UUID, data: Form) -> Response[Any]:
    svc = partnerships(trame)
    p = svc.require(territory, str(partnership_id))
    terms = _terms(data)
    try:
        svc.amend(territory, p.id, AmendmentIn(**terms, effective=one(data, "effective")), author=author_of(request))
    except Refused as exc:
        if exc.status == 404:
            raise
        partners = [(x.structure_id, x.role) for x in terms["partners"]]
        return _form(
            request, trame, territory, values=dict(data), partners=partners, existing=p, errors=_refused(exc), status_code=exc.status
        )
    return Redirect(f"/t/{territory}/partenariats/{p.id}?fait=modifie", status_code=303)


# == one partnership ==============================================================================
def may_evaluate(request: Req, p: Partnership) -> bool:
    """The coordination, or the referent of one of its partners."""
    access = access_of(request)
    return access.at_least("coordinator") or any(access.may_edit_structure(x.recorded_id) for x in p.partners)


def _page(
    request: Req,
    trame: Trame,
    territory: str,
    partnership_id: str,
    *,
    as_of: str | None = None,
    known_at: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Template:
    svc = partnerships(trame)
    at, known = moment(as_of, known_at)
    p = svc.require(territory, partnership_id, as_of=at, known_at=known)
    day = at[:10] if at else clock.paris_today()
    return render(
        request,
        "partenariats/partnership.html",
        status_code=status_code,
        p=p,
        day=day,
        as_of_text=as_of or "",
        known_at_text=known_at or "",
        started=p.starts_on <= day,
        history=svc.history(territory, p.id),
        evaluations=svc.evaluations(territory, p.id),
        may_evaluate=may_evaluate(request, p),
        errors=errors or {},
        values=values or {},
        today=clock.paris_today(),
        done={
            "modifie": "Les nouveaux termes ont été enregistrés.",
            "evalue": "L'évaluation a été enregistrée.",
            "fin": "La fin du partenariat a été enregistrée.",
        }.get(done or ""),
        **_common(territory),
    )


@get(f"{P}/{{partnership_id:uuid}}", opt=READ, sync_to_thread=False)
def partnership_page(
    request: Req,
    trame: Trame,
    territory: str,
    partnership_id: UUID,
    as_of: str | None = None,
    known_at: str | None = None,
    fait: str | None = None,
) -> Template:
    return _page(request, trame, territory, str(partnership_id), as_of=as_of, known_at=known_at, done=fait)


@post(f"{P}/{{partnership_id:uuid}}/fin", opt=COORD, sync_to_thread=True)
def end(request: Req, trame: Trame, territory: str, partnership_id: UUID, data: Form) -> Response[Any]:
    try:
        partnerships(trame).end(
            territory,
            str(partnership_id),
            EndIn(ended_on=one(data, "ended_on"), reason=one(data, "reason") or None),
            author=author_of(request),
        )
    except Refused as exc:
        if exc.status == 404:
            raise
        return _page(request, trame, territory, str(partnership_id), errors=_refused(exc), values=dict(data), status_code=exc.status)
    return Redirect(f"/t/{territory}/partenariats/{partnership_id}?fait=fin", status_code=303)


@post(f"{P}/{{partnership_id:uuid}}/evaluations", opt=EVALUATE, sync_to_thread=True)
def evaluate(request: Req, trame: Trame, territory: str, partnership_id: UUID, data: Form) -> Response[Any]:
    svc = partnerships(trame)
    p = svc.require(territory, str(partnership_id))
    if not may_evaluate(request, p):
        raise PermissionDeniedException(FORBIDDEN)
    body = EvaluationIn(evaluated_on=one(data, "evaluated_on"), **{f: one(data, f) for f in GRID})
    try:
        svc.evaluate(territory, p.id, body, author=author_of(request))
    except Refused as exc:
        if exc.status == 404:
            raise
        return _page(request, trame, territory, p.id, errors=_refused(exc), values=dict(data), status_code=exc.status)
    return Redirect(f"/t/{territory}/partenariats/{p.id}?fait=evalue#evaluations", status_code=303)


# == the territory's network ======================================================================
@get(f"{P}/reseau", opt=READ, sync_to_thread=False)
def network_page(
    request: Req, trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None, kind: str | None = None
) -> Template:
    at, known = moment(as_of, known_at)
    net = partnerships(trame).network(territory, as_of=at, known_at=known, kind=_kind(kind))
    return render(request, "partenariats/network.html", net=net, drawing=layout.network(net, KINDS), kind=kind or "", **_common(territory))


# == reminders and the calendar ===================================================================
@get(f"{P}/rappels", opt=COORD, sync_to_thread=False)
def reminders_page(request: Req, trame: Trame, territory: str) -> Template:
    return render(request, "partenariats/reminders.html", reminders=partnerships(trame).reminders(territory), **_common(territory))


@get(f"{P}/echeances.ics", opt=READ, sync_to_thread=False)
def end_dates_feed(request: Req, trame: Trame, territory: str) -> Response[bytes]:
    return calendar.response(trame, territory, access_of(request).territory_title)


ROUTES = [
    index,
    new_form,
    new_submit,
    network_page,
    reminders_page,
    end_dates_feed,
    partnership_page,
    amend_form,
    amend_submit,
    end,
    evaluate,
]
