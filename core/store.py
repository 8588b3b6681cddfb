"""The event store: append with optimistic concurrency, read streams and the whole log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from core import clock
from core.database import Database
from core.erasure import SubjectKeys, seal, subject_of, unseal
from core.events import Event, EventRegistry, Recorded, StoredEnvelope, validate

_encode = msgspec.json.encode
_envelope = msgspec.json.Decoder(StoredEnvelope)

SYSTEM = "system"
IMPORT = "import"


class Conflict(Exception):
    """Someone else changed the same thing first."""

    def __init__(self, stream_id: UUID, expected: int) -> None:
        super().__init__(
            "Cette fiche a été modifiée par quelqu'un d'autre pendant que vous la modifiiez "
            f"(version attendue {expected}). Rechargez-la pour voir ses changements, puis recommencez."
        )
        self.stream_id = stream_id
        self.expected = expected


@dataclass(frozen=True)
class Context:
    """Who writes, where, when it takes effect and why: the envelope shared by one command's events."""

    author: str
    territory: str
    effective: str | None = None  # an instant (core.clock); None means "when recorded"
    reason: str | None = None


@dataclass
class Write:
    """New events for one stream, expected to be at ``expected_version`` (0 = new stream)."""

    stream_id: UUID
    expected_version: int
    events: list[Event] = field(default_factory=list)


class EventStore:
    def __init__(self, db: Database, registry: EventRegistry, keys: SubjectKeys) -> None:
        self.db = db
        self.registry = registry
        self.keys = keys

    # -- writing ---------------------------------------------------------------------------
    def append(self, ctx: Context, *writes: Write, recorded_at: str | None = None) -> list[Recorded]:
        """Store the events of one command atomically; raise :class:`Conflict` if any stream moved."""
        for write in writes:
            # The recorder only refuses a version taken twice; a version skipped ahead would
            # leave a hole in the stream, so a stale-high expectation is a conflict too.
            if write.expected_version and self.version_of(write.stream_id) != write.expected_version:
                raise Conflict(write.stream_id, write.expected_version)
        recorded_at = recorded_at or clock.now()
        effective = ctx.effective or recorded_at
        stored: list[StoredEvent] = []
        pending: list[tuple[Write, int, Event]] = []
        for write in writes:
            for offset, event in enumerate(write.events, start=1):
                if event.name not in self.registry:
                    raise ValueError(f"event type {event.name} is not registered")
                validate(event)
                envelope = StoredEnvelope(
                    class_version=type(event).class_version,
                    author=ctx.author,
                    recorded_at=recorded_at,
                    effective=effective,
                    territory=ctx.territory,
                    reason=ctx.reason or None,
                    payload=msgspec.Raw(self._encode_payload(event)),
                )
                version = write.expected_version + offset
                stored.append(StoredEvent(write.stream_id, version, event.name, _encode(envelope)))
                pending.append((write, version, event))
        try:
            ids = self.db.recorder.insert_events(stored) or [0] * len(stored)
        except IntegrityError:
            first = writes[0]
            raise Conflict(first.stream_id, first.expected_version) from None
        return [
            Recorded(
                position=pos,
                stream_id=write.stream_id,
                version=version,
                event=event,
                author=ctx.author,
                recorded_at=recorded_at,
                effective=effective,
                territory=ctx.territory,
                reason=ctx.reason or None,
            )
            for pos, (write, version, event) in zip(ids, pending, strict=True)
        ]

    def append_stored(self, stored: Sequence[StoredEvent]) -> None:
        """Insert events exactly as exported (``trame import``)."""
        try:
            self.db.recorder.insert_events(stored)
        except IntegrityError:
            raise Conflict(stored[0].originator_id, stored[0].originator_version - 1) from None  # type: ignore[arg-type]

    def _encode_payload(self, event: Event) -> bytes:
        cls = type(event)
        if not cls.personal:
            return _encode(event)
        data: dict[str, Any] = msgspec.to_builtins(event)
        subject = subject_of(cls, data)
        if subject is None:
            raise ValueError(f"{cls.name} has personal fields but no subject id")
        seal(self.keys.key_for(subject), subject, data, cls.personal)
        return _encode(data)

    # -- reading ---------------------------------------------------------------------------
    def stream(self, stream_id: UUID, *, after: int = 0) -> list[Recorded]:
        rows = self.db.recorder.select_events(stream_id, gt=after or None)
        return self._decode([(0, r) for r in rows])

    def version_of(self, stream_id: UUID) -> int:
        rows = self.db.recorder.select_events(stream_id, desc=True, limit=1)
        return rows[0].originator_version if rows else 0

    def read(self, after: int, limit: int, *, names: Sequence[str] = (), stop: int | None = None) -> list[Recorded]:
        """Events of the whole log after position ``after``, in order."""
        rows = self.db.recorder.select_notifications(after, limit, stop=stop, topics=list(names), inclusive_of_start=False)
        return self._decode([(n.id, n) for n in rows])

    def raw(self, after: int, limit: int) -> Sequence[Notification]:
        return self.db.recorder.select_notifications(after, limit, inclusive_of_start=False)

    def max_position(self) -> int:
        return self.db.recorder.max_notification_id() or 0

    def _decode(self, rows: list[tuple[int, StoredEvent]]) -> list[Recorded]:
        envelopes = [(pos, row, _envelope.decode(row.state)) for pos, row in rows]
        subjects: set[str] = set()
        for _, row, env in envelopes:
            cls = self.registry.type_of(row.topic)
            if cls.personal and cls.subject:
                data = msgspec.json.decode(env.payload)
                value = data.get(cls.subject)
                if value is not None:
                    subjects.add(str(value))
        keys = self.keys.lookup(subjects)

        def reveal(cls: type[Event], data: dict[str, Any]) -> bool:
            subject = subject_of(cls, data)
            return subject is None or unseal(keys.get(subject), subject, data, cls.personal)

        out = []
        for pos, row, env in envelopes:
            event, erased = self.registry.decode_payload(row.topic, env.class_version, env.payload, reveal)
            out.append(
                Recorded(
                    position=pos,
                    stream_id=row.originator_id,  # type: ignore[arg-type]
                    version=row.originator_version,
                    event=event,
                    author=env.author,
                    recorded_at=env.recorded_at,
                    effective=env.effective,
                    territory=env.territory,
                    reason=env.reason,
                    erased=erased,
                )
            )
        return out
