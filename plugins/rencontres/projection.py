"""The meetings read model: series, meetings, invitations, attendance, minutes, actions, feed secrets.

Rows are keyed so that replaying the log gives the same tables (a later record of the
same thing replaces the earlier one). Local day and time are kept as written, next to
the UTC instant used to sort and to filter by period.
"""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.erasure import TextsErased
from core.events import Recorded
from core.projection import Projection
from plugins.rencontres import events as ev
from plugins.rencontres.recurrence import local_instant

_json = msgspec.json.encode

TABLES = (
    "rencontres_series",
    "rencontres_meetings",
    "rencontres_invitations",
    "rencontres_attendance",
    "rencontres_minutes",
    "rencontres_actions",
    "rencontres_feeds",
)


def _place_columns(place: ev.Place) -> tuple[str, str | None, str | None, str | None]:
    return (place.kind, place.structure_id, place.text, place.url)


class MeetingsProjection(Projection):
    name = "rencontres"
    version = 2  # v2: comment_id on invitations (comments erasable with a person they name)
    topics = (*(e.name for e in ev.EVENTS), TextsErased.name)
    tables = TABLES

    def schema(self, dialect: str) -> list[str]:
        # Same portable types on both: TEXT for ids, JSON and fixed-width instants; INTEGER counters.
        counter = "INTEGER"
        return [
            "CREATE TABLE IF NOT EXISTS rencontres_series (series_id TEXT PRIMARY KEY, territory TEXT NOT NULL, plugin TEXT NOT NULL, "
            "title TEXT NOT NULL, rule TEXT NOT NULL, first_day TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL, "
            "timezone TEXT NOT NULL, place TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS rencontres_series_territory ON rencontres_series (territory, plugin)",
            "CREATE TABLE IF NOT EXISTS rencontres_meetings (meeting_id TEXT PRIMARY KEY, territory TEXT NOT NULL, plugin TEXT NOT NULL, "
            "kind TEXT NOT NULL, series_id TEXT, title TEXT NOT NULL, day TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL, "
            "timezone TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, place_kind TEXT NOT NULL, place_structure_id TEXT, "
            "place_text TEXT, place_url TEXT, host_structure_id TEXT, theme TEXT, description TEXT, holiday TEXT, proposed_day TEXT, "
            f"status TEXT NOT NULL, sequence {counter} NOT NULL, scheduled_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS rencontres_meetings_when ON rencontres_meetings (territory, plugin, starts_at)",
            "CREATE INDEX IF NOT EXISTS rencontres_meetings_series ON rencontres_meetings (series_id, starts_at)",
            "CREATE INDEX IF NOT EXISTS rencontres_meetings_host ON rencontres_meetings (territory, host_structure_id)",
            "CREATE TABLE IF NOT EXISTS rencontres_invitations (invitation_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "meeting_id TEXT NOT NULL, structure_id TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, person_ids TEXT NOT NULL, "
            "invited_at TEXT NOT NULL, answer TEXT, comment TEXT, comment_id TEXT, answered_at TEXT)",
            "CREATE INDEX IF NOT EXISTS rencontres_invitations_meeting ON rencontres_invitations (meeting_id, structure_id)",
            "CREATE TABLE IF NOT EXISTS rencontres_attendance (territory TEXT NOT NULL, meeting_id TEXT NOT NULL, "
            "structure_id TEXT NOT NULL, person_key TEXT NOT NULL, person_id TEXT, person_name TEXT, status TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, "
            "PRIMARY KEY (meeting_id, structure_id, person_key))",
            "CREATE INDEX IF NOT EXISTS rencontres_attendance_structure ON rencontres_attendance (territory, structure_id, status)",
            "CREATE TABLE IF NOT EXISTS rencontres_minutes (meeting_id TEXT PRIMARY KEY, territory TEXT NOT NULL, sections TEXT NOT NULL, "
            "decisions TEXT NOT NULL, next_meeting TEXT, next_meeting_id TEXT, written_at TEXT NOT NULL, author TEXT NOT NULL, "
            f"revision {counter} NOT NULL, published_at TEXT, published_revision {counter})",
            "CREATE TABLE IF NOT EXISTS rencontres_actions (action_id TEXT PRIMARY KEY, territory TEXT NOT NULL, meeting_id TEXT NOT NULL, "
            "title TEXT NOT NULL, owner_structure_id TEXT, due TEXT, status TEXT NOT NULL, opened_at TEXT NOT NULL, "
            "closed_at TEXT, closed_meeting_id TEXT, note TEXT)",
            "CREATE INDEX IF NOT EXISTS rencontres_actions_open ON rencontres_actions (territory, status)",
            "CREATE TABLE IF NOT EXISTS rencontres_feeds (territory TEXT PRIMARY KEY, digest TEXT NOT NULL, issued_at TEXT NOT NULL)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, ev.SeriesPlanned | ev.MeetingScheduled | ev.MeetingRescheduled | ev.MeetingCancelled):
            _meeting(cur, rec)
        elif isinstance(e, ev.StructureInvited | ev.InvitationAnswered | TextsErased | ev.AttendanceRecorded | ev.GuestAttendanceRecorded):
            _who(cur, rec)
        else:
            _after(cur, rec)


def _meeting(cur: Cursor, rec: Recorded) -> None:
    """Series and meetings: scheduled, moved, cancelled."""
    e, t = rec.event, rec.territory
    if isinstance(e, ev.SeriesPlanned):
        cur.execute(
            "INSERT INTO rencontres_series (series_id, territory, plugin, title, rule, first_day, start_time, end_time, "
            "timezone, place) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.series_id, t, e.plugin, e.title, e.rule, e.first_day, e.start, e.end, e.timezone, _json(e.place).decode()),
        )
    elif isinstance(e, ev.MeetingScheduled):
        cur.execute(
            "INSERT INTO rencontres_meetings (meeting_id, territory, plugin, kind, series_id, title, day, start_time, "
            "end_time, timezone, starts_at, ends_at, place_kind, place_structure_id, place_text, place_url, host_structure_id, "
            "theme, description, holiday, proposed_day, status, sequence, scheduled_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', 0, ?, ?)",
            (
                e.meeting_id,
                t,
                e.plugin,
                e.kind,
                e.series_id,
                e.title,
                e.day,
                e.start,
                e.end,
                e.timezone,
                local_instant(e.day, e.start, e.timezone),
                local_instant(e.day, e.end, e.timezone),
                *_place_columns(e.place),
                e.host_structure_id,
                e.theme,
                e.description,
                e.holiday,
                e.proposed_day,
                rec.recorded_at,
                rec.recorded_at,
            ),
        )
    elif isinstance(e, ev.MeetingRescheduled):
        zone = cur.scalar("SELECT timezone FROM rencontres_meetings WHERE meeting_id = ?", (e.meeting_id,)) or "Europe/Paris"
        cur.execute(
            "UPDATE rencontres_meetings SET day = ?, start_time = ?, end_time = ?, starts_at = ?, ends_at = ?, holiday = ?, "
            "proposed_day = ?, sequence = sequence + 1, updated_at = ? WHERE meeting_id = ?",
            (
                e.day,
                e.start,
                e.end,
                local_instant(e.day, e.start, zone),
                local_instant(e.day, e.end, zone),
                e.holiday,
                e.proposed_day,
                rec.recorded_at,
                e.meeting_id,
            ),
        )
        if e.place is not None:
            cur.execute(
                "UPDATE rencontres_meetings SET place_kind = ?, place_structure_id = ?, place_text = ?, place_url = ?, "
                "host_structure_id = ? WHERE meeting_id = ?",
                (*_place_columns(e.place), e.host_structure_id, e.meeting_id),
            )
    elif isinstance(e, ev.MeetingCancelled):
        cur.execute(
            "UPDATE rencontres_meetings SET status = 'cancelled', sequence = sequence + 1, updated_at = ? WHERE meeting_id = ?",
            (rec.recorded_at, e.meeting_id),
        )


def _who(cur: Cursor, rec: Recorded) -> None:
    """Invitations, answers, attendance, and the erasure of the names they hold."""
    e, t = rec.event, rec.territory
    if isinstance(e, ev.StructureInvited):
        cur.execute(
            "INSERT INTO rencontres_invitations (invitation_id, territory, meeting_id, structure_id, digest, person_ids, invited_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.invitation_id, t, e.meeting_id, e.structure_id, e.digest, _json(e.person_ids).decode(), rec.recorded_at),
        )
    elif isinstance(e, ev.InvitationAnswered):
        cur.execute(
            "UPDATE rencontres_invitations SET answer = ?, comment = ?, comment_id = ?, answered_at = ? WHERE invitation_id = ?",
            (e.answer, e.comment, e.comment_id, rec.recorded_at, e.invitation_id),
        )
    elif isinstance(e, TextsErased):
        for start in range(0, len(e.text_ids), 500):
            chunk = e.text_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur.execute(f"UPDATE rencontres_invitations SET comment = NULL WHERE comment_id IN ({marks})", chunk)
            cur.execute(f"UPDATE rencontres_attendance SET person_name = NULL WHERE person_id IN ({marks})", chunk)
    elif isinstance(e, ev.AttendanceRecorded | ev.GuestAttendanceRecorded):
        key = e.person_id or ""
        name = e.person_name if isinstance(e, ev.GuestAttendanceRecorded) else None
        cur.execute(
            "DELETE FROM rencontres_attendance WHERE meeting_id = ? AND structure_id = ? AND person_key = ?",
            (e.meeting_id, e.structure_id, key),
        )
        if e.status != "absent":
            cur.execute(
                "INSERT INTO rencontres_attendance (territory, meeting_id, structure_id, person_key, person_id, person_name, status, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (t, e.meeting_id, e.structure_id, key, e.person_id, name, e.status, rec.recorded_at),
            )


def _after(cur: Cursor, rec: Recorded) -> None:
    """Minutes, their publication, follow-up actions, the feed secret."""
    e, t = rec.event, rec.territory
    if isinstance(e, ev.MinutesWritten):
        before = cur.execute(
            "SELECT revision, published_at, published_revision FROM rencontres_minutes WHERE meeting_id = ?", (e.meeting_id,)
        ).fetchone()
        revision = (before["revision"] if before else 0) + 1
        cur.execute("DELETE FROM rencontres_minutes WHERE meeting_id = ?", (e.meeting_id,))
        cur.execute(
            "INSERT INTO rencontres_minutes (meeting_id, territory, sections, decisions, next_meeting, next_meeting_id, written_at, "
            "author, revision, published_at, published_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.meeting_id,
                t,
                _json(e.sections).decode(),
                _json(e.decisions).decode(),
                e.next_meeting,
                e.next_meeting_id,
                rec.recorded_at,
                rec.author,
                revision,
                before["published_at"] if before else None,
                before["published_revision"] if before else None,
            ),
        )
    elif isinstance(e, ev.MinutesPublished):
        cur.execute(
            "UPDATE rencontres_minutes SET published_at = ?, published_revision = revision WHERE meeting_id = ?",
            (rec.recorded_at, e.meeting_id),
        )
    elif isinstance(e, ev.ActionOpened):
        cur.execute(
            "INSERT INTO rencontres_actions (action_id, territory, meeting_id, title, owner_structure_id, due, status, opened_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
            (e.action_id, t, e.meeting_id, e.title, e.owner_structure_id, e.due, rec.recorded_at),
        )
    elif isinstance(e, ev.ActionClosed):
        cur.execute(
            "UPDATE rencontres_actions SET status = 'closed', closed_at = ?, closed_meeting_id = ?, note = ? WHERE action_id = ?",
            (rec.recorded_at, e.meeting_id, e.note, e.action_id),
        )
    elif isinstance(e, ev.FeedTokenIssued):
        cur.execute("DELETE FROM rencontres_feeds WHERE territory = ?", (t,))
        cur.execute("INSERT INTO rencontres_feeds (territory, digest, issued_at) VALUES (?, ?, ?)", (t, e.digest, rec.recorded_at))
