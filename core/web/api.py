"""JSON API, core part: territories, their plugins, their members."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post, put

from core.accounts import ROLES
from core.application import Trame
from core.refusals import absent, invalid
from core.territories import SLUG
from core.web.access import access_of, resolve_principal
from core.web.hygiene import one_of


class TerritoryIn(msgspec.Struct):
    slug: Annotated[str, msgspec.Meta(pattern=SLUG, description="identifiant : minuscules, chiffres, tirets")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TerritoryOut(msgspec.Struct):
    slug: str
    name: str
    created_at: str
    plugins: list[str]


class PluginOut(msgspec.Struct):
    name: str
    title: str
    description: str
    needs: list[str]
    enabled: bool
    always_on: bool


class MemberIn(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    role: Annotated[str, one_of(*ROLES)]
    structure_id: str | None = None


class MemberOut(msgspec.Struct):
    email: str
    role: str
    structure_id: str | None
    #: True when the account existed and got the role now; otherwise an invitation was issued.
    granted: bool
    invitation_url: str | None = None


def _territory_out(trame: Trame, slug: str) -> TerritoryOut:
    t = trame.territories.get(slug)
    if t is None:
        raise absent(f"Le territoire « {slug} » n'existe pas.")
    return TerritoryOut(
        slug=t["slug"], name=t["title"], created_at=t["created_at"], plugins=sorted(trame.territories.enabled_plugins(slug))
    )


def _plugin_out(trame: Trame, slug: str, name: str) -> PluginOut:
    info = trame.catalog.info[name]
    return PluginOut(
        name=info.name,
        title=info.title,
        description=info.description,
        needs=list(info.needs),
        enabled=trame.territories.is_enabled(slug, name),
        always_on=info.always_on,
    )


@post("/api/v1/territories", opt={"admin": True}, tags=["territoires"], sync_to_thread=True)
def create_territory(request: Request[Any, Any, Any], trame: Trame, data: TerritoryIn) -> TerritoryOut:
    """Create a territory (platform admins). 400 if the slug is taken or malformed."""
    principal = resolve_principal(request)
    assert principal is not None
    trame.territories.create(data.slug, data.name, author=principal.account_id)
    return _territory_out(trame, data.slug)


@get("/api/v1/territories/{slug:str}", tags=["territoires"], sync_to_thread=False)
def get_territory(trame: Trame, slug: str) -> TerritoryOut:
    return _territory_out(trame, slug)


@get("/api/v1/territories/{slug:str}/plugins", tags=["territoires"], sync_to_thread=False)
def list_plugins(trame: Trame, slug: str) -> list[PluginOut]:
    return [_plugin_out(trame, slug, name) for name in sorted(trame.catalog.info)]


@put("/api/v1/territories/{slug:str}/plugins/{plugin:str}", opt={"role": "coordinator"}, tags=["territoires"], sync_to_thread=True)
def enable_plugin(request: Request[Any, Any, Any], trame: Trame, slug: str, plugin: str, reason: str | None = None) -> PluginOut:
    """Enable a plugin; 400 with the reason if a plugin it needs is off."""
    trame.territories.enable(slug, plugin, author=access_of(request).principal.account_id, reason=reason)
    return _plugin_out(trame, slug, plugin)


@delete(
    "/api/v1/territories/{slug:str}/plugins/{plugin:str}",
    opt={"role": "coordinator"},
    status_code=200,
    tags=["territoires"],
    sync_to_thread=True,
)
def disable_plugin(request: Request[Any, Any, Any], trame: Trame, slug: str, plugin: str, reason: str | None = None) -> PluginOut:
    trame.territories.disable(slug, plugin, author=access_of(request).principal.account_id, reason=reason)
    return _plugin_out(trame, slug, plugin)


@post("/api/v1/territories/{slug:str}/members", opt={"role": "coordinator"}, tags=["territoires"], sync_to_thread=True)
def add_member(request: Request[Any, Any, Any], trame: Trame, slug: str, data: MemberIn) -> MemberOut:
    """Give an existing account a role here, or issue an invitation link for a new one."""
    if data.role not in ROLES:
        raise invalid(f"Rôle inconnu « {data.role} » : choisissez parmi {', '.join(ROLES)}.", "role")
    author = access_of(request).principal.account_id
    account = trame.accounts.by_email(data.email)
    if account is not None:
        trame.accounts.grant(account["account_id"], slug, data.role, data.structure_id, author=author)
        return MemberOut(email=data.email, role=data.role, structure_id=data.structure_id, granted=True)
    _, token = trame.accounts.invite(slug, data.role, structure_id=data.structure_id, email=data.email, author=author)
    url = f"{trame.settings.base_url}/invitation/{token}"
    return MemberOut(email=data.email, role=data.role, structure_id=data.structure_id, granted=False, invitation_url=url)


ROUTES = [create_territory, get_territory, list_plugins, enable_plugin, disable_plugin, add_member]
