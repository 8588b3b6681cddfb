"""Errors a person understands: JSON ``{"detail": ...}`` on the API, a French page elsewhere."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.csrf import generate_csrf_token
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from core.clock import BadInstant
from core.events import InvalidEvent
from core.refusals import Refused
from core.store import Conflict
from core.web.access import LoginRequired, Principal, is_api, resolve_principal

log = logging.getLogger(__name__)

TITLES = {
    400: "Demande incorrecte",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non permise",
    409: "Conflit de modification",
    413: "Requête trop volumineuse",
    422: "Demande incorrecte",
    429: "Trop de tentatives",
    500: "Erreur interne",
}


_TYPES = {
    "int": "un nombre entier",
    "float": "un nombre",
    "str": "du texte",
    "bool": "true ou false",
    "array": "une liste",
    "object": "un objet JSON",
    "null": "null",
    "bytes": "des octets",
}
_SOURCES = {"query": "paramètre d'adresse", "path": "segment d'adresse", "header": "en-tête", "cookie": "cookie", "body": "champ"}


def _type(name: str) -> str:
    return " ou ".join(_TYPES.get(part.strip("` "), part.strip("` ")) for part in name.split(" | "))


#: msgspec's and Litestar's English messages -> French (the only texts a validator shows a person).
_FRENCH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Expected `(.+?)`, got `(.+?)`"), lambda m: f"{_type(m[1])} attendu, {_type(m[2])} reçu"),
    (re.compile(r"^Expected `(?:str|array|object)` of length >= (\d+)"), lambda m: f"au moins {m[1]} caractère(s) ou élément(s)"),
    (re.compile(r"^Expected `(?:str|array|object)` of length <= (\d+)"), lambda m: f"au plus {m[1]} caractère(s) ou élément(s)"),
    (re.compile(r"^Expected `str` matching regex '(.*)'"), lambda m: f"forme non reconnue (attendu : {m[1]})"),
    (re.compile(r"^Expected `(?:int|float)` >= (\S+)"), lambda m: f"nombre supérieur ou égal à {m[1]} attendu"),
    (re.compile(r"^Expected `(?:int|float)` <= (\S+)"), lambda m: f"nombre inférieur ou égal à {m[1]} attendu"),
    (re.compile(r"^Expected `(?:int|float)` > (\S+)"), lambda m: f"nombre supérieur à {m[1]} attendu"),
    (re.compile(r"^Expected `(?:int|float)` < (\S+)"), lambda m: f"nombre inférieur à {m[1]} attendu"),
    (re.compile(r"^Object missing required field `(.+?)`"), lambda m: f"champ « {m[1]} » obligatoire"),
    (re.compile(r"^Object contains unknown field `(.+?)`"), lambda m: f"champ « {m[1]} » inconnu"),
    (re.compile(r"^Invalid enum value (.+)"), lambda m: f"valeur {m[1]} non prévue"),
    (re.compile(r"^Invalid RFC3339 encoded (date|datetime|time)"), lambda m: "date attendue au format AAAA-MM-JJ"),
    (re.compile(r"^Invalid (?:UUID|uuid)"), lambda m: "identifiant (UUID) attendu"),
    (re.compile(r"^JSON is malformed"), lambda m: "le corps n'est pas un JSON valide"),
    (re.compile(r"^Input data was truncated"), lambda m: "le corps JSON est incomplet (tronqué)"),
    (re.compile(r"^Missing required (\w+) parameter '(.+?)'"), lambda m: f"{_SOURCES.get(m[1], m[1])} « {m[2]} » obligatoire"),
    (re.compile(r"^multipart boundary missing"), lambda m: "formulaire multipart sans délimiteur (boundary)"),
]


def french(message: str) -> str:
    """A validator's English message in French, with where it applies (``- at `$.a.b` ``)."""
    text, _, where = str(message).partition(" - at `")
    for pattern, say in _FRENCH:
        found = pattern.match(text)
        if found:
            out = say(found)
            field = where.rstrip("`").removeprefix("$.").removeprefix("$") if where else ""
            return f"« {field} » : {out}" if field else out[:1].upper() + out[1:]
    return str(message)


