"""The journal: every event with its envelope, for the audit views (personal fields left out)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection

#: Never shown, even hashed: token digests.
SECRETS = ("digest",)


class JournalProjection(Projection):
    name = "journal"
    tables = ("journal",)

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS journal (position BIGINT PRIMARY KEY, territory TEXT NOT NULL, "
            "stream_id TEXT NOT NULL, "
            "event TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, effective TEXT NOT NULL, "
            "reason TEXT, data TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS journal_territory ON journal (territory, recorded_at)",
            "CREATE INDEX IF NOT EXISTS journal_stream ON journal (stream_id, position)",
            "CREATE INDEX IF NOT EXISTS journal_author ON journal (territory, author, recorded_at)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        cur.executemany(
            "INSERT INTO journal (position, territory, stream_id, event, author, recorded_at, effective, reason, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    rec.position,
                    rec.territory,
                    str(rec.stream_id),
                    rec.name,
                    rec.author,
                    rec.recorded_at,
                    rec.effective,
                    rec.reason,
                    _public_data(rec),
                )
                for rec in records
            ],
        )


def _public_data(rec: Recorded) -> str:
    """The payload without personal fields or secrets, as JSON."""
    data = msgspec.to_builtins(rec.event)
    for field in (*type(rec.event).personal, *SECRETS):
        data.pop(field, None)
    return msgspec.json.encode(data).decode()
