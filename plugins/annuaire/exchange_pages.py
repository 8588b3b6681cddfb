"""Pages and API that get the directory out and in: exports, the printable booklet, imports.

Every member may export and print; coordinators import. A spreadsheet's dry run shows how
its columns were understood and the likely duplicates: the coordinator corrects the mapping
and chooses, for each duplicate, to merge or create; nothing is written before that.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.refusals import absent, invalid
from core.web.access import author_of
from core.web.hygiene import DAY_OR_EMPTY
from core.web.rendering import render
from plugins.annuaire import datainclusion, exchange, livret
from plugins.annuaire.exchange import ImportReport, UnreadableFile
from plugins.annuaire.service import when

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


def _choices(items: list[str] | None) -> dict[int, str]:
    """``["5:creer", "7:<structure id>"]`` -> {5: "creer", 7: "<id>"}: the API's answer to the likely duplicates."""
    out: dict[int, str] = {}
    for item in items or []:
        line, _, choice = item.partition(":")
        if not line.strip().isdigit() or not choice.strip():
            raise invalid(f"Choix de doublon illisible « {item} » : écrivez « ligne:creer » ou « ligne:identifiant ».", field="doublons")
        out[int(line)] = choice.strip()
    return out


def _api_import(
    request: Request[Any, Any, Any],
    trame: Trame,
    slug: str,
    raw: bytes,
    kind: str,
    dry_run: bool,
    effective: str | None,
    duplicates: list[str] | None = None,
) -> Response[Any]:
    at = when(effective, "effective")
    if kind == "csv":
        report = exchange.import_csv(
            trame, slug, raw, author=author_of(request), dry_run=dry_run, effective=at, choices=_choices(duplicates)
        )
    else:
        payload = datainclusion.read_payload(raw)
        report = datainclusion.import_v1(trame, slug, payload, author=author_of(request), dry_run=dry_run, effective=at)
    return _report_response(report)


DryRun = Annotated[bool, Parameter(query="dry_run", description="true : vérifier sans rien enregistrer")]
Duplicates = Annotated[
    list[str] | None,
    Parameter(
        query="doublons",
        required=False,
        description="Pour chaque doublon probable de la simulation : « ligne:creer » (créer quand même) ou « ligne:<id> » (fusionner)",
    ),
]
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
    request: Request[Any, Any, Any],
    trame: Trame,
    slug: str,
    dry_run: DryRun = False,
    effective: Effective = None,
    duplicates: Duplicates = None,
) -> Response[Any]:
    """Import a spreadsheet directory sent as the request body (``text/csv``; headers Nom;Sigle;Type;E-mail;…;
    ``;`` or ``,``; UTF-8, with or without BOM, or Windows-1252; title rows above the header are skipped).
    Every line is checked first: with any error, 400 and a line-numbered report, and nothing is written;
    ``dry_run=true`` only checks (200) and lists the likely duplicates (same phone, e-mail or a close name),
    each to decide with ``doublons``; otherwise 201 with the created ids. Structures already in the
    directory (same name) are skipped."""
    raw = await request.body()
    return await anyio.to_thread.run_sync(partial(_api_import, request, trame, slug, raw, "csv", dry_run, effective, duplicates))


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
    return render(request, "annuaire/export.html", columns=exchange.FIELD_CHOICES, error=None, today=clock.paris_today())


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
            raise invalid("Le fichier transmis est illisible : choisissez-le à nouveau.", field="fichier") from None
        name = str(data.get("nom_fichier") or "") or None
    else:
        raise invalid("Choisissez un fichier à importer.", field="fichier")
    if len(raw) > MAX_UPLOAD:
        raise invalid(f"Fichier trop volumineux (au plus {MAX_UPLOAD // (1024 * 1024)} Mo).", field="fichier")
    if not raw.strip():
        raise invalid("Le fichier est vide.", field="fichier")
    return raw, name


def _numbered(data: dict[str, Any], prefix: str) -> dict[int, str]:
    """``colonne_3`` -> {3: value}: the mapping step's selects and the duplicates' radios."""
    out: dict[int, str] = {}
    for key, value in data.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            out[int(key[len(prefix) :])] = str(value).strip()
    return out


def _mapping(data: dict[str, Any]) -> dict[int, str] | None:
    """The columns as the coordinator mapped them, or None when the form had no mapping step."""
    chosen = _numbered(data, "colonne_")
    for field in chosen.values():
        if field and field not in exchange.LABELS:
            raise invalid(f"Information inconnue « {field} » pour une colonne.", field="colonne")
    return chosen or None


def _report_page(
    request: Request[Any, Any, Any], report: ImportReport, raw: bytes | None, filename: str | None, kind: str, effective: str
) -> Template:
    """The report; while nothing is written, the file rides along (base64) so that the mapping,
    the duplicates' choices and the import need not choose it again."""
    keep = raw is not None and not report.imported
    return render(
        request,
        "annuaire/import_rapport.html",
        status_code=400 if report.errors else 200,
        report=report,
        filename=filename,
        format=kind,
        effective=effective,
        content=base64.b64encode(raw).decode("ascii") if keep and raw is not None else None,
        fields=exchange.FIELD_CHOICES,
        create=exchange.CREATE,
    )


def _exchanges_again(request: Request[Any, Any, Any], error: str) -> Template:
    return render(request, "annuaire/export.html", status_code=400, columns=exchange.FIELD_CHOICES, error=error, today=clock.paris_today())


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
    author = author_of(request)
    try:
        effective = when(effective_text, "Date d'entrée dans le réseau")
        if kind == "datainclusion":
            payload = datainclusion.read_payload(raw)
            report = datainclusion.import_v1(trame, territory, payload, author=author, dry_run=dry_run, effective=effective)
            return _report_page(request, report, None, filename, kind, effective_text)
        if raw.count(b"\n") > exchange.BACKGROUND_LINES:  # a big file: a progress page, not a long request
            job_id = exchange.start_import_job(
                trame, territory, raw, author=author, dry_run=dry_run, effective=effective, filename=filename
            )
            return Redirect(f"/t/{territory}/annuaire/echanges/import/{job_id}", status_code=303)
        report = exchange.import_csv(
            trame, territory, raw, author=author, dry_run=dry_run, effective=effective, filename=filename,
            columns=_mapping(data), choices=_numbered(data, "doublon_"),
        )  # fmt: skip
    except UnreadableFile as exc:
        return _exchanges_again(request, str(exc))
    return _report_page(request, report, raw, filename, kind, effective_text)


@get("/t/{territory:str}/annuaire/echanges/import/{job_id:str}", opt=COORDINATOR, sync_to_thread=True)
def import_job_page(request: Request[Any, Any, Any], trame: Trame, territory: str, job_id: str, auto: str = "1") -> Template:
    """A background import: its progress (the page refreshes itself), then its report."""
    job = exchange.import_job(trame, territory, job_id)
    if job is None:
        raise absent("Cet import n'existe pas (ou plus) sur ce territoire.")
    if job.report is None:
        return render(request, "annuaire/import_progres.html", job=job, auto=auto != "0")
    return _report_page(request, job.report, None, job.filename, "csv", "")  # a big file is chosen again to import it


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


ROUTES = [
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
]
