"""Commands: decide from the streams' history, append at their versions, decide again on a race.

Every service that changes something goes through :func:`run`: it loads the streams the
command reads, lets ``decide`` check the business rules against what is stored (not
against a read model that may lag) and return the new events per stream, then appends
them all in one transaction at the versions it read. If another writer got there first,
the whole decision is made again on the newer history, so a rule checked is a rule that
held when the events were written. A plain fold over the stream's events is the state:
Trame's events are msgspec structs projected by SQL, so an eventsourcing aggregate would
add a second model of the same facts without a rule that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from core.events import Event, Recorded
from core.refusals import conflict
from core.store import Conflict, Context, Write

if TYPE_CHECKING:
    from core.application import Trame

#: How many times a decision is made again after losing a race.
ATTEMPTS = 5


@dataclass(frozen=True)
class History:
    """The streams a command reads, as stored when it decided."""

    streams: Mapping[UUID, list[Recorded]]

    def of(self, stream: UUID) -> list[Recorded]:
        return self.streams[stream]

    def version(self, stream: UUID) -> int:
        events = self.streams[stream]
        return events[-1].version if events else 0

    def exists(self, stream: UUID) -> bool:
        return bool(self.streams[stream])


Decide = Callable[[History], Mapping[UUID, Sequence[Event]]]


def run(
    trame: Trame,
    ctx: Context,
    streams: Sequence[UUID],
    decide: Decide,
    *,
    busy: str = "Ceci est modifié en ce moment par quelqu'un d'autre ; réessayez.",
) -> list[Recorded]:
    """Decide and append atomically; ``decide`` may raise :class:`core.refusals.Refused`.
    Streams written must be among ``streams`` (a new stream is read as empty); the append
    holds only if none of ``streams`` moved since it was read."""
    for _ in range(ATTEMPTS):
        history = History({s: trame.store.stream(s) for s in dict.fromkeys(streams)})
        decided = decide(history)
        unknown = [s for s in decided if s not in history.streams]
        if unknown:
            raise ValueError(f"the command writes streams it did not read: {unknown}")
        if not any(decided.values()):
            return []
        # Every stream read is checked at its version, written or not: a decision that read a
        # meeting to change a café is made again if the meeting was cancelled meanwhile.
        writes = [Write(s, history.version(s), list(decided.get(s, ()))) for s in history.streams]
        try:
            return trame.execute(ctx, *writes)
        except Conflict:
            continue
    raise conflict(busy)
