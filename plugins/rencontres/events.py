"""What happens to meetings, as immutable facts (``rencontres.*``).

Meetings are written in local time (a day, a start and an end, plus the zone name)
because partners agree on "Friday 9:00", not on an UTC instant: 9:00 stays 9:00
across a daylight-saving change. Secrets never enter the log: an answer link is
kept only as the SHA-256 ``digest`` of its token (the journal drops that field).
The people helped by the network never appear here: no field may hold their names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Time = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Answer = Literal["coming", "not_coming", "someone_else"]
Presence = Literal["present", "excused", "absent"]


class Place(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where: a structure of the directory (its address copied), free text, or an online link."""

    kind: Literal["structure", "text", "online"]
    structure_id: str | None = None
    text: Short | None = None
    url: Short | None = None


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Short
    body: Text = ""


class SeriesPlanned(Event, frozen=True, kw_only=True):
    """A recurrence (RFC 5545 RRULE) whose occurrences were scheduled as meetings."""

    name = "rencontres.SeriesPlanned"
    journal_label = "Série de rencontres programmée"
    series_id: Id
    plugin: Id
    title: Short
    rule: Short
    first_day: Day
    start: Time
    end: Time
    timezone: Short = "Europe/Paris"
    place: Place


class MeetingScheduled(Event, frozen=True, kw_only=True):
    name = "rencontres.MeetingScheduled"
    journal_label = "Rencontre programmée"
    meeting_id: Id
    plugin: Id  # the plugin the meeting belongs to ("rencontres", "cafe", ...): per-plugin feeds
    kind: Short = "reunion"
    series_id: str | None = None
    title: Short
    day: Day
    start: Time
    end: Time
    timezone: Short = "Europe/Paris"
    place: Place
    host_structure_id: str | None = None
    theme: Short | None = None
    description: Text | None = None
    holiday: Short | None = None  # the public holiday the day falls on, if any
    proposed_day: Day | None = None  # then: a working day proposed instead


class MeetingRescheduled(Event, frozen=True, kw_only=True):
    name = "rencontres.MeetingRescheduled"
    journal_label = "Rencontre déplacée"
    meeting_id: Id
    day: Day
    start: Time
    end: Time
    place: Place | None = None  # None: unchanged
    host_structure_id: str | None = None
    holiday: Short | None = None
    proposed_day: Day | None = None


class MeetingCancelled(Event, frozen=True, kw_only=True):
    name = "rencontres.MeetingCancelled"
    journal_label = "Rencontre annulée"
    meeting_id: Id


class StructureInvited(Event, frozen=True, kw_only=True):
    """One answer link per invited structure; only the digest of its token is kept."""

    name = "rencontres.StructureInvited"
    journal_label = "Structure invitée à une rencontre"
    meeting_id: Id
    invitation_id: Id
    structure_id: Id
    digest: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    person_ids: list[str] = msgspec.field(default_factory=list)  # directory contacts invited by name


class InvitationAnswered(Event, frozen=True, kw_only=True):
    """A structure's answer. Its free-text ``comment`` may name someone (« Karima viendra »):
    since v2 it is sealed under its own key ``comment_id``, erased with the person it names
    (``core.TextsErased``). v1 comments were stored as typed."""

    name = "rencontres.InvitationAnswered"
    journal_label = "Réponse à une invitation"
    class_version = 2
    personal = ("comment",)
    subject = "comment_id"
    meeting_id: Id
    invitation_id: Id
    structure_id: Id
    answer: Answer
    comment: Short | None = None
    comment_id: str | None = None  # the erasure subject of the comment

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "comment_id": None}  # a v1 comment has no key: it stays as typed


class AttendanceRecorded(Event, frozen=True, kw_only=True):
    """Present or excused, per structure and, optionally, per directory person (by id only).

    A later record of the same structure and person corrects an earlier one; ``absent``
    withdraws it.
    """

    name = "rencontres.AttendanceRecorded"
    journal_label = "Présence enregistrée"
    meeting_id: Id
    structure_id: Id
    status: Presence
    person_id: str | None = None


class GuestAttendanceRecorded(Event, frozen=True, kw_only=True):
    """The same for a professional who is not in the directory, named here: the name is
    personal data, encrypted under the key of a fresh ``person_id`` and erasable."""

    name = "rencontres.GuestAttendanceRecorded"
    journal_label = "Présence d'un invité enregistrée"
    personal = ("person_name",)
    subject = "person_id"
    meeting_id: Id
    structure_id: Id
    status: Presence
    person_id: Id
    person_name: Short | None


class MinutesWritten(Event, frozen=True, kw_only=True):
    """The whole minutes as saved; a new save supersedes (never edits) the previous one."""

    name = "rencontres.MinutesWritten"
    journal_label = "Compte rendu rédigé"
    meeting_id: Id
    sections: list[Section] = msgspec.field(default_factory=list)
    decisions: list[Short] = msgspec.field(default_factory=list)
    next_meeting: Short | None = None
    next_meeting_id: str | None = None


class MinutesPublished(Event, frozen=True, kw_only=True):
    name = "rencontres.MinutesPublished"
    journal_label = "Compte rendu diffusé"
    meeting_id: Id
    recipients: int = 0


class ActionOpened(Event, frozen=True, kw_only=True):
    """A follow-up action ("suite à donner"); it shows at the next meetings until closed."""

    name = "rencontres.ActionOpened"
    journal_label = "Suite à donner ajoutée"
    action_id: Id
    meeting_id: Id
    title: Short
    owner_structure_id: str | None = None
    due: Day | None = None


class ActionClosed(Event, frozen=True, kw_only=True):
    name = "rencontres.ActionClosed"
    journal_label = "Suite à donner clôturée"
    action_id: Id
    meeting_id: str | None = None  # the meeting at which it was closed, if any
    note: Short | None = None


class FeedTokenIssued(Event, frozen=True, kw_only=True):
    """A new secret for the territory's calendar feed; the previous one stops working."""

    name = "rencontres.FeedTokenIssued"
    journal_label = "Lien de l'agenda en ligne renouvelé"
    digest: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


EVENTS: list[type[Event]] = [
    SeriesPlanned,
    MeetingScheduled,
    MeetingRescheduled,
    MeetingCancelled,
    StructureInvited,
    InvitationAnswered,
    AttendanceRecorded,
    GuestAttendanceRecorded,
    MinutesWritten,
    MinutesPublished,
    ActionOpened,
    ActionClosed,
    FeedTokenIssued,
]
