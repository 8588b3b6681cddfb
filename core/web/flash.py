"""One-shot results shown after a redirect (post/redirect/get).

A form whose success has something to show once (answer links issued, addresses to copy, an
invitation link) redirects to its page with a random key; the page takes the result by that
key, for the same account, and it is gone. A refresh then re-reads the page instead of posting
again. Results live in a plain table shared by every web worker, like sessions, and expire
after a few minutes: they may hold single-use links.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec

from core import clock
from core.database import Database

#: How long a result waits for its page.
KEPT_MINUTES = 15

DDL = [
    "CREATE TABLE IF NOT EXISTS web_flash (digest TEXT PRIMARY KEY, account_id TEXT NOT NULL, expires_at TEXT NOT NULL, "
    "payload TEXT NOT NULL)",
]

T = TypeVar("T")


def create_table(db: Database) -> None:
    """At app start, once (a table created by concurrent first requests races on PostgreSQL's catalog)."""
    with db.write() as cur:
        for stmt in DDL:
            cur.execute(stmt)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def put(db: Database, account_id: str, result: Any) -> str:
    """Keep ``result`` (anything msgspec encodes) for ``account_id``; the key to put in the redirect."""
    key = secrets.token_urlsafe(16)
    now = clock.now()
    expires = clock.instant(datetime.now(UTC) + timedelta(minutes=KEPT_MINUTES))
    with db.write() as cur:
        cur.execute("DELETE FROM web_flash WHERE expires_at < ?", (now,))
        cur.execute(
            "INSERT INTO web_flash (digest, account_id, expires_at, payload) VALUES (?, ?, ?, ?)",
            (_digest(key), account_id, expires, msgspec.json.encode(result).decode()),
        )
    return key


def take(db: Database, account_id: str, key: str | None, kind: type[T]) -> T | None:
    """The result kept under ``key`` for this account, removed; None when absent, expired or someone else's."""
    if not key:
        return None
    with db.write() as cur:
        row = cur.execute(
            "SELECT payload FROM web_flash WHERE digest = ? AND account_id = ? AND expires_at > ?", (_digest(key), account_id, clock.now())
        ).fetchone()
        cur.execute("DELETE FROM web_flash WHERE digest = ? AND account_id = ?", (_digest(key), account_id))
    if row is None:
        return None
    return msgspec.json.decode(row["payload"], type=kind)
