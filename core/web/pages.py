"""The core's pages: sign-in, invitations, territories, their modules, members and journal."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from core import structures
from core.accounts import ROLES
from core.application import Trame
from core.journal import describe
from core.refusals import Refused, Why, absent
from core.web import flash
from core.web.access import access_of, resolve_principal, session_cookie_name
from core.web.rendering import render
from core.web.sessions import SESSION_DAYS, Sessions
from core.web.throttle import LoginThrottle

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a person to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "inconnu"


@get("/", opt={"public": True}, sync_to_thread=False)
def home(request: Request[Any, Any, Any], trame: Trame) -> Template:
    principal = resolve_principal(request)
    territories: list[dict[str, str]] = []
    if principal is not None:
        territories = trame.territories.all() if principal.is_admin else trame.accounts.territories_of(principal.account_id)
    return render(request, "home.html", territories=territories)


@get("/connexion", opt={"public": True}, sync_to_thread=False)
def login_form(request: Request[Any, Any, Any], suite: str | None = None) -> Template:
    return render(request, "login.html", suite=_safe_next(suite), error=None, email="")


@post("/connexion", opt={"public": True}, sync_to_thread=True)
def login(request: Request[Any, Any, Any], trame: Trame, data: Form) -> Response[Any]:
    throttle = _throttle(request, trame)
    email = data.get("email", "").strip().lower()
    client = _client(request)
    suite = _safe_next(data.get("suite"))
    verdict = throttle.check(email, client)
    if not verdict.allowed:
        response = render(request, "login.html", status_code=429, suite=suite, email=email, error=verdict.message)
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    account_id = trame.accounts.authenticate(email, data.get("password", ""))
    if account_id is None:
        throttle.failed(email, client)
        return render(request, "login.html", status_code=400, suite=suite, email=email, error="Adresse e-mail ou mot de passe incorrect.")
    throttle.succeeded(email, client)
    return _signed_in(request, trame, account_id, suite)


def _throttle(request: Request[Any, Any, Any], trame: Trame) -> LoginThrottle:
    """The app's login throttle (one per app, made at its first login)."""
    state = request.app.state
    throttle: LoginThrottle | None = getattr(state, "login_throttle", None)
    if throttle is None:
        throttle = LoginThrottle(trame.db, free=trame.settings.login_attempts, client_ceiling=trame.settings.login_client_ceiling)
        state.login_throttle = throttle
    return throttle


def _signed_in(request: Request[Any, Any, Any], trame: Trame, account_id: str, target: str) -> Response[Any]:
    """Rotate the session: drop any previous one, issue a fresh id."""
    sessions: Sessions = request.app.state.sessions
    name = session_cookie_name(trame.settings.secure_cookies)
    old = request.cookies.get(name)
    if old:
        sessions.close(old)
    response = Redirect(target, status_code=303)
    response.set_cookie(
        name,
        sessions.open(account_id),
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=trame.settings.secure_cookies,
        path="/",
    )
    return response


@post("/deconnexion", sync_to_thread=True)
def logout(request: Request[Any, Any, Any], trame: Trame) -> Response[Any]:
    sessions: Sessions = request.app.state.sessions
    name = session_cookie_name(trame.settings.secure_cookies)
    token = request.cookies.get(name)
    if token:
        sessions.close(token)
    response = Redirect("/", status_code=303)
    response.delete_cookie(name, path="/")
    return response


@get("/invitation/{token:str}", opt={"public": True}, sync_to_thread=False)
def invitation_form(request: Request[Any, Any, Any], trame: Trame, token: str) -> Template:
    invitation = trame.accounts.invitation_by_token(token)
    if invitation is None or invitation["accepted_by"]:
        raise absent("Ce lien d'invitation n'est pas valable ou a déjà servi.")
    territory = trame.territories.get(invitation["territory"])
    return render(request, "invitation.html", invitation=invitation, territory=territory, roles=ROLES, error=None, token=token)


@post("/invitation/{token:str}", opt={"public": True}, sync_to_thread=True)
def invitation_accept(request: Request[Any, Any, Any], trame: Trame, token: str, data: Form) -> Response[Any]:
    invitation = trame.accounts.invitation_by_token(token)
    if invitation is None:
        raise absent("Ce lien d'invitation n'est pas valable.")
    try:
        account_id = trame.accounts.accept_invitation(token, data.get("email", ""), data.get("password", ""))
    except Refused as exc:
        territory = trame.territories.get(invitation["territory"])
        return render(
            request,
            "invitation.html",
            status_code=400,
            invitation=invitation,
            territory=territory,
            roles=ROLES,
            error=str(exc),
            token=token,
        )
    return _signed_in(request, trame, account_id, f"/t/{invitation['territory']}/")


@get("/admin/territoires", opt={"admin": True}, sync_to_thread=False)
def territories_admin(request: Request[Any, Any, Any], trame: Trame) -> Template:
    return render(request, "territories.html", territories=trame.territories.all(), error=None)


