"""Browser sessions: operational state, not domain history (login throttling is in ``throttle.py``).

Sessions live in a plain table (shared by every web worker) keyed by the SHA-256 of a
random cookie value; a new id is issued at each login, so a session fixed before
login is worthless after it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from core import clock
from core.database import Database

SESSION_DAYS = 7

DDL = [
    "CREATE TABLE IF NOT EXISTS web_sessions (digest TEXT PRIMARY KEY, account_id TEXT NOT NULL, expires_at TEXT NOT NULL)",
    "DROP TABLE IF EXISTS login_failures",  # the old per-key counter, replaced by throttle.py
]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Sessions:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.write() as cur:
            for stmt in DDL:
                cur.execute(stmt)

    def open(self, account_id: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = clock.instant(datetime.now(UTC) + timedelta(days=SESSION_DAYS))
        with self.db.write() as cur:
            cur.execute("DELETE FROM web_sessions WHERE expires_at < ?", (clock.now(),))
            cur.execute("INSERT INTO web_sessions (digest, account_id, expires_at) VALUES (?, ?, ?)", (_digest(token), account_id, expires))
        return token

    def account_of(self, token: str) -> str | None:
        with self.db.read() as cur:
            value = cur.scalar("SELECT account_id FROM web_sessions WHERE digest = ? AND expires_at > ?", (_digest(token), clock.now()))
        return None if value is None else str(value)

    def close(self, token: str) -> None:
        with self.db.write() as cur:
            cur.execute("DELETE FROM web_sessions WHERE digest = ?", (_digest(token),))
