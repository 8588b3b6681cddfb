"""Glossary pages: the list with its search, a term with its history, the printable glossary,
CSV export and import; coordinators add, amend and withdraw terms and adopt the starter list."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from core.application import Trame
from core.refusals import Refused, Why
from core.web.access import access_of, author_of
from core.web.forms import Form, errors_of, one
from core.web.rendering import render
from plugins.annuaire import public as annuaire
from plugins.lexique.service import FIELD_LABELS, TermChange, TermIn, lexique

P = "/t/{territory:str}/lexique"
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
COORDINATOR = {"role": "coordinator"}
MAX_UPLOAD = 1_000_000


def _refused(exc: Refused, form: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a refused form needs to come back filled in; what is absent keeps the error page."""
    if exc.why is Why.ABSENT:
        raise exc
    values = {k: one(data, k) for k in data if k != "_csrf_token"}
    return {"form": form, "errors": errors_of(exc), "values": values, "status": exc.status}


def _parts(refused: dict[str, Any] | None, form: str) -> tuple[dict[str, str], dict[str, Any]]:
    if refused and refused["form"] == form:
        return refused["errors"], refused["values"]
    return {}, {}


def _structures(trame: Trame, territory: str) -> list[tuple[str, str]]:
    return [(s.id, s.name) for s in annuaire.structures(trame, territory)]


def _index(request: Request[Any, Any, Any], trame: Trame, territory: str, *, refused: dict[str, Any] | None = None) -> Template:
    q = request.query_params.get("q") or ""
    scope = request.query_params.get("portee") or ""
    svc = lexique(trame)
    terms = svc.terms(territory, q or None, national={"national": True, "local": False}.get(scope))
    coordinator = access_of(request).at_least("coordinator")
    errors, values = _parts(refused, "add")
    return render(
        request,
        "lexique/index.html",
        status_code=refused["status"] if refused else 200,
        terms=terms,
        q=q,
        scope=scope,
        adoption=svc.adoption(territory),
        coordinator=coordinator,
        structures=_structures(trame, territory) if coordinator else [],
        errors=errors,
        values=values,
        adopt_errors=_parts(refused, "adopt")[0],
        labels=FIELD_LABELS,
    )


@get(f"{P}/", sync_to_thread=True)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return _index(request, trame, territory)


@post(f"{P}/nouveau", opt=COORDINATOR, sync_to_thread=True)
def add(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        term_id = lexique(trame).add(
            territory,
            TermIn(
                term=one(data, "term"),
                expansion=one(data, "expansion"),
                definition=one(data, "definition"),
                structure_id=one(data, "structure_id") or None,
                national=one(data, "national") == "1",
                reason=one(data, "reason") or None,
            ),
            author=author_of(request),
        )
    except Refused as exc:
        return _index(request, trame, territory, refused=_refused(exc, "add", data))
    return Redirect(f"/t/{territory}/lexique/termes/{term_id}", status_code=303)


@post(f"{P}/liste-de-depart", opt=COORDINATOR, sync_to_thread=True)
def adopt(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        lexique(trame).adopt_starter(territory, author=author_of(request), reason=one(data, "reason") or None)
    except Refused as exc:
        return _index(request, trame, territory, refused=_refused(exc, "adopt", data))
    return Redirect(f"/t/{territory}/lexique/", status_code=303)


@get(f"{P}/imprimer", sync_to_thread=True)
def printable(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return render(request, "lexique/print.html", terms=lexique(trame).terms(territory))


@get(f"{P}/lexique.csv", sync_to_thread=True)
def export(trame: Trame, territory: str) -> Response[str]:
    return Response(
        lexique(trame).export_csv(territory),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lexique-{territory}.csv"'},
    )


def _import_page(request: Request[Any, Any, Any], *, refused: dict[str, Any] | None = None, report: Any = None) -> Template:
    errors, values = _parts(refused, "import")
    return render(
        request,
        "lexique/import.html",
        status_code=refused["status"] if refused else 200,
        errors=errors,
        values=values,
        report=report,
        labels=FIELD_LABELS,
    )


@get(f"{P}/importer", opt=COORDINATOR, sync_to_thread=False)
def import_form(request: Request[Any, Any, Any], territory: str) -> Template:
    return _import_page(request)


@post(f"{P}/importer", opt=COORDINATOR, sync_to_thread=True)
def import_file(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Upload) -> Template:
    upload = data.get("file")
    reason = one({k: v for k, v in data.items() if not isinstance(v, UploadFile)}, "reason")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Refused("Choisissez le fichier CSV du lexique.", field="file")
        raw = upload.file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise Refused("Le fichier dépasse 1 Mo.", field="file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        report = lexique(trame).import_csv(territory, text, author=author_of(request), reason=reason or None)
    except Refused as exc:
        return _import_page(request, refused=_refused(exc, "import", {"reason": reason}))
    return _import_page(request, report=report)


def _term(
    request: Request[Any, Any, Any], trame: Trame, territory: str, term_id: str, *, refused: dict[str, Any] | None = None
) -> Template:
    svc = lexique(trame)
    term = svc.get(territory, term_id)
    coordinator = access_of(request).at_least("coordinator")
    errors, values = _parts(refused, "amend")
    return render(
        request,
        "lexique/term.html",
        status_code=refused["status"] if refused else 200,
        term=term,
        history=svc.history(territory, term_id),
        coordinator=coordinator,
        structures=_structures(trame, territory) if coordinator else [],
        errors=errors,
        values=values,
        withdraw_errors=_parts(refused, "withdraw")[0],
        labels=FIELD_LABELS,
    )


@get(f"{P}/termes/{{term_id:str}}", sync_to_thread=True)
def term_page(request: Request[Any, Any, Any], trame: Trame, territory: str, term_id: str) -> Template:
    return _term(request, trame, territory, term_id)


@post(f"{P}/termes/{{term_id:str}}/modifier", opt=COORDINATOR, sync_to_thread=True)
def amend(request: Request[Any, Any, Any], trame: Trame, territory: str, term_id: str, data: Form) -> Response[Any]:
    version = one(data, "expected_version")
    try:
        lexique(trame).amend(
            territory,
            term_id,
            TermChange(
                expansion=one(data, "expansion"),
                definition=one(data, "definition"),
                structure_id=one(data, "structure_id") or None,
                national=one(data, "national") == "1",
                reason=one(data, "reason"),
                expected_version=int(version) if version.isdigit() else None,
            ),
            author=author_of(request),
        )
    except Refused as exc:
        return _term(request, trame, territory, term_id, refused=_refused(exc, "amend", data))
    return Redirect(f"/t/{territory}/lexique/termes/{term_id}#historique", status_code=303)


@post(f"{P}/termes/{{term_id:str}}/retirer", opt=COORDINATOR, sync_to_thread=True)
def withdraw(request: Request[Any, Any, Any], trame: Trame, territory: str, term_id: str, data: Form) -> Response[Any]:
    try:
        lexique(trame).withdraw(territory, term_id, author=author_of(request), reason=one(data, "reason"))
    except Refused as exc:
        return _term(request, trame, territory, term_id, refused=_refused(exc, "withdraw", data))
    return Redirect(f"/t/{territory}/lexique/termes/{term_id}", status_code=303)


ROUTES = [index, add, adopt, printable, export, import_form, import_file, term_page, amend, withdraw]
