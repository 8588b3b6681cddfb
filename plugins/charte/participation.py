"""Participation in a charter's meetings, read from the meetings plugin: one source of truth.

Attendance is recorded once, on the meeting's page of ``rencontres`` (or by its service);
the charter only restricts the meetings plugin's figures to its own cycles and adds what
a charter is about: which partners signed, the signatories who never come, the partners
invited to join. So the charter page, the evaluation report, the meeting page and the
territory's participation page always give the same count for the same meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plugins.charte import links

if TYPE_CHECKING:
    from plugins.charte.service import Charters


@dataclass
class MeetingFigure:
    meeting_id: str
    day: str
    title: str
    expected: int  # invited, or came without an invitation
    present: int
    excused: int
    recorded: bool = True  # attendance entered; a meeting without it is nobody's absence

    @property
    def rate(self) -> float | None:
        return None if not self.expected or not self.recorded else self.present / self.expected


@dataclass
class PartnerFigure:
    structure_id: str
    name: str
    expected: int
    present: int
    signatory: bool
    excused: int = 0

    @property
    def rate(self) -> float | None:
        return None if not self.expected else self.present / self.expected


@dataclass
class Participation:
    since: str
    until: str
    meetings: list[MeetingFigure] = field(default_factory=list)
    partners: list[PartnerFigure] = field(default_factory=list)
    never_came: list[str] = field(default_factory=list)  # signatories expected at least once, never present
    invited_not_signed: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Present / expected over the meetings whose attendance was entered (Joigny reported 70 %)."""
        counted = [m for m in self.meetings if m.recorded]
        expected = sum(m.expected for m in counted)
        return None if not expected else sum(m.present for m in counted) / expected

    @property
    def unrecorded(self) -> list[MeetingFigure]:
        return [m for m in self.meetings if not m.recorded]


def compute(svc: Charters, territory: str, charter_id: str, since: str, until: str) -> Participation:
    """The charter's figures over a period: the meetings plugin's, restricted to the charter's cycles."""
    series = [c["series_id"] for c in svc.cycles(territory, charter_id)]
    figures = links.participation(svc.trame, territory, since, until, series)
    out = Participation(since=since, until=until)
    out.meetings = [MeetingFigure(m.meeting_id, m.day, m.title, m.invited, m.present, m.excused, m.recorded) for m in figures.meetings]
    signed = {s["structure_id"] for s in svc.signatures(territory, charter_id) if s["signed_on"] <= until and s["ended_on"] > since}
    # The meetings plugin names current structures only: one that merged or left since keeps its last name.
    named = links.names(svc.trame, territory, {s.structure_id for s in figures.structures})
    out.partners = [
        PartnerFigure(s.structure_id, named[s.structure_id], s.expected, s.present, s.structure_id in signed, s.excused)
        for s in figures.structures
    ]
    out.never_came = sorted((p.name for p in out.partners if p.signatory and p.expected and not p.present), key=str.casefold)
    invited_now = svc.invited(territory, charter_id, until)
    out.invited_not_signed = sorted((p["structure_name"] for p in invited_now if p["structure_id"] not in signed), key=str.casefold)
    return out
