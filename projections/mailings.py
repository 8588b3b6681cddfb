"""The mailings queue and its log: one row per mailing, one per recipient with its state.

The sender (:func:`core.mailings.send_due`) reads the recipients whose turn has come
(``status = 'pending' AND next_attempt_at <= now``, an index seek); pages read the log. An
erased person's address is scrubbed here when the directory records the erasure.
"""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.mailings import DeliveryRecorded, MailingQueued, PersonalRecipientQueued, PersonUnsubscribed
from core.projection import Projection

#: The directory's erasure event, read by name (the core imports no plugin).
PERSON_ERASED = "annuaire.PersonErased"


class MailingsProjection(Projection):
    name = "mailings"
    topics = (MailingQueued.name, PersonalRecipientQueued.name, DeliveryRecorded.name, PersonUnsubscribed.name, PERSON_ERASED)
    tables = ("mailings", "mailing_recipients", "mailing_unsubscriptions")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS mailings (mailing_id TEXT PRIMARY KEY, territory TEXT NOT NULL, list_key TEXT NOT NULL, "
            "list_label TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, attachments TEXT NOT NULL, "
            "author TEXT NOT NULL, queued_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS mailing_recipients (recipient_id TEXT PRIMARY KEY, mailing_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, structure_id TEXT NOT NULL, person_id TEXT, address TEXT, status TEXT NOT NULL, "
            "attempts INTEGER NOT NULL, detail TEXT, next_attempt_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS mailing_recipients_due ON mailing_recipients (status, next_attempt_at)",
            "CREATE INDEX IF NOT EXISTS mailing_recipients_person ON mailing_recipients (person_id)",
            "CREATE TABLE IF NOT EXISTS mailing_unsubscriptions (territory TEXT NOT NULL, list_key TEXT NOT NULL, "
            "person_id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (territory, list_key, person_id))",
        ]

    def indexes(self, dialect: str) -> list[str]:
        return [
            "CREATE INDEX IF NOT EXISTS mailings_territory ON mailings (territory, queued_at)",
            "CREATE INDEX IF NOT EXISTS mailing_recipients_mailing ON mailing_recipients (mailing_id, status)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, MailingQueued):
            cur.execute(
                "INSERT INTO mailings (mailing_id, territory, list_key, list_label, title, body, attachments, author, queued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    e.mailing_id,
                    rec.territory,
                    e.list_key,
                    e.list_label,
                    e.title,
                    e.body,
                    msgspec.json.encode(e.attachments).decode(),
                    rec.author,
                    rec.recorded_at,
                ),
            )
            cur.executemany(
                "INSERT INTO mailing_recipients (recipient_id, mailing_id, territory, structure_id, person_id, address, status, "
                "attempts, detail, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, 'pending', 0, NULL, ?, ?)",
                [
                    (r.recipient_id, e.mailing_id, rec.territory, r.structure_id, r.address, rec.recorded_at, rec.recorded_at)
                    for r in e.recipients
                ],
            )
        elif isinstance(e, PersonalRecipientQueued):
            cur.execute(
                "INSERT INTO mailing_recipients (recipient_id, mailing_id, territory, structure_id, person_id, address, status, "
                "attempts, detail, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, NULL, ?, ?)",
                (e.recipient_id, e.mailing_id, rec.territory, e.structure_id, e.person_id, e.address, rec.recorded_at, rec.recorded_at),
            )
        elif isinstance(e, DeliveryRecorded):
            status = "pending" if e.outcome == "deferred" else e.outcome
            cur.execute(
                "UPDATE mailing_recipients SET status = ?, attempts = ?, detail = ?, next_attempt_at = ?, updated_at = ? "
                "WHERE recipient_id = ?",
                (status, e.attempt, e.detail, e.retry_at or rec.recorded_at, rec.recorded_at, e.recipient_id),
            )
        elif isinstance(e, PersonUnsubscribed):
            cur.execute(
                "INSERT INTO mailing_unsubscriptions (territory, list_key, person_id, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (rec.territory, e.list_key, e.person_id, rec.recorded_at),
            )
        elif rec.name == PERSON_ERASED:
            cur.execute("UPDATE mailing_recipients SET address = NULL WHERE person_id = ?", (getattr(e, "person_id", None),))
