"""The charter read model: charters, their versions, signatures over time, polls, cycles, evaluations.

Signatures form an interval table in valid time (``signed_on`` <= day < ``ended_on``)
with the recording instants of both ends, so that "who had signed on 2011-01-01?" is
one indexed range, also "as known at" an earlier moment (``known_at``). Status changes
are kept as a history by the day they take effect, so that the charter read "as of" a
past day shows the status it had then, not today's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import msgspec

from core.clock import FOREVER
from core.database import Cursor
from core.erasure import TextsErased
from core.events import Recorded
from core.projection import Projection
from plugins.charte import events as ev

_json = msgspec.json.encode
OPEN_DAY = "9999-12-31"  # the open end of a signature or an invitation (valid time, days)

TABLES = (
    "charte_charters",
    "charte_statuses",
    "charte_versions",
    "charte_signatures",
    "charte_invited",
    "charte_polls",
    "charte_votes",
    "charte_poll_links",
    "charte_cycles",
    "charte_presenters",
    "charte_evaluations",
)


class CharterProjection(Projection):
    name = "charte"
    version = 3  # 2: status history (charte_statuses); 3: voting links (charte_poll_links)
    topics = (*(e.name for e in ev.EVENTS), TextsErased.name)
    tables = TABLES

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS charte_charters (charter_id TEXT PRIMARY KEY, territory TEXT NOT NULL, title TEXT NOT NULL, "
            "form TEXT NOT NULL, carrier_structure_id TEXT NOT NULL, status TEXT NOT NULL, status_on TEXT, status_reason TEXT, "
            "latest_version INTEGER NOT NULL, adopted_version INTEGER, adopted_on TEXT, drafted_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS charte_charters_territory ON charte_charters (territory, title)",
            "CREATE TABLE IF NOT EXISTS charte_statuses (charter_id TEXT NOT NULL, position BIGINT NOT NULL, territory TEXT NOT NULL, "
            "on_day TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (charter_id, position))",
            "CREATE TABLE IF NOT EXISTS charte_versions (charter_id TEXT NOT NULL, version_no INTEGER NOT NULL, title TEXT NOT NULL, "
            "preamble TEXT NOT NULL, commitments TEXT NOT NULL, adopted_on TEXT, recorded_at TEXT NOT NULL, author TEXT NOT NULL, "
            "PRIMARY KEY (charter_id, version_no))",
            "CREATE TABLE IF NOT EXISTS charte_signatures (signature_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "charter_id TEXT NOT NULL, structure_id TEXT NOT NULL, version_no INTEGER NOT NULL, signatory_id TEXT NOT NULL, "
            "signatory_name TEXT, signatory_role TEXT NOT NULL, signed_on TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "ended_on TEXT NOT NULL, end_kind TEXT, end_reason TEXT, end_recorded_at TEXT NOT NULL, adaptation TEXT, "
            "channel TEXT NOT NULL, document_ref TEXT, author TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS charte_signatures_when ON charte_signatures (charter_id, signed_on, ended_on)",
            "CREATE INDEX IF NOT EXISTS charte_signatures_structure ON charte_signatures (territory, structure_id, signed_on)",
            "CREATE TABLE IF NOT EXISTS charte_invited (charter_id TEXT NOT NULL, structure_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "since TEXT NOT NULL, until TEXT NOT NULL, note TEXT, PRIMARY KEY (charter_id, structure_id, since))",
            "CREATE TABLE IF NOT EXISTS charte_polls (poll_id TEXT PRIMARY KEY, territory TEXT NOT NULL, charter_id TEXT NOT NULL, "
            "question TEXT NOT NULL, slots TEXT NOT NULL, status TEXT NOT NULL, adopted_slot_id TEXT, adopted_votes INTEGER, "
            "opened_at TEXT NOT NULL, adopted_at TEXT)",
            "CREATE INDEX IF NOT EXISTS charte_polls_charter ON charte_polls (charter_id, opened_at)",
            "CREATE TABLE IF NOT EXISTS charte_poll_links (poll_id TEXT NOT NULL, structure_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "digest TEXT NOT NULL UNIQUE, issued_at TEXT NOT NULL, PRIMARY KEY (poll_id, structure_id))",
            "CREATE TABLE IF NOT EXISTS charte_votes (poll_id TEXT NOT NULL, structure_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "slot_ids TEXT NOT NULL, voted_at TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (poll_id, structure_id))",
            "CREATE TABLE IF NOT EXISTS charte_cycles (charter_id TEXT NOT NULL, series_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "rule TEXT NOT NULL, first_day TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL, poll_id TEXT, "
            "planned_at TEXT NOT NULL, PRIMARY KEY (charter_id, series_id))",
            "CREATE TABLE IF NOT EXISTS charte_presenters (meeting_id TEXT PRIMARY KEY, charter_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, structure_id TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS charte_evaluations (charter_id TEXT NOT NULL, year INTEGER NOT NULL, territory TEXT NOT NULL, "
            "what_works TEXT NOT NULL, obstacles TEXT NOT NULL, steering TEXT NOT NULL, communication TEXT NOT NULL, "
            "public_feedback TEXT NOT NULL, evolution TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "PRIMARY KEY (charter_id, year))",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        handler = self._handlers.get(type(rec.event))
        if handler is not None:
            handler(cur, rec, rec.event, rec.territory)

    @cached_property
    def _handlers(self) -> dict[type, Callable[[Cursor, Recorded, Any, str], None]]:
        """Each topic's handler (one per event class: what each event does to the tables)."""
        return {
            ev.CharterDrafted: self._charter_drafted,
            ev.CharterRevised: self._charter_revised,
            ev.VersionAdopted: self._version_adopted,
            ev.CharterStatusChanged: self._charter_status_changed,
            ev.CharterSigned: self._charter_signed,
            ev.SignatureWithdrawn: self._signature_withdrawn,
            ev.SignatoryErased: self._signatory_erased,
            TextsErased: self._texts_erased,
            ev.PartnerInvited: self._partner_invited,
            ev.PartnerInvitationEnded: self._partner_invitation_ended,
            ev.PollOpened: self._poll_opened,
            ev.PollVoted: self._poll_voted,
            ev.PollLinkIssued: self._poll_link_issued,
            ev.PollAdopted: self._poll_adopted,
            ev.CyclePlanned: self._cycle_planned,
            ev.PresenterChosen: self._presenter_chosen,
            ev.EvaluationWritten: self._evaluation_written,
        }

    def _charter_drafted(self, cur: Cursor, rec: Recorded, e: ev.CharterDrafted, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_charters (charter_id, territory, title, form, carrier_structure_id, status, latest_version, "
            "drafted_at) VALUES (?, ?, ?, ?, ?, 'draft', 1, ?) ON CONFLICT (charter_id) DO NOTHING",
            (e.charter_id, t, e.title, e.form, e.carrier_structure_id, rec.recorded_at),
        )
        self._version(cur, e.charter_id, 1, e.title, e.preamble, e.commitments, rec)

    def _charter_revised(self, cur: Cursor, rec: Recorded, e: ev.CharterRevised, t: str) -> None:
        cur.execute("UPDATE charte_charters SET latest_version = ? WHERE charter_id = ?", (e.version_no, e.charter_id))
        self._version(cur, e.charter_id, e.version_no, e.title, e.preamble, e.commitments, rec)

    def _version_adopted(self, cur: Cursor, rec: Recorded, e: ev.VersionAdopted, t: str) -> None:
        cur.execute(
            "UPDATE charte_versions SET adopted_on = ? WHERE charter_id = ? AND version_no = ?",
            (e.adopted_on, e.charter_id, e.version_no),
        )
        title = cur.scalar("SELECT title FROM charte_versions WHERE charter_id = ? AND version_no = ?", (e.charter_id, e.version_no))
        cur.execute(
            "UPDATE charte_charters SET adopted_version = ?, adopted_on = ?, title = ?, "
            "status = CASE WHEN status = 'draft' THEN 'active' ELSE status END WHERE charter_id = ?",
            (e.version_no, e.adopted_on, title, e.charter_id),
        )

    def _charter_status_changed(self, cur: Cursor, rec: Recorded, e: ev.CharterStatusChanged, t: str) -> None:
        cur.execute(
            "UPDATE charte_charters SET status = ?, status_on = ?, status_reason = ? WHERE charter_id = ?",
            (e.status, e.on, e.reason, e.charter_id),
        )
        cur.execute(
            "INSERT INTO charte_statuses (charter_id, position, territory, on_day, status, reason, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (charter_id, position) DO NOTHING",
            (e.charter_id, rec.position, t, e.on, e.status, e.reason, rec.recorded_at),
        )

    def _charter_signed(self, cur: Cursor, rec: Recorded, e: ev.CharterSigned, t: str) -> None:
        if e.replaces:
            self._end(cur, e.replaces, e.signed_on, "replaced", None, rec.recorded_at)
        cur.execute(
            "INSERT INTO charte_signatures (signature_id, territory, charter_id, structure_id, version_no, signatory_id, "
            "signatory_name, signatory_role, signed_on, recorded_at, ended_on, end_recorded_at, adaptation, channel, "
            "document_ref, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signature_id) DO NOTHING",
            (
                e.signature_id,
                t,
                e.charter_id,
                e.structure_id,
                e.version_no,
                e.signatory_id,
                e.signatory_name,
                e.signatory_role,
                e.signed_on,
                rec.recorded_at,
                OPEN_DAY,
                FOREVER,
                e.adaptation,
                e.channel,
                e.document_ref,
                rec.author,
            ),
        )

    def _signature_withdrawn(self, cur: Cursor, rec: Recorded, e: ev.SignatureWithdrawn, t: str) -> None:
        self._end(cur, e.signature_id, e.withdrawn_on, "withdrawn", e.reason, rec.recorded_at)

    def _signatory_erased(self, cur: Cursor, rec: Recorded, e: ev.SignatoryErased, t: str) -> None:
        cur.execute("UPDATE charte_signatures SET signatory_name = NULL WHERE signature_id = ?", (e.signature_id,))

    def _texts_erased(self, cur: Cursor, rec: Recorded, e: TextsErased, t: str) -> None:
        """a signatory who was a directory person, now erased"""
        for start in range(0, len(e.text_ids), 500):
            chunk = e.text_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur.execute(f"UPDATE charte_signatures SET signatory_name = NULL WHERE signatory_id IN ({marks})", chunk)

    def _partner_invited(self, cur: Cursor, rec: Recorded, e: ev.PartnerInvited, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_invited (charter_id, structure_id, territory, since, until, note) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (charter_id, structure_id, since) DO UPDATE SET until = excluded.until, note = excluded.note",
            (e.charter_id, e.structure_id, t, e.since, OPEN_DAY, e.note),
        )

    def _partner_invitation_ended(self, cur: Cursor, rec: Recorded, e: ev.PartnerInvitationEnded, t: str) -> None:
        cur.execute(
            "UPDATE charte_invited SET until = ? WHERE charter_id = ? AND structure_id = ? AND until = ?",
            (e.until, e.charter_id, e.structure_id, OPEN_DAY),
        )

    def _poll_opened(self, cur: Cursor, rec: Recorded, e: ev.PollOpened, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_polls (poll_id, territory, charter_id, question, slots, status, opened_at) "
            "VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (poll_id) DO NOTHING",
            (e.poll_id, t, e.charter_id, e.question, _json(e.slots).decode(), rec.recorded_at),
        )

    def _poll_voted(self, cur: Cursor, rec: Recorded, e: ev.PollVoted, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_votes (poll_id, structure_id, territory, slot_ids, voted_at, position) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (poll_id, structure_id) DO UPDATE SET slot_ids = excluded.slot_ids, voted_at = excluded.voted_at, "
            "position = excluded.position",
            (e.poll_id, e.structure_id, t, _json(e.slot_ids).decode(), rec.recorded_at, rec.position),
        )

    def _poll_link_issued(self, cur: Cursor, rec: Recorded, e: ev.PollLinkIssued, t: str) -> None:
        cur.execute("DELETE FROM charte_poll_links WHERE poll_id = ? AND structure_id = ?", (e.poll_id, e.structure_id))
        cur.execute(
            "INSERT INTO charte_poll_links (poll_id, structure_id, territory, digest, issued_at) VALUES (?, ?, ?, ?, ?)",
            (e.poll_id, e.structure_id, t, e.digest, rec.recorded_at),
        )

    def _poll_adopted(self, cur: Cursor, rec: Recorded, e: ev.PollAdopted, t: str) -> None:
        cur.execute(
            "UPDATE charte_polls SET status = 'adopted', adopted_slot_id = ?, adopted_votes = ?, adopted_at = ? WHERE poll_id = ?",
            (e.slot_id, e.votes, rec.recorded_at, e.poll_id),
        )

    def _cycle_planned(self, cur: Cursor, rec: Recorded, e: ev.CyclePlanned, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_cycles (charter_id, series_id, territory, rule, first_day, start_time, end_time, poll_id, planned_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (charter_id, series_id) DO NOTHING",
            (e.charter_id, e.series_id, t, e.rule, e.first_day, e.start, e.end, e.poll_id, rec.recorded_at),
        )

    def _presenter_chosen(self, cur: Cursor, rec: Recorded, e: ev.PresenterChosen, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_presenters (meeting_id, charter_id, territory, structure_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (meeting_id) DO UPDATE SET structure_id = excluded.structure_id",
            (e.meeting_id, e.charter_id, t, e.structure_id),
        )

    def _evaluation_written(self, cur: Cursor, rec: Recorded, e: ev.EvaluationWritten, t: str) -> None:
        cur.execute(
            "INSERT INTO charte_evaluations (charter_id, year, territory, what_works, obstacles, steering, communication, "
            "public_feedback, evolution, author, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (charter_id, year) DO UPDATE SET what_works = excluded.what_works, obstacles = excluded.obstacles, "
            "steering = excluded.steering, communication = excluded.communication, public_feedback = excluded.public_feedback, "
            "evolution = excluded.evolution, author = excluded.author, recorded_at = excluded.recorded_at",
            (
                e.charter_id,
                e.year,
                t,
                e.what_works,
                e.obstacles,
                e.steering,
                e.communication,
                e.public_feedback,
                e.evolution,
                rec.author,
                rec.recorded_at,
            ),
        )

    @staticmethod
    def _version(cur: Cursor, charter_id: str, no: int, title: str, preamble: str, commitments: list[str], rec: Recorded) -> None:
        cur.execute(
            "INSERT INTO charte_versions (charter_id, version_no, title, preamble, commitments, recorded_at, author) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (charter_id, version_no) DO NOTHING",
            (charter_id, no, title, preamble, _json(commitments).decode(), rec.recorded_at, rec.author),
        )

    @staticmethod
    def _end(cur: Cursor, signature_id: str, day: str, kind: str, reason: str | None, recorded_at: str) -> None:
        cur.execute(
            "UPDATE charte_signatures SET ended_on = ?, end_kind = ?, end_reason = ?, end_recorded_at = ? "
            "WHERE signature_id = ? AND ended_on = ?",
            (day, kind, reason, recorded_at, signature_id, OPEN_DAY),
        )
