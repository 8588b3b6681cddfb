"""Crypto-shredding: per-person keys that make personal fields erasable in an immutable log.

Each person (a directory contact, an account) gets a random AES-256-GCM key. Event
payloads hold their personal fields only encrypted with it; erasing the person
deletes the key, after which those fields decrypt to nothing anywhere they were
stored: the log, exports and backups made afterwards.

Free text may name a person too (« Karima viendra »): such text is sealed under its own
key, and erasing a person erases the texts that name them (:func:`erase_free_text`).
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core import clock
from core.database import Cursor, Database
from core.events import Event
from core.text import fold

if TYPE_CHECKING:
    from core.application import Trame

PREFIX = "enc1:"
DDL = "CREATE TABLE IF NOT EXISTS subject_keys (subject_id TEXT PRIMARY KEY, key_b64 TEXT NOT NULL)"
#: The erasure register: who was erased and when, nothing else (subject ids are random UUIDs, no
#: personal data). ``trame export`` writes it first; ``trame import`` drops the keys it names, so
#: that a backup taken before an erasure cannot bring the person back.
REGISTER_DDL = "CREATE TABLE IF NOT EXISTS erasure_register (subject_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL)"
_REGISTER = (
    "INSERT INTO erasure_register (subject_id, erased_at) VALUES (?, ?) "
    "ON CONFLICT (subject_id) DO UPDATE SET erased_at = excluded.erased_at WHERE excluded.erased_at < erasure_register.erased_at"
)


class SubjectKeys:
    """The key table, with encryption and decryption of personal fields."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.write() as cur:
            cur.execute(DDL)
            cur.execute(REGISTER_DDL)

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
        """Delete the key and record the erasure in the register, in one transaction."""
        with self.db.write() as cur:
            cur.execute("DELETE FROM subject_keys WHERE subject_id = ?", (subject_id,))
            cur.execute(_REGISTER, (subject_id, clock.now()))

    def register(self) -> list[tuple[str, str]]:
        """The erasure register: (subject id, erased at), oldest first."""
        with self.db.read() as cur:
            rows = cur.execute("SELECT subject_id, erased_at FROM erasure_register ORDER BY erased_at, subject_id").fetchall()
        return [(r["subject_id"], r["erased_at"]) for r in rows]

    def honour(self, erasures: Iterable[tuple[str, str]]) -> int:
        """Record erasures made elsewhere (a newer register) and delete the keys they name: how
        many of those keys were here. Events sealed with them decrypt to nothing from now on."""
        entries = list(erasures)
        dropped = 0
        with self.db.write() as cur:
            for start in range(0, len(entries), 500):
                chunk = entries[start : start + 500]
                cur.executemany(_REGISTER, chunk)
                ids = [subject for subject, _ in chunk]
                marks = ",".join("?" * len(chunk))
                dropped += int(cur.scalar(f"SELECT COUNT(*) FROM subject_keys WHERE subject_id IN ({marks})", ids) or 0)
                cur.execute(f"DELETE FROM subject_keys WHERE subject_id IN ({marks})", ids)
        return dropped

    def export(self) -> list[tuple[str, str]]:
        with self.db.read() as cur:
            return [
                (r["subject_id"], r["key_b64"])
                for r in cur.execute("SELECT subject_id, key_b64 FROM subject_keys ORDER BY subject_id").fetchall()
            ]

    def restore(self, subject_id: str, key_b64: str) -> bool:
        """Put back an exported key, unless the register says the person was erased: False then."""
        with self.db.write() as cur:
            if cur.scalar("SELECT 1 FROM erasure_register WHERE subject_id = ?", (subject_id,)):
                return False
            cur.execute(
                "INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, key_b64),
            )
        return True


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


# -- free text that names an erased person ---------------------------------------------------
class TextsErased(Event, frozen=True, kw_only=True):
    """Free texts that named an erased person (comments, guests' names), each sealed under its
    own key: projections blank their copies, then the keys are shredded."""

    name = "core.TextsErased"
    journal_label = "Textes libres effacés avec une personne"
    subject_id: str  # the person erased
    text_ids: list[str]  # the erasure subjects of the texts that named them


EVENTS: list[type[Event]] = [TextsErased]

#: Parts of a name too common to identify anyone on their own.
_PARTICLES = frozenset({"de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "da", "di", "el", "al", "ben", "mme", "m"})


def _name_parts(name: str) -> set[str]:
    return {part for part in re.split(r"[\s'’-]+", fold(name or "")) if len(part) >= 3 and part not in _PARTICLES}


def names_in(text: str | None, names: Iterable[str], *, whole: bool = False) -> bool:
    """Whether ``text`` names one of ``names``: contains, as a whole word, a part of it (a first
    name or a surname, case and accents ignored), or with ``whole`` every part of it (for a
    field that holds a name: « Karima Dupont » is not « Karima Belkacem »). Erasure errs on the
    side of forgetting: a comment that names another « Karima » goes too."""
    if not text:
        return False
    words = set(re.findall(r"[^\W_]+", fold(text)))
    for name in names:
        parts = _name_parts(name)
        if parts and (parts <= words if whole else not parts.isdisjoint(words)):
            return True
    return False


def erase_free_text(
    trame: Trame, *, territory: str, subject_id: str, names: Sequence[str], author: str, reason: str | None = None
) -> list[str]:
    """Before a person's key is shredded: ask every plugin (hook ``subject_erased``) which of its
    free texts name them, record one ``core.TextsErased`` listing those texts, bring the
    projections that consume it up to date (they blank their copies), then shred each text's
    key, so that neither the log nor a rebuild can show them again. Returns the texts' subjects.
    The caller scrubs the database files afterwards (:meth:`core.database.Database.scrub_free_space`)."""
    from core.commands import run  # core.commands imports the store, which imports this module
    from core.store import Context

    wanted = [n for n in (name.strip() for name in names if name) if n]
    if not wanted:
        return []
    found = trame.pm.hook.subject_erased(trame=trame, territory=territory, subject_id=subject_id, names=wanted)
    text_ids = sorted({text_id for answer in found for text_id in answer} - {subject_id})
    if not text_ids:
        return []
    stream = uuid.uuid5(uuid.NAMESPACE_URL, f"trame:erasure:{subject_id}")
    run(
        trame,
        Context(author=author, territory=territory, reason=reason),
        [stream],
        lambda _history: {stream: [TextsErased(subject_id=subject_id, text_ids=text_ids)]},
    )
    trame.runner.catch_up([p.name for p in trame.runner.projections.values() if p.consumes(TextsErased.name)])
    for text_id in text_ids:
        trame.keys.shred(text_id)
    return text_ids
