"""Territories and the plugins each one enables: the core's first aggregate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core.events import Event
from core.plugins import PluginInfo
from core.store import Context, Write

if TYPE_CHECKING:
    from core.application import Trame

SLUG = r"^[a-z0-9][a-z0-9-]{1,39}$"
Slug = Annotated[str, msgspec.Meta(pattern=SLUG, description="minuscules, chiffres et tirets, 2 à 40 caractères")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

#: Slugs that are (or could become) the first segment of one of the app's own paths
#: (``/api/``, ``/static/``, ``/schema``, ``/health``, ``/connexion``...): a territory never takes
#: one, so that no rule keyed on a path prefix (CSRF exemption, static files, the guard) can
#: ever apply to a territory's pages. tests/test_security.py checks the list covers every
#: top-level path the app serves, plugins' included.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "assets",
        "connexion",
        "deconnexion",
        "docs",
        "favicon.ico",
        "health",
        "invitation",
        "invitations",
        "login",
        "logout",
        "openapi",
        "robots.txt",
        "schema",
        "static",
        "territoires",
        "well-known",
    }
)


class TerritoryCreated(Event, frozen=True):
    name = "core.TerritoryCreated"
    journal_label = "Territoire créé"
    slug: Slug
    title: Name


class PluginEnabled(Event, frozen=True):
    name = "core.PluginEnabled"
    journal_label = "Module activé"
    plugin: str


class PluginDisabled(Event, frozen=True):
    name = "core.PluginDisabled"
    journal_label = "Module désactivé"
    plugin: str


EVENTS: list[type[Event]] = [TerritoryCreated, PluginEnabled, PluginDisabled]


class TerritoryError(ValueError):
    """A refused territory command; the message is for a person."""


class NotFound(LookupError):
    pass


def territory_stream(slug: str) -> UUID:
    """One stream per slug: creating the same slug twice is a version conflict."""
    return uuid5(NAMESPACE_URL, f"trame:territory:{slug}")


class Territories:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    def create(self, slug: str, title: str, *, author: str) -> None:
        if not re.match(SLUG, slug or ""):
            raise TerritoryError("L'identifiant du territoire doit faire 2 à 40 caractères : minuscules, chiffres et tirets.")
        if slug in RESERVED_SLUGS:
            raise TerritoryError(
                f"L'identifiant « {slug} » est réservé par Trame (il sert déjà à une adresse du site) : choisissez-en un autre."
            )
        if not title.strip():
            raise TerritoryError("Le nom du territoire est obligatoire.")
        if self.get(slug) is not None:
            raise TerritoryError(f"Le territoire « {slug} » existe déjà.")
        stream = territory_stream(slug)
        self.trame.execute(Context(author=author, territory=slug), Write(stream, 0, [TerritoryCreated(slug=slug, title=title.strip())]))

    def get(self, slug: str) -> dict[str, str] | None:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT slug, title, created_at FROM territories WHERE slug = ?", (slug,)).fetchone()
        return None if row is None else {"slug": row["slug"], "title": row["title"], "created_at": row["created_at"]}

    def all(self) -> list[dict[str, str]]:
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT slug, title, created_at FROM territories ORDER BY title").fetchall()
        return [{"slug": r["slug"], "title": r["title"], "created_at": r["created_at"]} for r in rows]

    def enabled_plugins(self, slug: str) -> set[str]:
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT plugin FROM territory_plugins WHERE territory = ?", (slug,)).fetchall()
        on = {r["plugin"] for r in rows if r["plugin"] in self.trame.catalog.info}
        return on | {i.name for i in self.trame.catalog.info.values() if i.always_on}

    def is_enabled(self, slug: str, plugin: str) -> bool:
        info = self.trame.catalog.info.get(plugin)
        if info is not None and info.always_on:
            return True
        with self.trame.db.read() as cur:
            return cur.scalar("SELECT 1 FROM territory_plugins WHERE territory = ? AND plugin = ?", (slug, plugin)) is not None

    def enable(self, slug: str, plugin: str, *, author: str, reason: str | None = None) -> bool:
        """Turn a plugin on; False if it already was. Refused if a plugin it needs is off."""
        info = self._optional(slug, plugin)
        enabled = self.enabled_plugins(slug)
        if plugin in enabled:
            return False
        missing = [n for n in info.needs if n not in enabled]
        if missing:
            titles = ", ".join(f"« {self.trame.catalog.info[n].title} » ({n})" for n in missing)
            raise TerritoryError(f"« {info.title} » a besoin de {titles} : activez-le d'abord.")
        self._append(slug, PluginEnabled(plugin=plugin), author, reason)
        return True

    def disable(self, slug: str, plugin: str, *, author: str, reason: str | None = None) -> bool:
        """Turn a plugin off; False if it already was. Refused while an enabled plugin needs it."""
        info = self._optional(slug, plugin)
        enabled = self.enabled_plugins(slug)
        if plugin not in enabled:
            return False
        dependants = [i.title for i in self.trame.catalog.info.values() if plugin in i.needs and i.name in enabled]
        if dependants:
            raise TerritoryError(f"« {info.title} » ne peut pas être désactivé : {', '.join(dependants)} en dépend.")
        self._append(slug, PluginDisabled(plugin=plugin), author, reason)
        return True

    def _optional(self, slug: str, plugin: str) -> PluginInfo:
        if self.get(slug) is None:
            raise NotFound(f"Le territoire « {slug} » n'existe pas.")
        info = self.trame.catalog.info.get(plugin)
        if info is None:
            raise NotFound(f"Aucun module « {plugin} » n'est installé.")
        if info.always_on:
            raise TerritoryError(f"« {info.title} » fait partie du socle et reste toujours actif.")
        return info

    def _append(self, slug: str, event: Event, author: str, reason: str | None) -> None:
        stream = territory_stream(slug)
        version = self.trame.store.version_of(stream)
        self.trame.execute(Context(author=author, territory=slug, reason=reason), Write(stream, version, [event]))
