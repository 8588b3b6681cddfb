"""The café read model: hosting offers, round-table entries (with a search column), newcomers,
and each café's capacity with its registrations and waiting list.

Registrations come from the meetings' own answers (``rencontres.InvitationAnswered``, through
each structure's answer link): a structure that says it comes takes a place in the order it
first said so, and keeps it when it answers again; one that declines frees it for the first
waiting. A replay gives the same order, since it follows the log."""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from core.text import fold
from plugins.cafe import events as ev

#: The meetings plugin's events this read model follows (read by name: the café imports only its public module).
SCHEDULED = "rencontres.MeetingScheduled"
ANSWERED = "rencontres.InvitationAnswered"
#: Answers that take a place: « je viens », « quelqu'un d'autre de ma structure viendra ».
COMING = ("coming", "someone_else")


class CafeProjection(Projection):
    name = "cafe"
    version = 3  # 2: round-table entries folded by core.text (ligatures spelt out); 3: capacity, registrations
    topics = (*(e.name for e in ev.EVENTS), SCHEDULED, ANSWERED)
    tables = ("cafe_hosts", "cafe_round_table", "cafe_newcomers", "cafe_capacity", "cafe_registrations")

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
            "CREATE TABLE IF NOT EXISTS cafe_capacity (meeting_id TEXT PRIMARY KEY, territory TEXT NOT NULL, capacity INTEGER)",
            "CREATE TABLE IF NOT EXISTS cafe_registrations (meeting_id TEXT NOT NULL, structure_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "since BIGINT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (meeting_id, structure_id))",
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
        elif rec.name == SCHEDULED:  # a meeting of the meetings plugin (its event, read as data): only cafés are kept
            scheduled = msgspec.to_builtins(e)
            if scheduled.get("plugin") == "cafe":
                cur.execute(
                    "INSERT INTO cafe_capacity (meeting_id, territory, capacity) VALUES (?, ?, NULL) ON CONFLICT (meeting_id) DO NOTHING",
                    (scheduled["meeting_id"], t),
                )
        elif isinstance(e, ev.CapacitySet):
            cur.execute("UPDATE cafe_capacity SET capacity = ? WHERE meeting_id = ?", (e.capacity, e.meeting_id))
            _allot(cur, e.meeting_id)
        elif rec.name == ANSWERED:
            answered = msgspec.to_builtins(e)
            meeting_id, structure_id, answer = answered["meeting_id"], answered["structure_id"], answered["answer"]
            if cur.scalar("SELECT 1 FROM cafe_capacity WHERE meeting_id = ?", (meeting_id,)) is None:
                return  # not a café
            if answer in COMING:
                cur.execute(
                    "INSERT INTO cafe_registrations (meeting_id, structure_id, territory, since, status) VALUES (?, ?, ?, ?, 'attente') "
                    "ON CONFLICT (meeting_id, structure_id) DO NOTHING",
                    (meeting_id, structure_id, t, rec.position),
                )
            else:
                cur.execute("DELETE FROM cafe_registrations WHERE meeting_id = ? AND structure_id = ?", (meeting_id, structure_id))
            _allot(cur, meeting_id)


def _allot(cur: Cursor, meeting_id: str) -> None:
    """The first ``capacity`` registrations (in the order they came) have a place, the rest wait."""
    capacity = cur.scalar("SELECT capacity FROM cafe_capacity WHERE meeting_id = ?", (meeting_id,))
    rows = cur.execute("SELECT structure_id, status FROM cafe_registrations WHERE meeting_id = ? ORDER BY since", (meeting_id,)).fetchall()
    for rank, row in enumerate(rows):
        status = "inscrit" if capacity is None or rank < int(capacity) else "attente"
        if row["status"] != status:
            cur.execute(
                "UPDATE cafe_registrations SET status = ? WHERE meeting_id = ? AND structure_id = ?",
                (status, meeting_id, row["structure_id"]),
            )