def _describe_validation(exc: ValidationException) -> str:
    parts = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "")
            message = french(str(item.get("message") or ""))
            parts.append(f"« {key} » : {message}" if key and not message.startswith("«") else message)
    if parts:
        return "Données invalides — " + " ; ".join(parts)
    detail = str(exc.detail or "")
    if detail.startswith("Validation failed for"):
        return "Données invalides."
    return f"Données invalides : {french(detail)}"


def respond(
    request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None, *, field: str | None = None
) -> Response[Any]:
    if is_api(request):
        body: dict[str, Any] = {"detail": detail, "status": status}
        if field:
            body["field"] = field  # documented in ERROR_SCHEMA: which input to correct
        return Response(body, status_code=status, headers=headers, media_type="application/json")
    return Template(
        "error.html",
        context={"status": status, "title": TITLES.get(status, "Erreur"), "detail": detail, "principal": _principal(request)},
        status_code=status,
        headers=headers,
    )


def _expired_form(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """A page form refused for an expired token (a restart with a new key, a long pause) comes
    back with what was typed and a fresh token, to check and send again: nothing was written.

    Only for a form posted from this site (its Origin is this host: a form another site made a
    browser post must not be one click from going through) and never with a password in it."""
    origin = request.headers.get("origin") or ""
    same_site = origin.split("://", 1)[-1] == request.headers.get("host", "")
    form = ScopeState.from_scope(request.scope).form
    if is_api(request) or request.content_type[0] != RequestEncodingType.URL_ENCODED or not same_site or form is Empty:
        return None
    fields = [(k, str(v)) for k, vs in dict(form).items() for v in (vs if isinstance(vs, list) else [vs]) if k != "_csrf_token"]
    if any("password" in k or "passe" in k for k, _ in fields):
        return None
    config = request.app.csrf_config
    assert config is not None
    token = generate_csrf_token(config.secret)
    ScopeState.from_scope(request.scope).csrf_token = token  # what the page's forms carry (csrf_input)
    action = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = request.headers.get("referer") or ""
    back = referer if referer.split("://", 1)[-1].startswith(request.headers.get("host", "") + "/") else "/"
    response = Template(
        "form_expired.html",
        context={"title": "Formulaire expiré", "fields": fields, "action": action, "back": back, "principal": _principal(request)},
        status_code=403,
    )
    response.set_cookie(
        key=config.cookie_name,
        value=token,
        path=config.cookie_path,
        domain=config.cookie_domain,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
    )
    return response


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
        return respond(request, exc.status, exc.detail, field=exc.field)
    if isinstance(exc, Conflict):
        return respond(request, 409, str(exc))
    if isinstance(exc, msgspec.ValidationError):
        return respond(request, 400, "Données invalides — " + french(str(exc)))
    if isinstance(exc, InvalidEvent | BadInstant):
        return respond(request, 400, str(exc))
    if isinstance(exc, ValidationException):
        return respond(request, 400, _describe_validation(exc))
    if isinstance(exc, HTTPException):
        detail = french(exc.detail) if exc.detail and exc.detail != TITLES.get(exc.status_code) else ""
        if exc.status_code == 404 and (not detail or detail == "Not Found"):
            detail = "Cette adresse ne correspond à aucune page."
        if exc.status_code == 405:
            detail = "Cette adresse n'accepte pas cette méthode."
        if exc.status_code == 413:
            detail = "Le corps de la requête est trop volumineux pour cette adresse."
        if exc.status_code == 403 and detail == "CSRF token verification failed":
            expired = _expired_form(request)
            if expired is not None:
                return expired
            detail = (
                "Ce formulaire a expiré (il était ouvert depuis longtemps, ou vous vous êtes reconnecté·e entre-temps). "
                "Revenez à la page précédente, rechargez-la et envoyez-le à nouveau."
            )
        return respond(request, exc.status_code, detail or TITLES.get(exc.status_code, "Erreur"), headers=exc.headers)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return respond(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "Une erreur inattendue s'est produite ; elle a été consignée. Réessayez plus tard."
    )


# == the error body in the OpenAPI document ==================================================

#: The one error body the API serves (``respond``), documented once as a component.
ERROR_COMPONENT = "Erreur"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "status"],
    "properties": {
        "detail": {"type": "string", "description": "ce qui ne va pas, en français, pour une personne"},
        "status": {"type": "integer", "description": "le code HTTP de la réponse"},
        "field": {"type": "string", "description": "le champ en cause, quand il y en a un"},
    },
    "description": "Réponse d'erreur de l'API.",
}
WHY = {
    400: "Demande incorrecte : paramètre, corps ou en-tête invalide (le message dit lequel et comment l'écrire).",
    401: "Jeton d'API absent, inconnu ou révoqué (en-tête Authorization: Bearer).",
    403: "Le compte n'a pas le rôle demandé sur ce territoire, ou n'en fait pas partie.",
    404: "Territoire, module (non activé ici) ou élément introuvable sur ce territoire.",
    409: "L'état ne le permet pas maintenant, ou quelqu'un d'autre a modifié la même chose entre-temps.",
    413: "Corps de requête trop volumineux.",
    422: "Cette clé Idempotency-Key a déjà servi pour une autre requête.",
    428: "En-tête If-Match obligatoire : renvoyez la version (ETag) lue.",
}


