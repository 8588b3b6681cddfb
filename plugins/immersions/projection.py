"""The immersions read model: programmes, participants, offers, requests, binômes and feedback.

Only this projection writes these tables; the service decides from the programme's stream
and reads here for pages, the API and the report.
"""

from __future__ import annotations

from core.database import Cursor
from core.erasure import TextsErased
from core.events import Recorded
from core.projection import Projection
from plugins.immersions import events as ev


class ImmersionsProjection(Projection):
    name = "immersions"
    version = 1
    topics = (*(e.name for e in ev.EVENTS), TextsErased.name)
    tables = (
        "immersions_programmes",
        "immersions_participants",
        "immersions_offers",
        "immersions_requests",
        "immersions_pairs",
        "immersions_feedback",
    )

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS immersions_programmes (programme_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "title TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, field_a TEXT NOT NULL, field_b TEXT NOT NULL, "
            "description TEXT, opened_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS immersions_programmes_territory ON immersions_programmes (territory, starts_on)",
            "CREATE TABLE IF NOT EXISTS immersions_participants (participant_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, structure_id TEXT NOT NULL, field TEXT NOT NULL, person_id TEXT, full_name TEXT, email TEXT, "
            "job TEXT, erased INTEGER NOT NULL DEFAULT 0, joined_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS immersions_participants_programme ON immersions_participants (programme_id)",
            "CREATE TABLE IF NOT EXISTS immersions_offers (offer_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "structure_id TEXT NOT NULL, host_participant_id TEXT NOT NULL, day TEXT NOT NULL, length TEXT NOT NULL, note TEXT, "
            "offered_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS immersions_offers_programme ON immersions_offers (programme_id, day)",
            "CREATE TABLE IF NOT EXISTS immersions_requests (request_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, participant_id TEXT NOT NULL, wish TEXT NOT NULL, note TEXT, requested_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS immersions_requests_programme ON immersions_requests (programme_id)",
            "CREATE TABLE IF NOT EXISTS immersions_pairs (pair_id TEXT PRIMARY KEY, programme_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "offer_id TEXT NOT NULL, request_id TEXT NOT NULL, meeting_id TEXT NOT NULL, status TEXT NOT NULL, "
            "host_answer TEXT, visitor_answer TEXT, host_comment TEXT, visitor_comment TEXT, host_digest TEXT, visitor_digest TEXT, "
            "held INTEGER NOT NULL DEFAULT 0, formed_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS immersions_pairs_programme ON immersions_pairs (programme_id)",
            "CREATE INDEX IF NOT EXISTS immersions_pairs_meeting ON immersions_pairs (meeting_id)",
            "CREATE INDEX IF NOT EXISTS immersions_pairs_host_digest ON immersions_pairs (host_digest)",
            "CREATE INDEX IF NOT EXISTS immersions_pairs_visitor_digest ON immersions_pairs (visitor_digest)",
            "CREATE TABLE IF NOT EXISTS immersions_feedback (pair_id TEXT NOT NULL, side TEXT NOT NULL, programme_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, expectations TEXT NOT NULL, convergences TEXT NOT NULL, obstacles TEXT NOT NULL, "
            "recommendations TEXT NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (pair_id, side))",
            "CREATE INDEX IF NOT EXISTS immersions_feedback_programme ON immersions_feedback (programme_id)",
        ]

    @staticmethod
    def _participants(cur: Cursor, rec: Recorded) -> bool:
        """The people of a programme (personal fields, blanked on erasure); False if not theirs."""
        e, t, at = rec.event, rec.territory, rec.recorded_at
        if isinstance(e, ev.ParticipantJoined):
            cur.execute(
                "INSERT INTO immersions_participants (participant_id, programme_id, territory, structure_id, field, person_id, "
                "full_name, email, job, erased, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    e.participant_id,
                    e.programme_id,
                    t,
                    e.structure_id,
                    e.field,
                    e.person_id,
                    e.full_name,
                    e.email,
                    e.job,
                    1 if rec.erased else 0,
                    at,
                ),
            )
        elif isinstance(e, ev.ParticipantErased):
            cur.execute(
                "UPDATE immersions_participants SET full_name = NULL, email = NULL, erased = 1 WHERE participant_id = ?",
                (e.participant_id,),
            )
        elif isinstance(e, TextsErased):  # a name typed here was a directory person's, now erased
            for start in range(0, len(e.text_ids), 500):
                chunk = e.text_ids[start : start + 500]
                cur.execute(
                    "UPDATE immersions_participants SET full_name = NULL, email = NULL, erased = 1 "
                    f"WHERE participant_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
        else:
            return False
        return True

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        if self._participants(cur, rec):
            return
        e, t, at = rec.event, rec.territory, rec.recorded_at
        if isinstance(e, ev.ProgrammeOpened):
            cur.execute(
                "INSERT INTO immersions_programmes (programme_id, territory, title, starts_on, ends_on, field_a, field_b, description, "
                "opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.programme_id, t, e.title, e.starts_on, e.ends_on, e.fields[0], e.fields[1], e.description, at),
            )
        elif isinstance(e, ev.SlotOffered):
            cur.execute(
                "INSERT INTO immersions_offers (offer_id, programme_id, territory, structure_id, host_participant_id, day, length, note, "
                "offered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.offer_id, e.programme_id, t, e.structure_id, e.host_participant_id, e.day, e.length, e.note, at),
            )
        elif isinstance(e, ev.SlotRequested):
            cur.execute(
                "INSERT INTO immersions_requests (request_id, programme_id, territory, participant_id, wish, note, requested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (e.request_id, e.programme_id, t, e.participant_id, e.wish, e.note, at),
            )
        elif isinstance(e, ev.PairFormed):
            cur.execute(
                "INSERT INTO immersions_pairs (pair_id, programme_id, territory, offer_id, request_id, meeting_id, status, formed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'formed', ?)",
                (e.pair_id, e.programme_id, t, e.offer_id, e.request_id, e.meeting_id, at),
            )
        elif isinstance(e, ev.PairLinksIssued):
            cur.execute(
                "UPDATE immersions_pairs SET host_digest = ?, visitor_digest = ? WHERE pair_id = ?",
                (e.host_digest, e.visitor_digest, e.pair_id),
            )
        elif isinstance(e, ev.PairAnswered):
            column = "host" if e.side == "host" else "visitor"
            cur.execute(
                f"UPDATE immersions_pairs SET {column}_answer = ?, {column}_comment = ? WHERE pair_id = ?",
                (e.answer, e.comment, e.pair_id),
            )
        elif isinstance(e, ev.PairCancelled):
            cur.execute(
                "UPDATE immersions_pairs SET status = 'cancelled', host_digest = NULL, visitor_digest = NULL WHERE pair_id = ?",
                (e.pair_id,),
            )
        elif isinstance(e, ev.ImmersionHeld):
            cur.execute("UPDATE immersions_pairs SET held = 1 WHERE pair_id = ?", (e.pair_id,))
        elif isinstance(e, ev.FeedbackGiven):
            cur.execute("DELETE FROM immersions_feedback WHERE pair_id = ? AND side = ?", (e.pair_id, e.side))
            cur.execute(
                "INSERT INTO immersions_feedback (pair_id, side, programme_id, territory, expectations, convergences, obstacles, "
                "recommendations, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.pair_id, e.side, e.programme_id, t, e.expectations, e.convergences, e.obstacles, e.recommendations, at),
            )
