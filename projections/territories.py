"""Territories and, per territory, the plugins switched on."""

from __future__ import annotations

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from core.territories import PluginDisabled, PluginEnabled, TerritoryCreated


class TerritoriesProjection(Projection):
    name = "territories"
    topics = (TerritoryCreated.name, PluginEnabled.name, PluginDisabled.name)
    tables = ("territories", "territory_plugins")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS territories (slug TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS territory_plugins (territory TEXT NOT NULL, plugin TEXT NOT NULL, "
            "enabled_at TEXT NOT NULL, PRIMARY KEY (territory, plugin))",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, TerritoryCreated):
            cur.execute("INSERT INTO territories (slug, title, created_at) VALUES (?, ?, ?)", (e.slug, e.title, rec.recorded_at))
        elif isinstance(e, PluginEnabled):
            cur.execute(
                "INSERT INTO territory_plugins (territory, plugin, enabled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (rec.territory, e.plugin, rec.recorded_at),
            )
        elif isinstance(e, PluginDisabled):
            cur.execute("DELETE FROM territory_plugins WHERE territory = ? AND plugin = ?", (rec.territory, e.plugin))
