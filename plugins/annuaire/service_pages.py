"""Pages and API of the structures' services, and "qui peut aider ?".

Reads take ``as_of`` and ``known_at`` like the sheets; writes are made by the coordination or
the structure's referent, with an effective date, and redirect (303) to the service's page.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.plugins import PageSection
from core.refusals import Refused, absent, conflict
from core.structures import require_structure
from core.web.access import access_of, author_of
from core.web.forms import Form, errors_of, many, one
from core.web.hygiene import DayQuery
from core.web.rendering import fragment, render
from plugins.annuaire import referential as ref
from plugins.annuaire.display import common
from plugins.annuaire.moments import moment
from plugins.annuaire.service import directory
from plugins.annuaire.services import OFFER_FIELDS, Answer, ServiceIn, ServiceOut, ServicePatch, services
from plugins.annuaire.sheet_pages import may_edit

Req = Request[Any, Any, Any]
P = "/t/{territory:str}/annuaire"
SV = P + "/services/{service_id:str}"
READ = {"role": "member", "plugin": "annuaire"}
EDIT = {"role": "referent", "plugin": "annuaire"}
API = "/api/v1/territories/{slug:str}"
TAGS = ["annuaire"]

LABELS = {
    "name": "Nom du service",
    "description": "Description",
    "type": "Type de service",
    "themes": "Thématiques",
    "publics": "Publics",
    "publics_details": "Précisions sur les publics",
    "fees": "Frais",
    "fees_details": "Précisions sur les frais",
    "access_conditions": "Conditions d'accès",
    "reception": "Modes d'accueil",
    "referral_modes": "Comment orienter",
    "referrers": "Qui peut orienter",
    "referral_details": "Précisions sur l'orientation",
    "referral_link": "Lien d'orientation",
    "phone": "Téléphone du service",
    "email": "E-mail du service",
    "communes": "Zone d'éligibilité (communes)",
    "opening_hours": "Horaires d'accueil",
    "effective": "Date d'effet",
    "reason": "Motif",
    "exists": "Proposé",
    "structure_id": "Structure",
}
LIST_FIELDS = ("themes", "publics", "reception", "referral_modes", "referrers")
DONE = {
    "propose": "Le service est enregistré.",
    "modifie": "Le service est modifié.",
    "arrete": "Le service est arrêté à la date indiquée.",
    "repris": "Le service est repris à la date indiquée.",
}


def _context(**extra: Any) -> dict[str, Any]:
    return {
        **common(extra.pop("m", None)),
        "service_labels": LABELS,
        "ref": ref,
        "theme_groups": ref.theme_groups(),
        "osm": ref.to_osm,
        **extra,
    }


# == sections on other pages =====================================================================
def sheet_section(trame: Trame, territory: str, structure_id: str, as_of: str, known_at: str | None) -> PageSection:
    """The services the structure offers at the sheet's date, and a link to offer one."""
    offered = services(trame).of_structure(territory, structure_id, as_of=as_of, known_at=known_at)
    html = fragment(trame, "annuaire/_services_section.html", services=offered, territory=territory, structure_id=structure_id)
    return PageSection(title="Services proposés", html=html, order=5, plugin="annuaire")


def livret_section(trame: Trame, territory: str, as_of: str, known_at: str | None) -> PageSection:
    """The livret's services, by category of need, with the structure that offers each one."""
    svc = services(trame)
    running = svc.all_at(territory, as_of=as_of, known_at=known_at)
    names = {s.id: s.name for s in directory(trame).structures(territory, {s.structure_id for s in running}, as_of, known_at).values()}
    groups: dict[str, list[ServiceOut]] = {}
    for s in running:
        if s.structure_id not in names:
            continue
        for category in dict.fromkeys(ref.category_of(t) for t in s.themes) or ["autre"]:
            groups.setdefault(category, []).append(s)
    order = list(ref.CATEGORIES)
    ordered = [
        (ref.CATEGORIES.get(c, "Autres services"), sorted(groups[c], key=lambda s: (names[s.structure_id], s.name)))
        for c in sorted(groups, key=lambda c: order.index(c) if c in order else len(order))
    ]
    html = fragment(trame, "annuaire/_services_livret.html", groups=ordered, names=names, territory=territory)
    return PageSection(title="Services par thème", html=html, order=20, plugin="annuaire")


