"""The glossary read model: each term as it is now, and each change with its author and reason."""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from core.text import collation_key, fold
from plugins.lexique import events as ev

FIELDS = ("expansion", "definition", "structure_id", "national")
_encode = msgspec.json.encode


class LexiqueProjection(Projection):
    name = "lexique"
    version = 1
    topics = tuple(e.name for e in ev.EVENTS)
    tables = ("lexique_terms", "lexique_history", "lexique_adoptions")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS lexique_terms (term_id TEXT PRIMARY KEY, territory TEXT NOT NULL, term TEXT NOT NULL, "
            "sort_key TEXT NOT NULL, search_text TEXT NOT NULL, expansion TEXT NOT NULL, definition TEXT NOT NULL, "
            "structure_id TEXT, national INTEGER NOT NULL, active INTEGER NOT NULL, version INTEGER NOT NULL, "
            "added_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS lexique_terms_territory ON lexique_terms (territory, active, sort_key)",
            "CREATE TABLE IF NOT EXISTS lexique_history (position BIGINT PRIMARY KEY, territory TEXT NOT NULL, "
            "term_id TEXT NOT NULL, event TEXT NOT NULL, label TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "reason TEXT, changes TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS lexique_history_term ON lexique_history (term_id, position)",
            "CREATE TABLE IF NOT EXISTS lexique_adoptions (position BIGINT PRIMARY KEY, territory TEXT NOT NULL, "
            "list_version TEXT NOT NULL, added INTEGER NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, reason TEXT)",
            "CREATE INDEX IF NOT EXISTS lexique_adoptions_territory ON lexique_adoptions (territory)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e, t = rec.event, rec.territory
        if isinstance(e, ev.StarterListAdopted):
            cur.execute(
                "INSERT INTO lexique_adoptions (position, territory, list_version, added, author, recorded_at, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rec.position, t, e.list_version, e.added, rec.author, rec.recorded_at, rec.reason),
            )
            return
        if not isinstance(e, ev.TermAdded | ev.TermAmended | ev.TermWithdrawn):
            return
        row = cur.execute(
            "SELECT term, expansion, definition, structure_id, national, active FROM lexique_terms WHERE term_id = ?", (e.term_id,)
        ).fetchone()
        before = {f: (bool(row[f]) if f == "national" else row[f]) for f in FIELDS} if row is not None and row["active"] else {}
        changes: list[tuple[str, object, object]] = []
        if isinstance(e, ev.TermAdded):
            after = {f: getattr(e, f) for f in FIELDS}
            changes = [("term", None, e.term)] + [(f, before.get(f), v) for f, v in after.items() if v not in (None, "", False)]
            values = (e.term, collation_key(e.term)[0], fold(f"{e.term} {e.expansion} {e.definition}"), e.expansion, e.definition)
            cur.execute("DELETE FROM lexique_terms WHERE term_id = ?", (e.term_id,))
            cur.execute(
                "INSERT INTO lexique_terms (term_id, territory, term, sort_key, search_text, expansion, definition, structure_id, "
                "national, active, version, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                (e.term_id, t, *values, e.structure_id, int(e.national), rec.version, rec.recorded_at, rec.recorded_at),
            )
        elif isinstance(e, ev.TermAmended) and row is not None:
            after = {f: getattr(e, f) for f in FIELDS}
            changes = [(f, before.get(f), v) for f, v in after.items() if before.get(f) != v]
            cur.execute(
                "UPDATE lexique_terms SET expansion = ?, definition = ?, structure_id = ?, national = ?, search_text = ?, version = ?, "
                "updated_at = ? WHERE term_id = ?",
                (
                    e.expansion,
                    e.definition,
                    e.structure_id,
                    int(e.national),
                    fold(f"{row['term']} {e.expansion} {e.definition}"),
                    rec.version,
                    rec.recorded_at,
                    e.term_id,
                ),
            )
        elif isinstance(e, ev.TermWithdrawn):
            cur.execute(
                "UPDATE lexique_terms SET active = 0, version = ?, updated_at = ? WHERE term_id = ?",
                (rec.version, rec.recorded_at, e.term_id),
            )
        cur.execute(
            "INSERT INTO lexique_history (position, territory, term_id, event, label, author, recorded_at, reason, changes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.position, t, e.term_id, e.name, type(e).journal_label, rec.author, rec.recorded_at, rec.reason, _encode(changes).decode()),
        )
