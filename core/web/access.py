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
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core import clock
from core.accounts import RANK, digest
from core.application import Trame


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
    #: The plugins on in the territory (always-on ones included), read with the rest.
    plugins: frozenset[str] = frozenset()

    def at_least(self, role: str) -> bool:
        return self.principal.is_admin or (self.role is not None and RANK[self.role] >= RANK[role])

    def may_edit_structure(self, structure_id: str) -> bool:
        """Coordinators edit every sheet; a referent only their own structure's."""
        return self.at_least("coordinator") or (self.role == "referent" and self.structure_id == structure_id)


def session_cookie_name(secure: bool) -> str:
    return "__Host-trame_session" if secure else "trame_session"


def is_api(connection: ASGIConnection) -> bool:  # type: ignore[type-arg]
    return connection.scope["path"].startswith("/api/")


# Who is asking and where, in ONE read transaction and ONE statement: the session (or API
# token) and its account, and, for a territory route, the territory, the account's membership
# there and the territory's modules. The tables are the core's read models (projections/
# accounts.py, projections/territories.py) and the sessions table (core/web/sessions.py).
_ACCOUNT = "a.account_id, a.email, a.is_admin"
_BY_SESSION = "web_sessions w JOIN accounts a ON a.account_id = w.account_id"
_BY_API_KEY = "api_tokens w JOIN accounts a ON a.account_id = w.account_id"
_WHERE_SESSION = "w.digest = ? AND w.expires_at > ?"
_WHERE_API_KEY = "w.digest = ?"
_AGGREGATE = {"sqlite": "group_concat(p.plugin, ',')", "postgresql": "string_agg(p.plugin, ',')"}


def _standing_sql(dialect: str, *, api: bool, territory: bool) -> str:
    source, where = (_BY_API_KEY, _WHERE_API_KEY) if api else (_BY_SESSION, _WHERE_SESSION)
    if not territory:
        return f"SELECT {_ACCOUNT} FROM {source} WHERE {where}"
    return (
        f"SELECT {_ACCOUNT}, t.slug, t.title, m.role, m.structure_id, "
        f"(SELECT {_AGGREGATE[dialect]} FROM territory_plugins p WHERE p.territory = t.slug) AS plugins "
        f"FROM {source} LEFT JOIN territories t ON t.slug = ? "
        f"LEFT JOIN memberships m ON m.account_id = a.account_id AND m.territory = t.slug WHERE {where}"
    )


@dataclass(frozen=True)
class _Standing:
    principal: Principal
    row: Any  # the territory's columns, when asked for


def _credential(connection: ASGIConnection) -> tuple[bool, str | None]:  # type: ignore[type-arg]
    """(is the API, the token given): a bearer token on the API, the session cookie elsewhere."""
    if is_api(connection):
        header = connection.headers.get("authorization", "")
        return True, (header[7:].strip() or None) if header.lower().startswith("bearer ") else None
    trame: Trame = connection.app.state.trame
    return False, connection.cookies.get(session_cookie_name(trame.settings.secure_cookies)) or None


def _read_standing(connection: ASGIConnection, slug: str | None) -> _Standing | None:  # type: ignore[type-arg]
    api, token = _credential(connection)
    if token is None:
        return None
    trame: Trame = connection.app.state.trame
    sql = _standing_sql(trame.db.dialect, api=api, territory=slug is not None)
    params: list[Any] = [] if slug is None else [slug]
    params += [digest(token)] if api else [digest(token), clock.now()]
    with trame.db.read() as cur:
        row = cur.execute(sql, params).fetchone()
    if row is None:
        return None
    principal = Principal(account_id=row["account_id"], email=str(row["email"] or ""), is_admin=bool(row["is_admin"]))
    return _Standing(principal, row)


def resolve_principal(connection: ASGIConnection) -> Principal | None:  # type: ignore[type-arg]
    """The signed-in account, cached on the connection (the guard's read fills it too)."""
    if "principal" in connection.state:
        return connection.state["principal"]  # type: ignore[no-any-return]
    standing = _read_standing(connection, None)
    principal = standing.principal if standing else None
    connection.state["principal"] = principal
    return principal


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Async so that Litestar calls it on the event loop, where the pages' handlers run
    (``sync_to_thread=False``), instead of a hop to a worker thread and back per request:
    its one read is an indexed lookup of a few rows. On PostgreSQL that read is a network
    round trip that may wait for a pooled connection: it goes to a worker thread, so a busy
    pool never stalls the event loop."""
    opt = handler.opt
    if opt.get("public") or connection.scope["path"].startswith("/schema"):
        return
    slug = connection.path_params.get("territory") or connection.path_params.get("slug")
    if connection.app.state.trame.db.dialect == "sqlite":
        standing = _read_standing(connection, slug)
    else:
        standing = await anyio.to_thread.run_sync(_read_standing, connection, slug)
    principal = standing.principal if standing else None
    connection.state["principal"] = principal
    if principal is None:
        if is_api(connection):
            if connection.headers.get("authorization", "").lower().startswith("bearer "):
                raise NotAuthorizedException("Jeton d'API inconnu ou révoqué : créez-en un avec « trame token create ».")
            raise NotAuthorizedException("Authentification requise : envoyez un jeton d'API dans l'en-tête Authorization: Bearer.")
        raise LoginRequired("Connectez-vous pour accéder à cette page.")
    if opt.get("admin") and not principal.is_admin:
        raise PermissionDeniedException("Cette action est réservée aux administrateurs de la plateforme.")
    if slug is None:
        return
    assert standing is not None
    row = standing.row
    if row["slug"] is None:
        raise NotFoundException(f"Le territoire « {slug} » n'existe pas.")
    role, structure_id = row["role"], row["structure_id"]
    if role is None and not principal.is_admin:
        # Do not reveal what a territory holds to someone outside it.
        raise PermissionDeniedException("Vous ne faites pas partie de ce territoire.")
    trame: Trame = connection.app.state.trame
    plugins = _enabled(trame, row["plugins"])
    plugin = opt.get("plugin")
    if plugin and plugin not in plugins:
        raise NotFoundException("Cette page n'existe pas sur ce territoire (module non activé).")
    access = Access(principal, slug, row["title"], role, structure_id, plugins)
    needed = opt.get("role", "member")
    if not access.at_least(needed):
        raise PermissionDeniedException(f"Cette action demande le rôle « {_ROLE_LABELS[needed]} » sur ce territoire.")
    connection.state["access"] = access


def _enabled(trame: Trame, stored: str | None) -> frozenset[str]:
    """The territory's modules as ``trame.territories.is_enabled`` sees them: its rows, and the always-on plugins."""
    return frozenset({name for name in (stored or "").split(",") if name} | {i.name for i in trame.catalog.info.values() if i.always_on})


_ROLE_LABELS = {"member": "membre", "referent": "référent·e", "coordinator": "coordinateur·rice"}


def author_of(connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    """The account that authors the events of this request (the guard has checked it)."""
    return access_of(connection).principal.account_id


def access_of(connection: ASGIConnection) -> Access:  # type: ignore[type-arg]
    """The access computed by the guard for a territory route."""
    return connection.state["access"]  # type: ignore[no-any-return]