def error_statuses(method: str, path: str, *, public: bool, reads_if_match: bool, has_body: bool) -> list[int]:
    """The error statuses an operation of the JSON API can answer, from what every route shares:
    the guard (401/403; 404 for a territory, a module off there, or an id not found), the input
    checks (400 on every route: control characters are refused in any query string), a write's
    state and races (409), the body limit (413), Idempotency-Key reuse on a POST (422), If-Match (428)."""
    statuses = [400]
    if not public:
        statuses += [401, 403]
    if "{" in path or not public:
        statuses.append(404)
    if method != "get":
        statuses.append(409)
    if has_body:
        statuses.append(413)
    if method == "post" and path.startswith("/api/v1/"):
        statuses.append(422)
    if reads_if_match:
        statuses.append(428)
    return sorted(set(statuses))


def document(schema: Any, public_paths: set[str]) -> None:
    """Put the real error body and statuses in the OpenAPI document (called once at start-up):
    Litestar's generic ``{"status_code", "detail", "extra"}`` 400 is replaced by ``Erreur``."""
    from litestar.openapi.spec import Components, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema

    if schema.components is None:
        schema.components = Components()
    properties: dict[str, Any] = ERROR_SCHEMA["properties"]  # type: ignore[assignment]
    schemas = dict(schema.components.schemas or {})
    schemas[ERROR_COMPONENT] = Schema(
        type=OpenAPIType.OBJECT,
        required=["detail", "status"],
        properties={k: Schema(type=OpenAPIType(v["type"]), description=v["description"]) for k, v in properties.items()},
        description=str(ERROR_SCHEMA["description"]),
    )
    schema.components.schemas = schemas
    body = {"application/json": OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{ERROR_COMPONENT}"))}
    for path, item in (schema.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            params = operation.parameters or []
            for parameter in params:
                _no_null_header(parameter)
            reads_if_match = any(getattr(p, "name", "").lower() == "if-match" for p in params)
            responses = {k: v for k, v in (operation.responses or {}).items() if not (k.isdigit() and int(k) >= 400)}
            for status in error_statuses(
                method,
                path,
                public=path in public_paths,
                reads_if_match=reads_if_match,
                has_body=operation.request_body is not None,
            ):
                responses[str(status)] = OpenAPIResponse(description=WHY[status], content=body)
            operation.responses = responses


def _no_null_header(parameter: Any) -> None:
    """A header is text or absent, never JSON null: ``str | None`` becomes the string arm."""
    if str(getattr(parameter.param_in, "value", parameter.param_in)) != "header":
        return
    schema = parameter.schema
    arms = getattr(schema, "one_of", None)
    if not arms:
        return
    kept = [arm for arm in arms if getattr(getattr(arm, "type", None), "value", None) != "null"]
    if len(kept) == 1:
        arm = kept[0]
        for name in ("pattern", "description", "min_length", "max_length"):
            if getattr(arm, name, None) is None and getattr(schema, name, None) is not None:
                setattr(arm, name, getattr(schema, name))
        parameter.schema = arm
