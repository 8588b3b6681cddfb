"""Pages and API of the directory's tools: update campaigns, imports and exports, the booklet.

Coordinators run campaigns and imports; every member may read, print and export.
Review links are public: the unguessable token in the path is the credential.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.territories import NotFound
from core.web.access import author_of, resolve_principal
from core.web.errors import UserError
from core.web.hygiene import DAY_OR_EMPTY
from core.web.rendering import render
from plugins.annuaire import datainclusion, exchange, livret
from plugins.annuaire.campaigns import DEFAULT_MONTHS, CampaignError, IssuedLink, campaigns
from plugins.annuaire.exchange import ImportReport, UnreadableFile
from plugins.annuaire.service import CONTACT_ROLES, when

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PLUGIN = "annuaire"
MEMBER = {"plugin": PLUGIN, "role": "member"}
COORDINATOR = {"plugin": PLUGIN, "role": "coordinator"}
#: An uploaded file: the import's own limit (only files of fewer than exchange.BACKGROUND_LINES
#: lines are re-sent in base64 by the report page's confirm form; bigger ones run in the background).
MAX_UPLOAD = exchange.MAX_IMPORT_BYTES

AsOf = Annotated[
    str | None,
    Parameter(
        query="as_of",
        required=False,
        schema_extra=DAY_OR_EMPTY,
        description="Date de validité (AAAA-MM-JJ ou ISO 8601) ; défaut : maintenant",
    ),
]
KnownAt = Annotated[
    str | None,
    Parameter(
        query="known_at",
        required=False,
        schema_extra=DAY_OR_EMPTY,
        description="Tel que connu à cette date (temps de transaction) ; défaut : maintenant",
    ),
]


def _times(as_of: str | None, known_at: str | None) -> tuple[str | None, str | None]:
    """Read the two dates; a bad one is a 400 naming its parameter."""
    return when(as_of, "as_of", end_of_day=True), when(known_at, "known_at", end_of_day=True)


def _download(content: str | bytes, media_type: str, filename: str) -> Response[Any]:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _stamp(as_of: str | None) -> str:
    return clock.day_of(as_of or clock.now())


# == exports (pages: session; API: bearer token) =============================================
def _csv(trame: Trame, territory: str, as_of: str | None, known_at: str | None) -> Response[Any]:
    at, known = _times(as_of, known_at)
    body = exchange.export_csv(trame, territory, at, known)
    return _download(body.encode("utf-8"), "text/csv", f"annuaire-{territory}-{_stamp(at)}.csv")


def _datainclusion(trame: Trame, territory: str, as_of: str | None, known_at: str | None, strict: bool = False) -> Response[Any]:
    at, known = _times(as_of, known_at)
    items = datainclusion.export(trame, territory, at, known, strict=strict)  # v1: structures and services
    return Response(
        items,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="structures-{territory}-{_stamp(at)}.datainclusion.json"'},
    )


def _vcf(trame: Trame, territory: str, as_of: str | None, known_at: str | None, version: str) -> Response[Any]:
    at, known = _times(as_of, known_at)
    body = exchange.export_vcards(trame, territory, at, known, version=version)
    return _download(body.encode("utf-8"), "text/vcard", f"contacts-{territory}-{_stamp(at)}.vcf")


@get("/api/v1/territories/{slug:str}/structures/export.csv", opt=MEMBER, tags=["annuaire"], sync_to_thread=True, media_type="text/csv")
def api_export_csv(trame: Trame, slug: str, as_of: AsOf = None, known_at: KnownAt = None) -> Response[Any]:
    """The structures at ``as_of`` as a spreadsheet (``;``-separated, UTF-8 with BOM); it imports back as is."""
    return _csv(trame, slug, as_of, known_at)


@get("/api/v1/territories/{slug:str}/structures/export.datainclusion.json", opt=MEMBER, tags=["annuaire"], sync_to_thread=True)
def api_export_datainclusion(
    trame: Trame,
    slug: str,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    strict: Annotated[bool, Parameter(query="strict", description="true : seulement les champs du schéma (sans « _trame »)")] = False,
) -> Response[Any]:
    """The structures and their services at ``as_of`` in the data·inclusion **v1** schema
    (``{"structures": [...], "services": [...]}``). Each record also carries ``_trame`` (acronym,
    finer type, partner roles, relays, lineage, French hours) unless ``strict=true``."""
    return _datainclusion(trame, slug, as_of, known_at, strict)


@get("/api/v1/territories/{slug:str}/contacts/export.vcf", opt=MEMBER, tags=["annuaire"], sync_to_thread=True, media_type="text/vcard")
def api_export_vcf(
    trame: Trame,
    slug: str,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    version: Annotated[str, Parameter(query="version", schema_extra={"enum": ["3.0", "4.0"]}, description="3.0 ou 4.0")] = "3.0",
) -> Response[Any]:
    """The contacts holding a role at ``as_of``, as vCards with their structure (ORG); erased people are left out."""
    return _vcf(trame, slug, as_of, known_at, version)


# == imports: API ============================================================================
def _report_response(report: ImportReport) -> Response[Any]:
    return Response(report, status_code=400 if report.errors else (200 if report.dry_run else 201), media_type="application/json")


def _flag(value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in ("1", "true", "oui", "yes", "on")


def _api_import(
    request: Request[Any, Any, Any], trame: Trame, slug: str, raw: bytes, kind: str, dry_run: bool, effective: str | None
) -> Response[Any]:
    at = when(effective, "effective")
    if kind == "csv":
        report = exchange.import_csv(trame, slug, raw, author=author_of(request), dry_run=dry_run, effective=at)
    else:
        payload = datainclusion.read_payload(raw)
        report = datainclusion.import_v1(trame, slug, payload, author=author_of(request), dry_run=dry_run, effective=at)
    return _report_response(report)


DryRun = Annotated[bool, Parameter(query="dry_run", description="true : vérifier sans rien enregistrer")]
Effective = Annotated[
    str | None, Parameter(query="effective", required=False, description="Date d'entrée dans le réseau (défaut : maintenant)")
]


@post(
    "/api/v1/territories/{slug:str}/structures/import.csv",
    opt=COORDINATOR,
    tags=["annuaire"],
    status_code=200,
    request_max_body_size=exchange.MAX_IMPORT_BYTES + 1,  # past it, the import's own French refusal
)
async def api_import_csv(
    request: Request[Any, Any, Any], trame: Trame, slug: str, dry_run: DryRun = False, effective: Effective = None
) -> Response[Any]:
    """Import a spreadsheet directory sent as the request body (``text/csv``; headers Nom;Sigle;Type;E-mail;…;
    ``;`` or ``,``; UTF-8, with or without BOM, or Windows-1252). Every line is checked first: with any error,
    400 and a line-numbered report, and nothing is written; ``dry_run=true`` only checks (200); otherwise 201
    with the created ids. Structures already in the directory (same name) are skipped."""
    raw = await request.body()
    return await anyio.to_thread.run_sync(partial(_api_import, request, trame, slug, raw, "csv", dry_run, effective))


@post("/api/v1/territories/{slug:str}/structures/import.datainclusion.json", opt=COORDINATOR, tags=["annuaire"], status_code=200)
async def api_import_datainclusion(
    request: Request[Any, Any, Any], trame: Trame, slug: str, dry_run: DryRun = False, effective: Effective = None
) -> Response[Any]:
    """Import structures in the data·inclusion schema (request body: a JSON list of structures); the same
    all-or-nothing rule as the CSV import, errors located by the rank of the structure in the list."""
    raw = await request.body()
    return await anyio.to_thread.run_sync(partial(_api_import, request, trame, slug, raw, "datainclusion", dry_run, effective))


# == exchanges: pages ========================================================================
@get("/t/{territory:str}/annuaire/echanges", opt=MEMBER, sync_to_thread=False)
def exchanges_page(request: Request[Any, Any, Any], territory: str) -> Template:
    return render(request, "annuaire/export.html", columns=exchange.COLUMNS, error=None, today=clock.day_of(clock.now()))


@get("/t/{territory:str}/annuaire/echanges/structures.csv", opt=MEMBER, sync_to_thread=True)
def page_export_csv(trame: Trame, territory: str, as_of: AsOf = None, known_at: KnownAt = None) -> Response[Any]:
    return _csv(trame, territory, as_of, known_at)


@get("/t/{territory:str}/annuaire/echanges/structures.datainclusion.json", opt=MEMBER, sync_to_thread=True)
def page_export_datainclusion(
    trame: Trame, territory: str, as_of: AsOf = None, known_at: KnownAt = None, strict: bool = False
) -> Response[Any]:
    return _datainclusion(trame, territory, as_of, known_at, strict)


@get("/t/{territory:str}/annuaire/echanges/contacts.vcf", opt=MEMBER, sync_to_thread=True)
def page_export_vcf(trame: Trame, territory: str, as_of: AsOf = None, known_at: KnownAt = None, version: str = "3.0") -> Response[Any]:
    return _vcf(trame, territory, as_of, known_at, version)


def _uploaded(data: dict[str, Any]) -> tuple[bytes, str | None]:
    """The file of an import form: a fresh upload, or the one checked by a dry run (base64)."""
    upload = data.get("fichier")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = upload.file.read(MAX_UPLOAD + 1)
        name: str | None = upload.filename
    elif isinstance(data.get("contenu"), str) and data["contenu"]:
        try:
            raw = base64.b64decode(data["contenu"], validate=True)
        except (binascii.Error, ValueError):
            raise UserError(400, "Le fichier transmis est illisible : choisissez-le à nouveau.") from None
        name = str(data.get("nom_fichier") or "") or None
    else:
        raise UserError(400, "Choisissez un fichier à importer.")
    if len(raw) > MAX_UPLOAD:
        raise UserError(400, f"Fichier trop volumineux (au plus {MAX_UPLOAD // (1024 * 1024)} Mo).")
    if not raw.strip():
        raise UserError(400, "Le fichier est vide.")
    return raw, name


@post(
    "/t/{territory:str}/annuaire/echanges/import",
    opt=COORDINATOR,
    sync_to_thread=True,
    request_max_body_size=exchange.MAX_IMPORT_BYTES + 1024 * 1024,  # the file and the form around it
)
def import_page(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Upload) -> Response[Any]:
    raw, filename = _uploaded(data)
    kind = "datainclusion" if str(data.get("format", "csv")) == "datainclusion" else "csv"
    dry_run = str(data.get("mode", "simulation")) != "importer"
    effective_text = str(data.get("date_effet") or "").strip()
    try:
        effective = when(effective_text, "Date d'entrée dans le réseau")
        if kind == "csv" and raw.count(b"\n") > exchange.BACKGROUND_LINES:  # a big file: a progress page, not a long request
            job_id = exchange.start_import_job(
                trame, territory, raw, author=author_of(request), dry_run=dry_run, effective=effective, filename=filename
            )
            return Redirect(f"/t/{territory}/annuaire/echanges/import/{job_id}", status_code=303)
        if kind == "csv":
            report = exchange.import_csv(
                trame, territory, raw, author=author_of(request), dry_run=dry_run, effective=effective, filename=filename
            )
        else:
            payload = datainclusion.read_payload(raw)
            report = datainclusion.import_v1(trame, territory, payload, author=author_of(request), dry_run=dry_run, effective=effective)
    except UnreadableFile as exc:
        return render(
            request, "annuaire/export.html", status_code=400, columns=exchange.COLUMNS, error=str(exc), today=clock.day_of(clock.now())
        )
    return render(
        request,
        "annuaire/import_rapport.html",
        status_code=400 if report.errors else 200,
        report=report,
        filename=filename,
        format=kind,
        effective=effective_text,
        content=base64.b64encode(raw).decode("ascii") if dry_run and not report.errors and report.valid else None,
    )


@get("/t/{territory:str}/annuaire/echanges/import/{job_id:str}", opt=COORDINATOR, sync_to_thread=True)
def import_job_page(request: Request[Any, Any, Any], trame: Trame, territory: str, job_id: str, auto: str = "1") -> Template:
    """A background import: its progress (the page refreshes itself), then its report."""
    job = exchange.import_job(trame, territory, job_id)
    if job is None:
        raise NotFound("Cet import n'existe pas (ou plus) sur ce territoire.")
    if job.report is None:
        return render(request, "annuaire/import_progres.html", job=job, auto=auto != "0")
    return render(
        request,
        "annuaire/import_rapport.html",
        status_code=400 if job.report.errors else 200,
        report=job.report,
        filename=job.filename,
        format="csv",
        effective="",
        content=None,  # a big file is chosen again to import it after a simulation
    )


# == the booklet =============================================================================
@get("/t/{territory:str}/annuaire/livret", opt=MEMBER, sync_to_thread=True)
def livret_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, as_of: AsOf = None, known_at: KnownAt = None, group: str = "kind"
) -> Template:
    at, known = _times(as_of, known_at)
    booklet = livret.build(trame, territory, as_of=at, known_at=known, group=group)
    return render(
        request,
        "annuaire/livret.html",
        livret=booklet,
        groupings=livret.GROUPINGS,
        as_of_text=(as_of or "").strip(),
        known_at_text=(known_at or "").strip(),
        french_date=clock.french_long_date,
    )


# == campaigns ===============================================================================
def _months(value: str | int | None, default: int | None = DEFAULT_MONTHS) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return int(value)
    except ValueError:
        raise UserError(400, f"Nombre de mois invalide : « {value} ».") from None


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


def _issued_page(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, links: list[IssuedLink]) -> Response[Any]:
    """After issuing links: to the campaign when all were mailed, else the links to copy (shown once)."""
    to_copy = [link for link in links if not link.sent]
    if not to_copy:
        return Redirect(f"/t/{territory}/annuaire/campagnes/{campaign_id}?envoyes={len(links)}", status_code=303)
    campaign = campaigns(trame).get(territory, campaign_id)
    return render(request, "annuaire/campagne.html", campaign=campaign, to_copy=to_copy, mailed=len(links) - len(to_copy), error=None)


@post("/t/{territory:str}/annuaire/campagnes", opt=COORDINATOR, sync_to_thread=True)
def campaign_launch(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    scope_months = _months(data.get("mois"), None) if data.get("perimetre") == "anciennes" else None
    try:
        campaign_id, links = campaigns(trame).launch(
            territory, title=data.get("titre", ""), message=data.get("message"), months=scope_months, author=author_of(request)
        )
    except CampaignError as exc:
        return _dashboard(request, trame, territory, _months(data.get("mois")) or 0, status=400, error=str(exc))
    return _issued_page(request, trame, territory, campaign_id, links)


@get("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}", opt=COORDINATOR, sync_to_thread=True)
def campaign_page(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, envoyes: int | None = None) -> Template:
    campaign = campaigns(trame).get(territory, campaign_id)
    return render(request, "annuaire/campagne.html", campaign=campaign, to_copy=[], mailed=envoyes, error=None)


@post("/t/{territory:str}/annuaire/campagnes/{campaign_id:str}/relance", opt=COORDINATOR, sync_to_thread=True)
def campaign_reissue(request: Request[Any, Any, Any], trame: Trame, territory: str, campaign_id: str, data: Form) -> Response[Any]:
    only = [data["structure"]] if data.get("structure") else None
    try:
        links = campaigns(trame).reissue(territory, campaign_id, author=author_of(request), structure_ids=only)
    except CampaignError as exc:
        campaign = campaigns(trame).get(territory, campaign_id)
        return render(request, "annuaire/campagne.html", status_code=400, campaign=campaign, to_copy=[], mailed=None, error=str(exc))
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
    chase: ChaseOut


@get("/api/v1/territories/{slug:str}/structures/unconfirmed", opt=COORDINATOR, tags=["annuaire"], sync_to_thread=True)
def api_unconfirmed(
    trame: Trame, slug: str, months: Annotated[int, Parameter(query="months", ge=0, le=240, description="Nombre de mois")] = DEFAULT_MONTHS
) -> list[StaleOut]:
    """Sheets in the network not confirmed ("Toujours exact") nor created for ``months`` months, oldest
    first, with whom to chase (coordinators)."""
    return [
        StaleOut(
            id=item.structure.id,
            name=item.structure.name,
            joined=item.structure.joined,
            confirmed_at=item.last_confirmed,
            chase=ChaseOut(kind=item.recipient.kind, label=item.recipient.label, email=item.recipient.email, phone=item.recipient.phone),
        )
        for item in campaigns(trame).stale(slug, months)
    ]


def _public_territory(trame: Trame, territory: str) -> dict[str, str]:
    """Public routes skip the guard: check here that the territory and its directory exist."""
    found = trame.territories.get(territory)
    if found is None or not trame.territories.is_enabled(territory, PLUGIN):
        raise NotFound("Cette page n'existe pas.")
    return found


def _signed_inauthor_of(request: Request[Any, Any, Any]) -> str | None:
    principal = resolve_principal(request)
    return principal.account_id if principal else None


@get("/t/{territory:str}/annuaire/revue/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_page(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    found = _public_territory(trame, territory)
    review = campaigns(trame).review(territory, token)
    return render(
        request,
        "annuaire/campagne_revue.html",
        review=review,
        territory_title=found["title"],
        territory=territory,
        token=token,
        roles=CONTACT_ROLES,
    )


@post("/t/{territory:str}/annuaire/revue/{token:str}", opt={"public": True}, sync_to_thread=True, include_in_schema=False)
def review_answer(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    found = _public_territory(trame, territory)
    service = campaigns(trame)
    if data.get("reponse") == "modifier":
        review = service.open_edit(territory, token, author=_signed_inauthor_of(request))
        return Redirect(f"/t/{territory}/annuaire/structures/{review.structure.id}/modifier", status_code=303)
    if data.get("reponse") != "exact":
        raise UserError(400, "Réponse inconnue : choisissez « Toujours exact » ou « Corriger la fiche ».")
    review = service.confirm(territory, token, author=_signed_inauthor_of(request))
    return render(
        request,
        "annuaire/campagne_revue.html",
        review=review,
        territory_title=found["title"],
        territory=territory,
        token=token,
        thanks=True,
        roles=CONTACT_ROLES,
    )


ROUTES = [
    api_unconfirmed,
    api_export_csv,
    api_export_datainclusion,
    api_export_vcf,
    api_import_csv,
    api_import_datainclusion,
    exchanges_page,
    page_export_csv,
    page_export_datainclusion,
    page_export_vcf,
    import_page,
    import_job_page,
    livret_page,
    campaigns_page,
    campaign_launch,
    campaign_page,
    campaign_reissue,
    campaign_close,
    review_page,
    review_answer,
]
