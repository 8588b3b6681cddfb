"""A charter's and a poll's state as their own streams hold it: what the commands decide from.

A plain fold over the stream (``core.commands``): the rules a command checks (already signed,
ended, version adopted, poll closed) hold against what is stored when the events are
appended, not against a read model that may lag behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.events import Recorded
from core.refusals import absent
from plugins.charte import events as ev
from plugins.charte.projection import OPEN_DAY


@dataclass
class Version:
    title: str
    preamble: str
    commitments: list[str]
    adopted_on: str | None = None


@dataclass
class Signature:
    signature_id: str
    structure_id: str
    version_no: int
    signatory_id: str
    signed_on: str
    ended_on: str = OPEN_DAY


@dataclass
class Charter:
    title: str
    status: str = "draft"
    versions: dict[int, Version] = field(default_factory=dict)
    adopted_version: int | None = None
    adopted_on: str | None = None
    status_days: list[str] = field(default_factory=list)  # the days status changes took effect, in order
    signatures: dict[str, Signature] = field(default_factory=dict)
    invited: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # structure -> (since, until)

    @property
    def latest_version(self) -> int:
        return max(self.versions)

    def first_adoption(self) -> str | None:
        days = [v.adopted_on for v in self.versions.values() if v.adopted_on]
        return min(days) if days else None

    def signature_of(self, structure_id: str) -> Signature | None:
        """The structure's signature in force now (not withdrawn nor superseded)."""
        return next((s for s in self.signatures.values() if s.structure_id == structure_id and s.ended_on == OPEN_DAY), None)

    def invited_on(self, structure_id: str, day: str) -> bool:
        return any(since <= day < until for since, until in self.invited.get(structure_id, []))


def _end(c: Charter, signature_id: str, day: str) -> None:
    s = c.signatures.get(signature_id)
    if s is not None and s.ended_on == OPEN_DAY:
        s.ended_on = day


def _apply(c: Charter, e: object) -> None:
    if isinstance(e, ev.CharterRevised):
        c.versions[e.version_no] = Version(e.title, e.preamble, list(e.commitments))
    elif isinstance(e, ev.VersionAdopted):
        c.versions[e.version_no].adopted_on = e.adopted_on
        c.adopted_version, c.adopted_on, c.title = e.version_no, e.adopted_on, c.versions[e.version_no].title
        c.status = "active" if c.status == "draft" else c.status
    elif isinstance(e, ev.CharterStatusChanged):
        c.status = e.status
        c.status_days.append(e.on)
    elif isinstance(e, ev.CharterSigned):
        if e.replaces:
            _end(c, e.replaces, e.signed_on)
        c.signatures[e.signature_id] = Signature(e.signature_id, e.structure_id, e.version_no, e.signatory_id, e.signed_on)
    elif isinstance(e, ev.SignatureWithdrawn):
        _end(c, e.signature_id, e.withdrawn_on)
    elif isinstance(e, ev.PartnerInvited):
        c.invited.setdefault(e.structure_id, []).append((e.since, OPEN_DAY))
    elif isinstance(e, ev.PartnerInvitationEnded):
        c.invited[e.structure_id] = [(since, e.until if until == OPEN_DAY else until) for since, until in c.invited[e.structure_id]]


def charter(history: Sequence[Recorded], territory: str) -> Charter:
    """The charter's state; absent (404) if the stream is not a charter of this territory."""
    if not history or history[0].territory != territory or not isinstance(history[0].event, ev.CharterDrafted):
        raise absent("Cette charte n'existe pas sur ce territoire.")
    first = history[0].event
    c = Charter(first.title, versions={1: Version(first.title, first.preamble, list(first.commitments))})
    for rec in history[1:]:
        _apply(c, rec.event)
    return c


@dataclass
class Poll:
    charter_id: str
    slots: list[ev.Slot]
    status: str = "open"
    adopted_slot_id: str | None = None
    votes: dict[str, list[str]] = field(default_factory=dict)  # structure -> its latest choice

    def tally(self) -> dict[str, int]:
        counts = {s.slot_id: 0 for s in self.slots}
        for chosen in self.votes.values():
            for slot_id in chosen:
                if slot_id in counts:
                    counts[slot_id] += 1
        return counts

    def leaders(self) -> list[str]:
        counts = self.tally()
        top = max(counts.values(), default=0)
        return [s for s, n in counts.items() if n == top and top > 0]


def poll(history: Sequence[Recorded], territory: str) -> Poll:
    """The poll's state; absent (404) if the stream is not a poll of this territory."""
    if not history or history[0].territory != territory or not isinstance(history[0].event, ev.PollOpened):
        raise absent("Ce sondage n'existe pas.")
    first = history[0].event
    p = Poll(first.charter_id, list(first.slots))
    for rec in history[1:]:
        e = rec.event
        if isinstance(e, ev.PollVoted):
            p.votes.pop(e.structure_id, None)  # a later vote replaces the earlier one, and moves to the end
            p.votes[e.structure_id] = list(e.slot_ids)
        elif isinstance(e, ev.PollAdopted):
            p.status, p.adopted_slot_id = "adopted", e.slot_id
    return p
