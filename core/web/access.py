"""Who is asking, and may they? One guard, run on every route, reads the handler's ``opt``:

* ``public=True``: anyone (login page, health, invitation links, static files);
* ``admin=True``: platform administrators only;
* ``role="member" | "referent" | "coordinator"``: the minimum role in the territory
  named by the ``territory`` (pages) or ``slug`` (API) path parameter; default member;
* ``plugin="name"``: set by the core on every plugin route; the route answers 404 in a
  territory where that plugin is off, as if it did not exist there.

Pages authenticate with the session cookie, the API with ``Authorization: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.accounts import RANK
from core.application import Trame
from core.web.sessions import Sessions


class LoginRequired(NotAuthorizedException):
    """A page needs a signed-in visitor: the error handler redirects to the login page."""


@dataclass(frozen=True)
class Principal:
    account_id: str
    email: str
    is_admin: bool


@dataclass(frozen=True)
class Access:
    """The visitor's standing in the territory of the current request."""

    principal: Principal
    territory: str
    territory_title: str
    role: str | None  # None for a platform admin without a role there
    structure_id: str | None

    def at_least(self, role: str) -> bool:
        return self.principal.is_admin or (self.role is not None and RANK[self.role] >= RANK[role])

    def may_edit_structure(self, structure_id: str) -> bool:
        """Coordinators edit every sheet; a referent only their own structure's."""
        return self.at_least("coordinator") or (self.role == "referent" and self.structure_id == structure_id)


def session_cookie_name(secure: bool) -> str:
    return "__Host-trame_session" if secure else "trame_session"


def is_api(connection: ASGIConnection) -> bool:  # type: ignore[type-arg]
    return connection.scope["path"].startswith("/api/")


def resolve_principal(connection: ASGIConnection) -> Principal | None:  # type: ignore[type-arg]
    """The signed-in account, cached on the connection."""
    if "principal" in connection.state:
        return connection.state["principal"]  # type: ignore[no-any-return]
    trame: Trame = connection.app.state.trame
    account_id: str | None = None
    if is_api(connection):
        header = connection.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            account_id = trame.accounts.by_token(header[7:].strip())
    else:
        token = connection.cookies.get(session_cookie_name(trame.settings.secure_cookies))
        if token:
            sessions: Sessions = connection.app.state.sessions
            account_id = sessions.account_of(token)
    principal = None
    if account_id:
        account = trame.accounts.get(account_id)
        if account is not None:
            principal = Principal(account_id=account_id, email=str(account["email"] or ""), is_admin=bool(account["is_admin"]))
    connection.state["principal"] = principal
    return principal


def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    opt = handler.opt
    if opt.get("public") or connection.scope["path"].startswith("/schema"):
        return
    principal = resolve_principal(connection)
    if principal is None:
        if is_api(connection):
            if connection.headers.get("authorization", "").lower().startswith("bearer "):
                raise NotAuthorizedException("Jeton d'API inconnu ou révoqué : créez-en un avec « trame token create ».")
            raise NotAuthorizedException("Authentification requise : envoyez un jeton d'API dans l'en-tête Authorization: Bearer.")
        raise LoginRequired("Connectez-vous pour accéder à cette page.")
    if opt.get("admin") and not principal.is_admin:
        raise PermissionDeniedException("Cette action est réservée aux administrateurs de la plateforme.")
    slug = connection.path_params.get("territory") or connection.path_params.get("slug")
    if slug is None:
        return
    trame: Trame = connection.app.state.trame
    territory = trame.territories.get(slug)
    if territory is None:
        raise NotFoundException(f"Le territoire « {slug} » n'existe pas.")
    role, structure_id = trame.accounts.role_in(principal.account_id, slug)
    if role is None and not principal.is_admin:
        # Do not reveal what a territory holds to someone outside it.
        raise PermissionDeniedException("Vous ne faites pas partie de ce territoire.")
    plugin = opt.get("plugin")
    if plugin and not trame.territories.is_enabled(slug, plugin):
        raise NotFoundException("Cette page n'existe pas sur ce territoire (module non activé).")
    access = Access(principal, slug, territory["title"], role, structure_id)
    needed = opt.get("role", "member")
    if not access.at_least(needed):
        raise PermissionDeniedException(f"Cette action demande le rôle « {_ROLE_LABELS[needed]} » sur ce territoire.")
    connection.state["access"] = access


_ROLE_LABELS = {"member": "membre", "referent": "référent·e", "coordinator": "coordinateur·rice"}


def author_of(connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    """The account that authors the events of this request (the guard has checked it)."""
    return access_of(connection).principal.account_id


def access_of(connection: ASGIConnection) -> Access:  # type: ignore[type-arg]
    """The access computed by the guard for a territory route."""
    return connection.state["access"]  # type: ignore[no-any-return]
