"""Errors a person understands: JSON ``{"detail": ...}`` on the API, a French page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.accounts import AccountError
from core.clock import BadInstant
from core.events import InvalidEvent
from core.refusals import Refused
from core.store import Conflict
from core.territories import NotFound, TerritoryError
from core.web.access import LoginRequired, Principal, is_api, resolve_principal

log = logging.getLogger(__name__)

TITLES = {
    400: "Demande incorrecte",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non permise",
    409: "Conflit de modification",
    422: "Demande incorrecte",
    429: "Trop de tentatives",
    500: "Erreur interne",
}


class UserError(Exception):
    """Raised by handlers with a status and a message for a person."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _describe_validation(exc: ValidationException) -> str:
    parts = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = item.get("key") or ""
            message = item.get("message") or ""
            parts.append(f"« {key} » : {message}" if key else str(message))
    if parts:
        return "Données invalides — " + " ; ".join(parts)
    return f"Données invalides : {exc.detail}"


def respond(request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None) -> Response[Any]:
    if is_api(request):
        return Response({"detail": detail, "status": status}, status_code=status, headers=headers, media_type="application/json")
    return Template(
        "error.html",
        context={"status": status, "title": TITLES.get(status, "Erreur"), "detail": detail, "principal": _principal(request)},
        status_code=status,
        headers=headers,
    )


def _principal(request: Request[Any, Any, Any]) -> Principal | None:
    """Who is signed in, so that the error page keeps the usual header; None if that fails too."""
    try:
        return resolve_principal(request)
    except Exception:  # an error page must render even when the database is what failed
        return None


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, LoginRequired) and not is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/connexion?suite={target}", status_code=303)
    if isinstance(exc, Refused):
        return respond(request, exc.status, exc.message)
    if isinstance(exc, UserError):
        return respond(request, exc.status, exc.detail)
    if isinstance(exc, Conflict):
        return respond(request, 409, str(exc))
    if isinstance(exc, NotFound):
        return respond(request, 404, str(exc))
    if isinstance(exc, TerritoryError | AccountError | InvalidEvent | BadInstant | msgspec.ValidationError):
        return respond(request, 400, str(exc))
    if isinstance(exc, ValidationException):
        return respond(request, 400, _describe_validation(exc))
    if isinstance(exc, HTTPException):
        detail = exc.detail if exc.detail and exc.detail != TITLES.get(exc.status_code) else ""
        if exc.status_code == 404 and (not detail or detail == "Not Found"):
            detail = "Cette adresse ne correspond à aucune page."
        if exc.status_code == 405:
            detail = "Cette adresse n'accepte pas cette méthode."
        if exc.status_code == 403 and detail == "CSRF token verification failed":
            detail = (
                "Ce formulaire a expiré (il était ouvert depuis longtemps, ou vous vous êtes reconnecté·e entre-temps). "
                "Revenez à la page précédente, rechargez-la et envoyez-le à nouveau."
            )
        return respond(request, exc.status_code, detail or TITLES.get(exc.status_code, "Erreur"), headers=exc.headers)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return respond(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "Une erreur inattendue s'est produite ; elle a été consignée. Réessayez plus tard."
    )
