"""The application object: the store, the plugins, the projections, the core services.

Web handlers and CLI commands call its services; nothing else writes events, and only
projections write read models.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import ModuleType

import pluggy

from core import accounts, erasure, territories
from core.accounts import Accounts
from core.database import Database, open_database
from core.erasure import SubjectKeys
from core.events import Event, EventRegistry, Recorded
from core.plugins import PluginCatalog, get_plugin_manager
from core.projection import Projection, ProjectionRunner
from core.settings import Settings
from core.store import Context, EventStore, Write
from core.territories import Territories

log = logging.getLogger(__name__)


class Trame:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: Iterable[ModuleType | object] = (),
        entry_points: bool = True,
        db: Database | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.db = db or open_database(self.settings.database_url)
        self.pm: pluggy.PluginManager = get_plugin_manager(plugins, entry_points=entry_points)
        self.catalog = PluginCatalog(self.pm)
        self.registry = EventRegistry()
        self.registry.register(*territories.EVENTS, *accounts.EVENTS, *erasure.EVENTS)
        for classes in self.pm.hook.register_events():
            self.registry.register(*classes)
        self.keys = SubjectKeys(self.db)
        self.store = EventStore(self.db, self.registry, self.keys)
        # pluggy calls the last registered first: reversed, the core's come first, then the plugins'.
        projections: list[Projection] = [p for extra in reversed(self.pm.hook.register_projections()) for p in extra]
        self.runner = ProjectionRunner(self.db, self.store, projections, batch=self.settings.projection_batch)
        self.runner.setup()
        self.territories = Territories(self)
        self.accounts = Accounts(self)

    def execute(self, ctx: Context, *writes: Write) -> list[Recorded]:
        """Append one command's events and project them in the same transaction: the
        command commits with its read models (its author reads it at once) or not at all."""
        prepared = self.store.prepare(ctx, *writes)
        with self.db.write() as cur:
            recorded = self.store.insert(cur, prepared)
            if self.settings.project_inline:
                self.runner.project_inline(cur, recorded)
        return recorded

    def events(self) -> list[type[Event]]:
        return [self.registry.type_of(n) for n in self.registry.names()]

    def close(self) -> None:
        self.db.close()
