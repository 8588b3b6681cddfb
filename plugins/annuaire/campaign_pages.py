"""Pages and API of update campaigns: the coordinator's dashboard and campaigns, and the review
link a partner opens without an account to confirm or correct its own sheet.

Review links are public: the unguessable token in the path is the credential (checked on
every request: expired, replaced or closed links are absent). Corrections made through a link
are listed on the campaign's page, where the coordinator may revert each one.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.refusals import Refused, absent, invalid
from core.web.access import author_of, resolve_principal
from core.web.forms import Form, errors_of, one
from core.web.rendering import render
from plugins.annuaire.campaigns import DEFAULT_MONTHS, CampaignError, IssuedLink, Review, campaigns
from plugins.annuaire.exchange_pages import COORDINATOR, PLUGIN
from plugins.annuaire.review_corrections import LIST_FIELDS, SHEET_FIELDS, corrections
from plugins.annuaire.service import CONTACT_ROLES


# == the coordinator's dashboard and campaigns ===============================================
def _months(value: str | int | None, default: int | None = DEFAULT_MONTHS) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"Nombre de mois invalide : « {value} ».", field="mois") from None


def _dashboard(
    request: Request[Any, Any, Any], trame: Trame, territory: str, months: int, *, status: int = 200, error: str | None = None
) -> Template:
    service = campaigns(trame)
    return render(
        request,
        "annuaire/campagnes.html",
        status_code=status,
        months=months,
        stale=service.stale(territory, months),
        campaigns=service.all(territory),
        smtp=bool(trame.settings.smtp_host),
        error=error,
        default_title=f"Mise à jour de l'annuaire — {clock.french_long_date(clock.now()).split(' ', 1)[1]}",
    )


@get("/t/{territory:str}/annuaire/campagnes", opt=COORDINATOR, sync_to_thread=True)
def campaigns_page(request: Request[Any, Any, Any], trame: Trame, territory: str, mois: str | None = None) -> Template:
    return _dashboard(request, trame, territory, _months(mois) or 0)


def _campaign_page(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    campaign_id: str,
    *,
    to_copy: list[IssuedLink] | None = None,
    mailed: int | None = None,
    status: int = 200,
    error: str | None = None,
) -> Template:
    """A campaign: each sheet's state, and the corrections its links made (to review or revert)."""
    campaign = campaigns(trame).get(territory, campaign_id)
    made = corrections(trame).made(territory, campaign)
    return render(
        request, "annuaire/campagne.html", status_code=status, campaign=campaign, to_copy=to_copy or [], mailed=mailed, error=error,
        corrections=made,
    )  # fmt: skip


@post("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}/annuler", opt=COORDINATOR, sync_to_thread=True)
def campaign_revert(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, data: Form) -> Response[Any]:
    """Revert one change made through the campaign's links (the coordinator reviewed it)."""
    position = one(data, "position")
    if not position.isdigit():
        raise invalid("Choisissez la correction à annuler.", field="position")
    try:
        corrections(trame).revert(territory, campaign_id, int(position), author_of(request))
    except Refused as exc:
        if exc.status == 404:
            raise
        return _campaign_page(request, trame, territory, campaign_id, status=exc.status, error=exc.detail)
    return Redirect(f"/t/{territory}/annuaire/campagnes/{campaign_id}?annule=1", status_code=303)


def _issued_page(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, links: list[IssuedLink]) -> Response[Any]:
    """After issuing links: to the campaign when all were mailed, else the links to copy (shown once)."""
    to_copy = [link for link in links if not link.sent]
    if not to_copy:
        return Redirect(f"/t/{territory}/annuaire/campagnes/{campaign_id}?envoyes={len(links)}", status_code=303)
    return _campaign_page(request, trame, territory, campaign_id, to_copy=to_copy, mailed=len(links) - len(to_copy))


