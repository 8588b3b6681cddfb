"""Territories and the plugins each one enables: the core's first aggregate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core.commands import History, run
from core.events import Event
from core.plugins import PluginInfo
from core.refusals import absent, invalid
from core.store import Context

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


def territory_stream(slug: str) -> UUID:
    """One stream per slug: creating the same slug twice is a version conflict."""
    return uuid5(NAMESPACE_URL, f"trame:territory:{slug}")


class Territories:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    def create(self, slug: str, title: str, *, author: str) -> None:
        if not re.match(SLUG, slug or ""):
            raise invalid("L'identifiant du territoire doit faire 2 à 40 caractères : minuscules, chiffres et tirets.")
        if slug in RESERVED_SLUGS:
            raise invalid(f"L'identifiant « {slug} » est réservé par Trame (il sert déjà à une adresse du site) : choisissez-en un autre.")
        if not title.strip():
            raise invalid("Le nom du territoire est obligatoire.")
        stream = territory_stream(slug)

        def decide(history: History) -> dict[UUID, list[Event]]:
            if history.exists(stream):
                raise invalid(f"Le territoire « {slug} » existe déjà.")
            return {stream: [TerritoryCreated(slug=slug, title=title.strip())]}

        run(self.trame, Context(author=author, territory=slug), [stream], decide)

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
        return self._switch(slug, plugin, True, author, reason)

    def disable(self, slug: str, plugin: str, *, author: str, reason: str | None = None) -> bool:
        """Turn a plugin off; False if it already was. Refused while an enabled plugin needs it."""
        return self._switch(slug, plugin, False, author, reason)

    def _switch(self, slug: str, plugin: str, on: bool, author: str, reason: str | None) -> bool:
        """Decided on the territory's stream: two coordinators switching modules at once cannot
        leave a module on without what it needs."""
        info = self._optional(slug, plugin)
        catalog = self.trame.catalog.info
        stream = territory_stream(slug)
        switched: list[Event] = []

        def decide(history: History) -> dict[UUID, list[Event]]:
            enabled = {i.name for i in catalog.values() if i.always_on}
            for r in history.of(stream):
                if isinstance(r.event, PluginEnabled | PluginDisabled) and r.event.plugin in catalog:
                    (enabled.add if isinstance(r.event, PluginEnabled) else enabled.discard)(r.event.plugin)
            switched.clear()
            if (plugin in enabled) == on:
                return {}
            if on:
                missing = [n for n in info.needs if n not in enabled]
                if missing:
                    titles = ", ".join(f"« {catalog[n].title} » ({n})" for n in missing)
                    raise invalid(f"« {info.title} » a besoin de {titles} : activez-le d'abord.")
            else:
                dependants = [i.title for i in catalog.values() if plugin in i.needs and i.name in enabled]
                if dependants:
                    raise invalid(f"« {info.title} » ne peut pas être désactivé : {', '.join(dependants)} en dépend.")
            switched.append(PluginEnabled(plugin=plugin) if on else PluginDisabled(plugin=plugin))
            return {stream: list(switched)}

        run(self.trame, Context(author=author, territory=slug, reason=reason), [stream], decide)
        return bool(switched)

    def _optional(self, slug: str, plugin: str) -> PluginInfo:
        if self.get(slug) is None:
            raise absent(f"Le territoire « {slug} » n'existe pas.")
        info = self.trame.catalog.info.get(plugin)
        if info is None:
            raise absent(f"Aucun module « {plugin} » n'est installé.")
        if info.always_on:
            raise invalid(f"« {info.title} » fait partie du socle et reste toujours actif.")
        return info
