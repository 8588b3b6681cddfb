"""The café read model: hosting offers, round-table entries (with a search column), newcomers."""

from __future__ import annotations

import unicodedata

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from plugins.cafe import events as ev


def fold(text: str) -> str:
    """Lower case without accents, so that « sante » finds « Santé » on both databases."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


class CafeProjection(Projection):
    name = "cafe"
    version = 1
    topics = tuple(e.name for e in ev.EVENTS)
    tables = ("cafe_hosts", "cafe_round_table", "cafe_newcomers")

    def schema(self, dialect: str) -> list[str]:
        flag = "BOOLEAN" if dialect == "postgresql" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS cafe_hosts (territory TEXT NOT NULL, structure_id TEXT NOT NULL, willing {flag} NOT NULL, "
            f"has_room {flag} NOT NULL, note TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (territory, structure_id))",
            "CREATE TABLE IF NOT EXISTS cafe_round_table (territory TEXT NOT NULL, meeting_id TEXT NOT NULL, structure_id TEXT NOT NULL, "
            "news TEXT NOT NULL, search_text TEXT NOT NULL, recorded_at TEXT NOT NULL, author TEXT NOT NULL, "
            "PRIMARY KEY (meeting_id, structure_id))",
            "CREATE INDEX IF NOT EXISTS cafe_round_table_structure ON cafe_round_table (territory, structure_id)",
            "CREATE TABLE IF NOT EXISTS cafe_newcomers (newcomer_id TEXT PRIMARY KEY, territory TEXT NOT NULL, meeting_id TEXT NOT NULL, "
            "organisation TEXT NOT NULL, presentation TEXT NOT NULL, structure_id TEXT, presented_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS cafe_newcomers_meeting ON cafe_newcomers (territory, meeting_id)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e, t = rec.event, rec.territory
        if isinstance(e, ev.HostingOffered):
            cur.execute("DELETE FROM cafe_hosts WHERE territory = ? AND structure_id = ?", (t, e.structure_id))
            cur.execute(
                "INSERT INTO cafe_hosts (territory, structure_id, willing, has_room, note, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (t, e.structure_id, e.willing, e.has_room, e.note, rec.recorded_at),
            )
        elif isinstance(e, ev.RoundTableEntryRecorded):
            cur.execute("DELETE FROM cafe_round_table WHERE meeting_id = ? AND structure_id = ?", (e.meeting_id, e.structure_id))
            cur.execute(
                "INSERT INTO cafe_round_table (territory, meeting_id, structure_id, news, search_text, recorded_at, author) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (t, e.meeting_id, e.structure_id, e.news, fold(e.news), rec.recorded_at, rec.author),
            )
        elif isinstance(e, ev.NewcomerPresented):
            cur.execute(
                "INSERT INTO cafe_newcomers (newcomer_id, territory, meeting_id, organisation, presentation, presented_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (e.newcomer_id, t, e.meeting_id, e.organisation, e.presentation, rec.recorded_at),
            )
        elif isinstance(e, ev.NewcomerRegistered):
            cur.execute("UPDATE cafe_newcomers SET structure_id = ? WHERE newcomer_id = ?", (e.structure_id, e.newcomer_id))
