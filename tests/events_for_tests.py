"""Small event types used by the core's tests, registered through a test-only plugin."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from core.database import Cursor
from core.events import Event, Recorded
from core.hookspecs import hookimpl
from core.plugins import PluginInfo
from core.projection import Projection


class NoteWritten(Event, frozen=True):
    """Version 2 renamed ``text`` to ``body`` and added ``tags``."""

    name = "essai.NoteWritten"
    class_version = 2
    body: Annotated[str, msgspec.Meta(min_length=1)]
    tags: list[str] = msgspec.field(default_factory=list)

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"body": data.pop("text"), "tags": [], **data}


class VisitorNoted(Event, frozen=True):
    """Version 2 renamed the personal field ``visitor_name`` to ``name_of_visitor``."""

    name = "essai.VisitorNoted"
    class_version = 2
    personal = ("name_of_visitor",)
    subject = "visitor_id"
    visitor_id: str
    name_of_visitor: str | None = None

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        data["name_of_visitor"] = data.pop("visitor_name", None)
        return data


class NotesProjection(Projection):
    """Counts notes per territory: an easy read model to compare between builds."""

    name = "essai.notes"
    topics = (NoteWritten.name,)
    tables = ("essai_notes",)

    def schema(self, dialect: str) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS essai_notes (position BIGINT PRIMARY KEY, territory TEXT NOT NULL, body TEXT NOT NULL)"]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        assert isinstance(rec.event, NoteWritten)
        cur.execute("INSERT INTO essai_notes (position, territory, body) VALUES (?, ?, ?)", (rec.position, rec.territory, rec.event.body))


class EssaiPlugin:
    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="essai", title="Essai", description="module de test")

    @hookimpl
    def register_events(self) -> list[type[Event]]:
        return [NoteWritten, VisitorNoted]

    @hookimpl
    def register_projections(self) -> list[Projection]:
        return [NotesProjection()]