@post("/admin/territoires", opt={"admin": True}, sync_to_thread=True)
def territory_create(request: Request[Any, Any, Any], trame: Trame, data: Form) -> Response[Any]:
    principal = resolve_principal(request)
    assert principal is not None
    try:
        trame.territories.create(data.get("slug", "").strip(), data.get("title", ""), author=principal.account_id)
    except Refused as exc:
        return render(request, "territories.html", status_code=400, territories=trame.territories.all(), error=str(exc))
    return Redirect(f"/t/{data['slug'].strip()}/modules", status_code=303)


@get("/t/{territory:str}/", sync_to_thread=False)
def territory_home(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    enabled = trame.territories.enabled_plugins(territory)
    modules = [i for i in trame.catalog.optional() if i.name in enabled]
    return render(request, "territory.html", modules=modules)


@get("/t/{territory:str}/modules", opt={"role": "coordinator"}, sync_to_thread=False)
def modules_page(request: Request[Any, Any, Any], trame: Trame, territory: str, refus: str | None = None) -> Template:
    error = flash.take(trame.db, access_of(request).principal.account_id, refus, str) if refus else None
    return render(
        request, "modules.html", modules=trame.catalog.optional(),
        enabled=trame.territories.enabled_plugins(territory), error=error,
    )  # fmt: skip


@post("/t/{territory:str}/modules/{plugin:str}", opt={"role": "coordinator"}, sync_to_thread=True)
def modules_change(request: Request[Any, Any, Any], trame: Trame, territory: str, plugin: str, data: Form) -> Response[Any]:
    access = access_of(request)
    try:
        if data.get("action") == "activer":
            trame.territories.enable(territory, plugin, author=access.principal.account_id, reason=data.get("reason") or None)
        else:
            trame.territories.disable(territory, plugin, author=access.principal.account_id, reason=data.get("reason") or None)
    except Refused as exc:
        if exc.why is Why.ABSENT:  # no such module: the 404 page
            raise
        # Back to the modules page, refusal shown once: a refresh there asks nothing again.
        key = flash.put(trame.db, access.principal.account_id, str(exc))
        return Redirect(f"/t/{territory}/modules?refus={key}", status_code=303)
    return Redirect(f"/t/{territory}/modules", status_code=303)


def _members(trame: Trame, territory: str) -> list[dict[str, Any]]:
    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT a.email, a.display_name, m.role, m.structure_id, m.granted_at FROM memberships m "
            "JOIN accounts a ON a.account_id = m.account_id WHERE m.territory = ? ORDER BY a.email",
            (territory,),
        ).fetchall()
    return [dict(r) for r in rows]


def _members_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, *, link: str | None = None, error: str | None = None, status: int = 200
) -> Template:
    choices = structures.choices(trame, territory)
    return render(
        request, "members.html", status_code=status, members=_members(trame, territory), roles=ROLES, link=link, error=error,
        structures=choices, structure_names=dict(choices),
    )  # fmt: skip


@get("/t/{territory:str}/membres", opt={"role": "coordinator"}, sync_to_thread=False)
def members_page(request: Request[Any, Any, Any], trame: Trame, territory: str, envoi: str | None = None) -> Template:
    token = flash.take(trame.db, access_of(request).principal.account_id, envoi, str) if envoi else None
    return _members_page(request, trame, territory, link=f"{trame.settings.base_url}/invitation/{token}" if token else None)


@post("/t/{territory:str}/membres", opt={"role": "coordinator"}, sync_to_thread=True)
def members_invite(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    """Create the link, then show it once on the members page after the redirect (a refresh creates no second one)."""
    access = access_of(request)
    try:
        _, token = trame.accounts.invite(
            territory,
            data.get("role", "member"),
            structure_id=data.get("structure_id") or None,
            email=data.get("email") or None,
            author=access.principal.account_id,
        )
    except Refused as exc:
        return _members_page(request, trame, territory, error=exc.detail, status=exc.status)
    key = flash.put(trame.db, access.principal.account_id, token)
    return Redirect(f"/t/{territory}/membres?envoi={key}#inviter", status_code=303)


@get("/t/{territory:str}/journal", opt={"role": "coordinator"}, sync_to_thread=False)
def journal_page(request: Request[Any, Any, Any], trame: Trame, territory: str, page: int = 1) -> Template:
    """Who changed what, when and why, newest first, one page of 100 lines at a time."""
    size = 100
    page = max(page, 1)
    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT j.position, j.event, j.stream_id, j.author, j.recorded_at, j.effective, j.reason, j.data, "
            "COALESCE(NULLIF(a.display_name, ''), a.email) AS author_name "
            "FROM journal j LEFT JOIN accounts a ON a.account_id = j.author WHERE j.territory = ? "
            "ORDER BY j.position DESC LIMIT ? OFFSET ?",
            (territory, size + 1, (page - 1) * size),
        ).fetchall()
    entries = describe(trame, territory, [dict(r) for r in rows[:size]])
    return render(request, "journal.html", entries=entries, page=page, more=len(rows) > size)


ROUTES = [
    home,
    login_form,
    login,
    logout,
    invitation_form,
    invitation_accept,
    territories_admin,
    territory_create,
    territory_home,
    modules_page,
    modules_change,
    members_page,
    members_invite,
    journal_page,
]
