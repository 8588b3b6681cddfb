"""The Litestar app factory: one function per concern, plugins' routes mounted behind the guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from litestar import Litestar, MediaType, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from core.application import Trame
from core.settings import Settings
from core.web import api, errors, flash, hygiene, idempotency, pages
from core.web.access import access_guard
from core.web.errors import handle
from core.web.hygiene import ControlCharacters
from core.web.idempotency import Idempotency
from core.web.rendering import environment
from core.web.sessions import Sessions

HERE = Path(__file__).parent

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


async def security_headers(message: Message, scope: Scope) -> None:
    """Litestar has no security-headers middleware; this hook sees every response, errors included."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        names = {bytes(h[0]).lower() for h in headers}
        headers += [h for h in SECURITY_HEADERS if h[0] not in names]
        message["headers"] = headers


@get("/health", opt={"public": True}, media_type=MediaType.JSON, sync_to_thread=True, tags=["plateforme"])
def health(trame: Trame) -> dict[str, Any]:
    """Liveness and freshness: how far each projection is behind the log, and which are being rebuilt."""
    head = trame.store.max_position()
    states = trame.runner.states()
    return {
        "status": "ok",
        "database": trame.db.dialect,
        "log_position": head,
        "projections_behind": {name: head - s.position for name, s in states.items()},
        "rebuilding": sorted(name for name, s in states.items() if s.rebuilding),
    }


def _templates(trame: Trame) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment(trame)))


def _plugin_routers(trame: Trame) -> list[Router]:
    """Each plugin's static files and routes, through its hook implementations, so that
    every route knows the plugin it belongs to (the guard answers 404 where it is off)."""
    routers: list[Router] = []
    hook = trame.pm.hook
    for impl in hook.register_static.get_hookimpls():
        directory = cast("str | None", impl.function())
        if directory:
            name = trame.catalog.name_of(impl.plugin)
            routers.append(
                create_static_files_router(path=f"/static/{name}", directories=[directory], opt={"public": True}, include_in_schema=False)
            )
    for impl in hook.register_routes.get_hookimpls():
        handlers = cast("list[Any]", impl.function())
        opt = {"plugin": trame.catalog.name_of(impl.plugin)}
        api_handlers = [h for h in handlers if _is_api_handler(h)]
        page_handlers = [h for h in handlers if not _is_api_handler(h)]
        if api_handlers:
            routers.append(Router(path="/", route_handlers=api_handlers, opt=opt))
        if page_handlers:  # HTML pages are not the JSON API's contract: kept out of /schema
            routers.append(Router(path="/", route_handlers=page_handlers, opt=opt, include_in_schema=False))
    return routers


def _is_api_handler(handler: Any) -> bool:
    """A route of the JSON API (documented in the OpenAPI schema): all its paths are under /api/."""
    paths = getattr(handler, "paths", None) or ()
    return bool(paths) and all(str(p).startswith("/api/") for p in paths)


def _document_api(app: Litestar) -> None:
    """What the generated OpenAPI document cannot know: the error body and statuses, Idempotency-Key."""
    public = {
        route.path_format or "/" for route in app.routes for handler in getattr(route, "route_handlers", []) if handler.opt.get("public")
    }
    errors.document(app.openapi_schema, public)
    hygiene.document(app.openapi_schema)
    idempotency.document(app.openapi_schema)


def _true_allow_headers(app: Litestar) -> None:
    """Litestar registers a path's handlers one by one and keeps the OPTIONS answer of the first
    (``Allow: GET, OPTIONS`` on a path that also takes PATCH and DELETE): point each automatic
    OPTIONS handler at the final route, so that ``Allow`` lists every method the path takes."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name != "options_handler":
                continue
            for cell in getattr(handler.fn, "__closure__", None) or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
            others = [h for h in route.route_handlers if h is not handler]
            if others and all(h.opt.get("public") for h in others):
                handler.opt["public"] = True  # OPTIONS /health answers as GET /health does: without signing in


def create_app(trame: Trame) -> Litestar:
    """The app of one worker. Its projections are caught up first (events written while it
    was down, or by another process), so that its first page is as fresh as its last."""
    trame.runner.catch_up()
    sessions = Sessions(trame.db)
    idempotency.create_table(trame.db)
    flash.create_table(trame.db)
    secure = trame.settings.secure_cookies
    app = Litestar(
        route_handlers=[
            Router(path="/", route_handlers=pages.ROUTES, include_in_schema=False),
            *api.ROUTES,
            health,
            *_plugin_routers(trame),
            create_static_files_router(path="/static", directories=[HERE / "static"], opt={"public": True}, include_in_schema=False),
        ],
        dependencies={"trame": Provide(lambda: trame, use_cache=True, sync_to_thread=False)},
        guards=[access_guard],
        middleware=[ControlCharacters, Idempotency],
        on_startup=[_document_api],
        template_config=_templates(trame),
        csrf_config=CSRFConfig(
            secret=trame.settings.secret_key,
            cookie_name="__Host-csrftoken" if secure else "csrftoken",
            cookie_secure=secure,
            cookie_httponly=True,
            cookie_samesite="lax",
            # Only the bearer-token API (core/web/access.py reads no cookie there). Litestar
            # searches these regexes anywhere in the path: anchored, so /t/api/... keeps its CSRF.
            exclude=["^/api/v1/"],
        ),
        openapi_config=OpenAPIConfig(title="Trame", version="1.0", path="/schema", description="API JSON de Trame."),
        plugins=[hygiene.StructSchema()],
        before_request=hygiene.strict_bodies,
        exception_handlers={Exception: handle},
        before_send=[security_headers],
        debug=False,
    )
    _true_allow_headers(app)
    app.state.trame = trame
    app.state.sessions = sessions
    return app


def app_from_env() -> Litestar:
    """One worker's app from the ``TRAME_*`` environment: ``trame serve --workers N`` and
    ``uvicorn --factory core.web.app:app_from_env`` start each worker with it."""
    trame = Trame(Settings.from_env())
    app = create_app(trame)
    app.on_shutdown.append(trame.close)
    return app