@post("/t/{territory:str}/annuaire/campagnes", opt=COORDINATOR, sync_to_thread=True)
def campaign_launch(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    scope_months = _months(one(data, "mois"), None) if one(data, "perimetre") == "anciennes" else None
    try:
        campaign_id, links = campaigns(trame).launch(
            territory, title=one(data, "titre"), message=one(data, "message"), months=scope_months, author=author_of(request)
        )
    except CampaignError as exc:
        return _dashboard(request, trame, territory, _months(one(data, "mois")) or 0, status=400, error=str(exc))
    return _issued_page(request, trame, territory, campaign_id, links)


@get("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}", opt=COORDINATOR, sync_to_thread=True)
def campaign_page(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, envoyes: int | None = None) -> Template:
    return _campaign_page(request, trame, territory, campaign_id, mailed=envoyes)


@post("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}/relance", opt=COORDINATOR, sync_to_thread=True)
def campaign_reissue(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, data: Form) -> Response[Any]:
    only = [one(data, "structure")] if one(data, "structure") else None
    try:
        links = campaigns(trame).reissue(territory, campaign_id, author=author_of(request), structure_ids=only)
    except CampaignError as exc:
        return _campaign_page(request, trame, territory, campaign_id, status=400, error=str(exc))
    return _issued_page(request, trame, territory, campaign_id, links)


@post("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}/cloture", opt=COORDINATOR, sync_to_thread=True)
def campaign_close(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str) -> Response[Any]:
    campaigns(trame).close(territory, campaign_id, author=author_of(request))
    return Redirect(f"/t/{territory}/annuaire/campagnes/{campaign_id}", status_code=303)


class ChaseOut(msgspec.Struct, kw_only=True):
    """Whom to write to about a sheet: the referent contact, a referent account, or the generic address."""

    kind: str  # "person", "account", "structure" or "none"
    label: str
    email: str | None = None
    phone: str | None = None


class StaleOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    joined: str | None
    confirmed_at: str | None
    fresh_since: str | None = None  # the latest of its last confirmation and its own last change: what ranks it
    chase: ChaseOut


@get("/api/v1/territories/{slug:str}/structures/unconfirmed", opt=COORDINATOR, tags=["annuaire"], sync_to_thread=True)
def api_unconfirmed(
    trame: Trame, slug: str, months: Annotated[int, Parameter(query="months", ge=0, le=240, description="Nombre de mois")] = DEFAULT_MONTHS
) -> list[StaleOut]:
    """Sheets in the network neither confirmed ("Toujours exact") nor changed by the structure itself
    for ``months`` months, the least fresh first, with whom to chase (coordinators)."""
    return [
        StaleOut(
            id=item.structure.id,
            name=item.structure.name,
            joined=item.structure.joined,
            confirmed_at=item.last_confirmed,
            fresh_since=item.fresh_since,
            chase=ChaseOut(kind=item.recipient.kind, label=item.recipient.label, email=item.recipient.email, phone=item.recipient.phone),
        )
        for item in campaigns(trame).stale(slug, months)
    ]


# == the review link (public) =================================================================
def _public_territory(trame: Trame, territory: str) -> dict[str, str]:
    """Public routes skip the guard: check here that the territory and its directory exist."""
    found = trame.territories.get(territory)
    if found is None or not trame.territories.is_enabled(territory, PLUGIN):
        raise absent("Cette page n'existe pas.")
    return found


def _signed_in_author(request: Request[Any, Any, Any]) -> str | None:
    principal = resolve_principal(request)
    return principal.account_id if principal else None


def _review(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    token: str,
    *,
    review: Review | None = None,
    template: str = "annuaire/campagne_revue.html",
    status: int = 200,
    **extra: Any,
) -> Template:
    found = _public_territory(trame, territory)
    return render(
        request,
        template,
        status_code=status,
        review=review or campaigns(trame).review(territory, token),
        territory_title=found["title"],
        territory=territory,
        token=token,
        roles=CONTACT_ROLES,
        **extra,
    )


@get("/t/{territory:str}/annuaire/revue/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_page(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, corrige: str | None = None) -> Template:
    return _review(request, trame, territory, token, corrected=bool(corrige))


@post("/t/{territory:str}/annuaire/revue/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_answer(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    """« Toujours exact », or « Corriger la fiche »: the account's edit form for a signed-in
    member, the link's own correction form for anyone else."""
    _public_territory(trame, territory)
    service = campaigns(trame)
    signed_in = _signed_in_author(request)
    if one(data, "reponse") == "modifier":
        review = service.open_edit(territory, token, author=signed_in)
        if signed_in:
            return Redirect(f"/t/{territory}/annuaire/structures/{review.structure.id}/modifier", status_code=303)
        return Redirect(f"/t/{territory}/annuaire/revue/{token}/corriger", status_code=303)
    if one(data, "reponse") != "exact":
        raise invalid("Réponse inconnue : choisissez « Toujours exact » ou « Corriger la fiche ».", field="reponse")
    return _review(request, trame, territory, token, review=service.confirm(territory, token, author=signed_in), thanks=True)


def _correcting(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    token: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    review = campaigns(trame).review(territory, token)
    sheet = {f: getattr(review.structure, f) for f in SHEET_FIELDS}
    return _review(
        request, trame, territory, token, review=review, template="annuaire/campagne_revue_corriger.html", status=status,
        values={**sheet, **(values or {})}, errors=errors or {},
    )  # fmt: skip


@get("/t/{territory:str}/annuaire/revue/{token:str}/corriger", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_correct_page(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    return _correcting(request, trame, territory, token)


def _sheet_values(data: dict[str, Any]) -> dict[str, Any]:
    """The sheet fields of the link's form: lists one item per line (or separated by commas)."""
    out: dict[str, Any] = {}
    for field in SHEET_FIELDS:
        if field in LIST_FIELDS:
            text = one(data, field)
            out[field] = [item.strip() for line in text.split("\n") for item in line.split(",") if item.strip()]
        else:
            out[field] = one(data, field) or None
    return out


def _after_correction(
    request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, change: Any, values: dict[str, Any] | None = None
) -> Response[Any]:
    """Run a correction: back to the sheet, or the form again with the reason beside the field."""
    try:
        change()
    except Refused as exc:
        if exc.status == 404:
            raise
        return _correcting(request, trame, territory, token, status=exc.status, errors=errors_of(exc, "_"), values=values)
    return Redirect(f"/t/{territory}/annuaire/revue/{token}?corrige=1", status_code=303)


@post("/t/{territory:str}/annuaire/revue/{token:str}/fiche", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_correct_sheet(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    _public_territory(trame, territory)
    values = _sheet_values(data)
    return _after_correction(request, trame, territory, token, lambda: corrections(trame).sheet(territory, token, values), values)


@post(
    "/t/{territory:str}/annuaire/revue/{token:str}/contacts/{contact_id:str}",
    opt={"public": True}, sync_to_thread=True, include_in_schema=False,
)  # fmt: skip
def review_correct_contact(
    request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, contact_id: str, data: Form
) -> Response[Any]:
    """A contact's details and job title; with « fin » checked, the person no longer holds the role."""
    _public_territory(trame, territory)
    service = corrections(trame)
    if one(data, "fin"):
        return _after_correction(request, trame, territory, token, lambda: service.end_contact(territory, token, contact_id))
    email, phone, title = one(data, "email"), one(data, "phone"), one(data, "title")
    return _after_correction(
        request, trame, territory, token,
        lambda: service.contact(territory, token, contact_id, email=email, phone=phone, title=title),
    )  # fmt: skip


@post("/t/{territory:str}/annuaire/revue/{token:str}/contacts", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_add_contact(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    _public_territory(trame, territory)
    fields = {k: one(data, f"contact_{k}") for k in ("name", "role", "title", "email", "phone")}
    return _after_correction(request, trame, territory, token, lambda: corrections(trame).add_contact(territory, token, **fields))


ROUTES = [
    api_unconfirmed,
    campaigns_page,
    campaign_launch,
    campaign_page,
    campaign_reissue,
    campaign_close,
    campaign_revert,
    review_page,
    review_answer,
    review_correct_page,
    review_correct_sheet,
    review_correct_contact,
    review_add_contact,
]
