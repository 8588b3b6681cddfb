"""Crypto-shredding: per-person keys that make personal fields erasable in an immutable log.

Each person (a directory contact, an account) gets a random AES-256-GCM key. Event
payloads hold their personal fields only encrypted with it; erasing the person
deletes the key, after which those fields decrypt to nothing anywhere they were
stored: the log, exports and backups made afterwards.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.database import Cursor, Database
from core.events import Event

PREFIX = "enc1:"
DDL = "CREATE TABLE IF NOT EXISTS subject_keys (subject_id TEXT PRIMARY KEY, key_b64 TEXT NOT NULL)"


class SubjectKeys:
    """The key table, with encryption and decryption of personal fields."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.write() as cur:
            cur.execute(DDL)

    def _get(self, cur: Cursor, subject_id: str) -> bytes | None:
        value = cur.scalar("SELECT key_b64 FROM subject_keys WHERE subject_id = ?", (subject_id,))
        return None if value is None else base64.b64decode(value)

    def key_for(self, subject_id: str) -> bytes:
        """The subject's key, created on first use."""
        with self.db.read() as cur:
            key = self._get(cur, subject_id)
        if key is not None:
            return key
        key = AESGCM.generate_key(bit_length=256)
        with self.db.write() as cur:
            cur.execute(
                "INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, base64.b64encode(key).decode()),
            )
            stored = self._get(cur, subject_id)
        if stored is None:
            raise LookupError(f"the personal data of {subject_id} has been erased and cannot be written again")
        return stored

    def lookup(self, subject_ids: set[str], cur: Cursor | None = None) -> dict[str, bytes]:
        """Keys of those subjects that still have one (erased subjects are absent); in
        ``cur``'s transaction when given, so that a projection batch needs no second connection."""
        if not subject_ids:
            return {}
        if cur is None:
            with self.db.read() as own:
                return self.lookup(subject_ids, own)
        found: dict[str, bytes] = {}
        ids = sorted(subject_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in cur.execute(f"SELECT subject_id, key_b64 FROM subject_keys WHERE subject_id IN ({marks})", chunk).fetchall():
                found[row["subject_id"]] = base64.b64decode(row["key_b64"])
        return found

    def shred(self, subject_id: str) -> None:
        with self.db.write() as cur:
            cur.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject_id,))

    def export(self) -> list[tuple[str, str]]:
        with self.db.read() as cur:
            return [
                (r["subject_id"], r["key_b64"])
                for r in cur.execute("SELECT subject_id, key_b64 FROM subject_keys ORDER BY subject_id").fetchall()
            ]

    def restore(self, subject_id: str, key_b64: str) -> None:
        with self.db.write() as cur:
            cur.execute(
                "INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, key_b64),
            )


def subject_of(event_type: type[Event], data: dict[str, Any]) -> str | None:
    if not event_type.personal or event_type.subject is None:
        return None
    value = data.get(event_type.subject)
    return None if value is None else str(value)


def seal(key: bytes, subject_id: str, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Encrypt the personal fields of a payload dict in place."""
    aead = AESGCM(key)
    for field in fields:
        value = data.get(field)
        if value is None:
            continue
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, str(value).encode(), subject_id.encode())
        data[field] = PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes | None, subject_id: str, data: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Decrypt in place; without a key the fields become None. False when erased."""
    if key is None:
        for field in fields:
            if data.get(field) is not None:
                data[field] = None
        return False
    aead = AESGCM(key)
    intact = True
    for field in fields:
        value = data.get(field)
        if isinstance(value, str) and value.startswith(PREFIX):
            blob = base64.b64decode(value[len(PREFIX) :])
            try:
                data[field] = aead.decrypt(blob[:12], blob[12:], subject_id.encode()).decode()
            except InvalidTag:  # sealed with a key shredded since: erased
                data[field] = None
                intact = False
    return intact
