"""The JSON shapes of the meetings API (documented in OpenAPI under the tag « rencontres »)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from core.web.hygiene import Clock, Day, OptionalDay

Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]


class PlaceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["structure", "text", "online"]
    structure_id: str | None = None
    text: Short | None = None
    url: Short | None = None


class ScheduleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One meeting, or a series when ``preset`` or ``rule`` is given (with ``until`` or ``count``)."""

    title: Short
    day: Day  # the (first) day, local time
    start: Clock = "09:00"
    end: Clock = "10:30"
    place: PlaceIn
    preset: Literal["", "mensuel", "bimestriel-hors-ete", "hebdomadaire"] = ""
    rule: Short | None = None  # an RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=+1FR
    until: OptionalDay | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None
    kind: Short = "reunion"
    theme: Short | None = None
    description: Text | None = None


class MeetingOut(msgspec.Struct, kw_only=True):
    id: str
    plugin: str
    kind: str
    series_id: str | None
    title: str
    day: str
    start: str
    end: str
    timezone: str
    starts_at: str
    place_kind: str
    place: str
    place_structure_id: str | None
    place_url: str | None
    host_structure_id: str | None
    theme: str | None
    status: Literal["scheduled", "cancelled"]
    sequence: int
    holiday: str | None
    proposed_day: str | None
    uid: str


class ScheduledOut(msgspec.Struct):
    series_id: str | None
    meetings: list[MeetingOut]


class RescheduleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    day: Day
    start: Clock
    end: Clock
    place: PlaceIn | None = None
    reason: Short | None = None


class CancelIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Short | None = None


class InviteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_ids: list[str]
    person_ids: dict[str, list[str]] = msgspec.field(default_factory=dict)


class LinkOut(msgspec.Struct):
    structure_id: str
    structure_name: str
    url: str  # shown once: only a digest is stored
    addresses: list[str]
    sent: bool


class DeliveryOut(msgspec.Struct):
    sent_to: list[str]
    to_copy: list[str]
    links: list[LinkOut]


class AnswerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: str
    structure_id: str
    answer: Literal["coming", "not_coming", "someone_else"]
    comment: Short | None = None


class MyAnswerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answer: Literal["coming", "not_coming", "someone_else"]
    comment: Short | None = None


class InvitationOut(msgspec.Struct):
    structure_id: str
    invited_at: str
    answer: str | None
    comment: str | None
    answered_at: str | None


class AttendanceEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    status: Literal["present", "excused", "absent"]
    person_id: str | None = None
    person_name: Short | None = None  # a professional, never a person helped


class AttendanceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    entries: list[AttendanceEntry]


class AttendanceOut(msgspec.Struct):
    structure_id: str
    person_id: str | None
    person_name: str | None
    status: str


class SectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Short
    body: Text = ""


class MinutesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Minutes hold no name of a person helped (secret partagé): situations are discussed anonymously."""

    sections: list[SectionIn] = msgspec.field(default_factory=list)
    decisions: list[Short] = msgspec.field(default_factory=list)
    next_meeting: Short | None = None
    next_meeting_id: str | None = None


class MinutesOut(msgspec.Struct):
    sections: list[dict[str, Any]]
    decisions: list[str]
    next_meeting: str | None
    next_meeting_id: str | None
    revision: int
    written_at: str
    published_at: str | None


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Short
    owner_structure_id: str | None = None
    due: str | None = None


class CloseActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    meeting_id: str | None = None
    note: Short | None = None


class ActionOut(msgspec.Struct):
    id: str
    meeting_id: str
    title: str
    owner_structure_id: str | None
    due: str | None
    status: str
    closed_meeting_id: str | None


class MeetingDetailOut(msgspec.Struct):
    meeting: MeetingOut
    invitations: list[InvitationOut]
    attendance: list[AttendanceOut]
    minutes: MinutesOut | None
    actions: list[ActionOut]
    carried_over: list[ActionOut]


class FeedTokenOut(msgspec.Struct):
    url: str
    plugin_urls: dict[str, str]


class MeetingFigureOut(msgspec.Struct):
    meeting_id: str
    day: str
    title: str
    invited: int
    present: int
    excused: int
    rate: float | None


class StructureFigureOut(msgspec.Struct):
    structure_id: str
    name: str
    expected: int
    present: int
    excused: int
    rate: float | None


class FiguresOut(msgspec.Struct):
    since: str
    until: str
    overall_rate: float | None
    meetings: list[MeetingFigureOut]
    structures: list[StructureFigureOut]
    never_seen: list[str]
    newcomers: list[str]