# == forms ======================================================================================
def offer_from_form(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in OFFER_FIELDS:
        if name in LIST_FIELDS:
            out[name] = many(data, name)
        elif name == "communes":
            out[name] = [c.strip() for line in one(data, name).split("\n") for c in line.split(",") if c.strip()]
        else:
            out[name] = one(data, name) or None
    return out


def _values(s: ServiceOut | None) -> dict[str, Any]:
    if s is None:
        return {f: ([] if f in (*LIST_FIELDS, "communes") else "") for f in OFFER_FIELDS} | {"effective": "", "reason": ""}
    values = {f: getattr(s, f) for f in OFFER_FIELDS}
    return {k: ("" if v is None else v) for k, v in values.items()} | {"effective": "", "reason": ""}


def _form(
    request: Req, trame: Trame, territory: str, structure_id: str, values: dict[str, Any], *, service: ServiceOut | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    st = directory(trame).get_structure(territory, structure_id)
    if st is None:
        raise absent("Cette structure ne fait plus partie du réseau.")
    return render(
        request, "annuaire/service_form.html", status_code=status_code,
        **_context(values=values, errors=errors or {}, s=st, service=service, territory=territory),
    )  # fmt: skip


def _refused(exc: Refused) -> dict[str, str]:
    return errors_of(exc)


@get(P + "/structures/{structure_id:str}/services/nouveau", opt=EDIT, sync_to_thread=False)
def new_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    may_edit(request, structure_id)
    require_structure(trame, territory, structure_id)
    return _form(request, trame, territory, structure_id, _values(None))


@post(P + "/structures/{structure_id:str}/services/nouveau", opt=EDIT, sync_to_thread=True)
def new_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    require_structure(trame, territory, structure_id)
    fields = offer_from_form(data)
    values = {**fields, "effective": one(data, "effective"), "reason": one(data, "reason")}
    try:
        payload = {k: v for k, v in fields.items() if v is not None} | {"effective": values["effective"] or None}
        body = msgspec.convert(payload | {"reason": values["reason"] or None}, ServiceIn)
        service_id = services(trame).offer(territory, structure_id, body, author=author_of(request))
    except msgspec.ValidationError as exc:
        return _form(request, trame, territory, structure_id, values, errors={"_form": f"Donnée invalide : {exc}"}, status_code=400)
    except Refused as exc:
        return _form(request, trame, territory, structure_id, values, errors=_refused(exc), status_code=exc.status)
    return Redirect(f"/t/{territory}/annuaire/services/{service_id}?fait=propose", status_code=303)


@get(SV, opt=READ, sync_to_thread=False)
def service_page(
    request: Req, trame: Trame, territory: str, service_id: str, as_of: str | None = None, known_at: str | None = None,
    fait: str | None = None,
) -> Template:  # fmt: skip
    m = moment(as_of, known_at)
    svc = services(trame)
    s = svc.get(territory, service_id, as_of=m.as_of, known_at=m.known_at)
    running = s is not None
    if s is None:
        s = svc.last_known(territory, service_id)
    st = directory(trame).get_structure(territory, s.structure_id, m.as_of, m.known_at)
    today = m.as_of is None and m.known_at is None
    contacts = directory(trame).contacts(territory, s.structure_id, m.as_of, m.known_at) if st else []
    return render(
        request, "annuaire/service.html",
        **_context(
            m=m, service=s, running=running, structure=st, contacts=contacts, history=svc.history(territory, service_id),
            may_edit=today and access_of(request).may_edit_structure(s.structure_id), done=DONE.get(fait or ""),
            territory=territory, today_value=clock.paris_today(),
        ),
    )  # fmt: skip


@get(SV + "/modifier", opt=EDIT, sync_to_thread=False)
def edit_form(request: Req, trame: Trame, territory: str, service_id: str) -> Template:
    s = services(trame).get(territory, service_id)
    if s is None:
        raise conflict("Ce service est arrêté : reprenez-le avant de le modifier.")
    may_edit(request, s.structure_id)
    return _form(request, trame, territory, s.structure_id, _values(s), service=s)


@post(SV + "/modifier", opt=EDIT, sync_to_thread=True)
def edit_save(request: Req, trame: Trame, territory: str, service_id: str, data: Form) -> Response[Any]:
    svc = services(trame)
    s = svc.get(territory, service_id)
    if s is None:
        raise conflict("Ce service est arrêté : reprenez-le avant de le modifier.")
    may_edit(request, s.structure_id)
    fields = offer_from_form(data)
    values = {**fields, "effective": one(data, "effective"), "reason": one(data, "reason")}
    try:
        version = int(one(data, "version") or 0) or None
        payload = fields | {"effective": values["effective"] or None, "reason": values["reason"] or None}
        svc.change(territory, service_id, msgspec.convert(payload, ServicePatch), author=author_of(request), expected_version=version)
    except (ValueError, msgspec.ValidationError) as exc:
        return _form(request, trame, territory, s.structure_id, values, service=s, errors={"_form": str(exc)}, status_code=400)
    except Refused as exc:
        return _form(request, trame, territory, s.structure_id, values, service=s, errors=_refused(exc), status_code=exc.status)
    return Redirect(f"/t/{territory}/annuaire/services/{service_id}?fait=modifie", status_code=303)


def _toggle(request: Req, trame: Trame, territory: str, service_id: str, data: dict[str, Any], on: bool) -> Response[Any]:
    svc = services(trame)
    s = svc.get(territory, service_id) or svc.last_known(territory, service_id)
    may_edit(request, s.structure_id)
    (svc.restart if on else svc.stop)(  # a refusal is the error page's (core.web.errors)
        territory, service_id, author=author_of(request), effective=one(data, "effective") or None, reason=one(data, "reason") or None
    )
    return Redirect(f"/t/{territory}/annuaire/services/{service_id}?fait={'repris' if on else 'arrete'}", status_code=303)


@post(SV + "/arret", opt=EDIT, sync_to_thread=True)
def stop(request: Req, trame: Trame, territory: str, service_id: str, data: Form) -> Response[Any]:
    return _toggle(request, trame, territory, service_id, data, False)


@post(SV + "/reprise", opt=EDIT, sync_to_thread=True)
def restart(request: Req, trame: Trame, territory: str, service_id: str, data: Form) -> Response[Any]:
    return _toggle(request, trame, territory, service_id, data, True)


# == qui peut aider ? ===========================================================================
@get(P + "/qui-peut-aider", opt=READ, sync_to_thread=False)
def who_page(
    request: Req, trame: Trame, territory: str, q: str | None = None, theme: str | None = None, commune: str | None = None,
    public: str | None = None, as_of: str | None = None,
) -> Template:  # fmt: skip
    """Who can help with this need, here, at that date: services, their structure, whom to call."""
    m = moment(as_of, None)
    svc = services(trame)
    asked = any((q, theme, commune, public))
    question = svc.read_question(territory, q or "", theme=theme, commune=commune, public=public, as_of=m.as_of)
    answers: list[Answer] = svc.who_can_help(territory, question, as_of=m.as_of) if asked else []
    return render(
        request, "annuaire/qui_peut_aider.html",
        **_context(
            m=m, q=q or "", question=question, answers=answers, asked=asked, territory=territory,
            communes=svc.communes(territory, as_of=m.as_of), theme=theme or "", commune=commune or "", public=public or "",
        ),
    )  # fmt: skip


# == API ========================================================================================
class ServicePage(msgspec.Struct):
    items: list[ServiceOut]


class Created(msgspec.Struct):
    id: str


class Toggle(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    effective: str | None = None
    reason: str | None = None


class AnswerOut(msgspec.Struct, kw_only=True):
    service: ServiceOut
    structure_id: str
    structure_name: str
    phone: str | None
    email: str | None
    contact_name: str | None  # the contact to call at that date (None: none recorded)
    contact_role: str | None
    contact_phone: str | None
    contact_email: str | None


class AnswerPage(msgspec.Struct):
    commune: str | None
    items: list[AnswerOut]


def _at(value: str | None) -> str | None:
    return clock.parse(value, end_of_day=True) if value and value.strip() else None


def _api_may_edit(request: Req, structure_id: str) -> None:
    if not access_of(request).may_edit_structure(structure_id):
        raise PermissionDeniedException("Un·e référent·e ne modifie que les services de sa propre structure.")


@get(API + "/services", opt=READ, tags=TAGS, sync_to_thread=False)
def api_services(trame: Trame, slug: str, as_of: DayQuery = None, known_at: DayQuery = None) -> ServicePage:
    """Every service running at ``as_of`` (as known at ``known_at``)."""
    return ServicePage(services(trame).all_at(slug, as_of=_at(as_of), known_at=_at(known_at)))


@get(API + "/services/{service_id:str}", opt=READ, tags=TAGS, sync_to_thread=False)
def api_service(trame: Trame, slug: str, service_id: str, as_of: DayQuery = None, known_at: DayQuery = None) -> ServiceOut:
    """One service at a date (404 when it did not run then)."""
    found = services(trame).get(slug, service_id, as_of=_at(as_of), known_at=_at(known_at))
    if found is None:
        raise absent("Ce service n'était pas proposé à cette date.")
    return found


@post(API + "/structures/{structure_id:str}/services", opt=EDIT, tags=TAGS, sync_to_thread=True, status_code=201)
def api_offer(request: Req, trame: Trame, slug: str, structure_id: str, data: ServiceIn) -> Created:
    """The structure offers a service from ``effective`` (coordination or its referent)."""
    _api_may_edit(request, structure_id)
    return Created(services(trame).offer(slug, structure_id, data, author=author_of(request)))


@patch(API + "/services/{service_id:str}", opt=EDIT, tags=TAGS, sync_to_thread=True)
def api_change(request: Req, trame: Trame, slug: str, service_id: str, data: ServicePatch) -> ServiceOut:
    """Change fields of a service from ``effective`` on."""
    svc = services(trame)
    _api_may_edit(request, svc.last_known(slug, service_id).structure_id)
    svc.change(slug, service_id, data, author=author_of(request))
    return svc.last_known(slug, service_id)


@post(API + "/services/{service_id:str}/stop", opt=EDIT, tags=TAGS, sync_to_thread=True, status_code=200)
def api_stop(request: Req, trame: Trame, slug: str, service_id: str, data: Toggle) -> Created:
    """The service stops at ``effective`` (default today); it may restart later."""
    svc = services(trame)
    _api_may_edit(request, svc.last_known(slug, service_id).structure_id)
    svc.stop(slug, service_id, author=author_of(request), effective=data.effective, reason=data.reason)
    return Created(service_id)


@post(API + "/services/{service_id:str}/restart", opt=EDIT, tags=TAGS, sync_to_thread=True, status_code=200)
def api_restart(request: Req, trame: Trame, slug: str, service_id: str, data: Toggle) -> Created:
    svc = services(trame)
    _api_may_edit(request, svc.last_known(slug, service_id).structure_id)
    svc.restart(slug, service_id, author=author_of(request), effective=data.effective, reason=data.reason)
    return Created(service_id)


@get(API + "/qui-peut-aider", opt=READ, tags=TAGS, sync_to_thread=False)
def api_who(
    trame: Trame, slug: str, q: str = "", theme: str | None = None, commune: str | None = None, public: str | None = None,
    as_of: DayQuery = None,
) -> AnswerPage:  # fmt: skip
    """ "Qui peut aider ?": services for a need (words, or a ``theme`` code), in a ``commune``, for a
    ``public``, at ``as_of``; each with its structure and the contact to call at that date."""
    svc = services(trame)
    at = _at(as_of)
    question = svc.read_question(slug, q, theme=theme, commune=commune, public=public, as_of=at)
    items = []
    for a in svc.who_can_help(slug, question, as_of=at):
        c = a.contact
        items.append(
            AnswerOut(
                service=a.service, structure_id=a.structure.id, structure_name=a.structure.name, phone=a.phone, email=a.email,
                contact_name=c.person.name if c else None, contact_role=c.role_label if c else None,
                contact_phone=c.person.phone if c else None, contact_email=c.person.email if c else None,
            )
        )  # fmt: skip
    return AnswerPage(commune=question.commune, items=items)


ROUTES = [
    new_form,
    new_save,
    service_page,
    edit_form,
    edit_save,
    stop,
    restart,
    who_page,
    api_services,
    api_service,
    api_offer,
    api_change,
    api_stop,
    api_restart,
    api_who,
]
