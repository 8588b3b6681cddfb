"""The event store: append with optimistic concurrency, read streams and the whole log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from core import clock
from core.database import Cursor, Database
from core.erasure import SubjectKeys, seal, subject_of, unseal
from core.events import Event, EventRegistry, Recorded, StoredEnvelope, validate

_encode = msgspec.json.encode
_envelope = msgspec.json.Decoder(StoredEnvelope)

SYSTEM = "system"


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


@dataclass(frozen=True)
class Prepared:
    """One command's events, validated and encoded, ready to be inserted in a transaction."""

    ctx: Context
    writes: tuple[Write, ...]
    recorded_at: str
    effective: str
    rows: list[tuple[Write, int, Event, bytes]]  # (write, version in its stream, event, stored state)


class _LogSQL:
    """The statements on the library's event table, in the library's own layout
    (SQLite: rowid is the log position and ids are hex text; PostgreSQL: a bigserial
    ``notification_id``, a ``uuid`` column, and an EXCLUSIVE table lock held by each
    writing transaction so that positions become visible in commit order)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        pos = "rowid" if dialect == "sqlite" else "notification_id"
        self.position = pos
        self.version = "SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?"
        self.insert = "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)"
        self.insert_returning = self.insert + ("" if dialect == "sqlite" else " RETURNING notification_id")
        self.head = f"SELECT MAX({pos}) FROM stored_events"
        self.log = f"SELECT {pos}, originator_id, originator_version, topic, state FROM stored_events WHERE {pos} > ? AND {pos} <= ?"
        self.order = f" ORDER BY {pos} LIMIT ?"
        self.stream = (
            "SELECT originator_version, topic, state FROM stored_events WHERE originator_id = ? AND originator_version > ? "
            "ORDER BY originator_version"
        )
        self.lock = [] if dialect == "sqlite" else ["LOCK TABLE stored_events IN EXCLUSIVE MODE", 'NOTIFY "stored_events"']

    def stream_key(self, stream_id: UUID) -> Any:
        return stream_id.hex if self.dialect == "sqlite" else stream_id


class EventStore:
    def __init__(self, db: Database, registry: EventRegistry, keys: SubjectKeys) -> None:
        self.db = db
        self.registry = registry
        self.keys = keys
        self.sql = _LogSQL(db.dialect)
        self._stream_ids: dict[Any, UUID] = {}

    # -- writing ---------------------------------------------------------------------------
    def append(self, ctx: Context, *writes: Write, recorded_at: str | None = None) -> list[Recorded]:
        """Store the events of one command atomically; raise :class:`Conflict` if any stream moved."""
        prepared = self.prepare(ctx, *writes, recorded_at=recorded_at)
        with self.db.write() as cur:
            return self.insert(cur, prepared)

    def prepare(self, ctx: Context, *writes: Write, recorded_at: str | None = None) -> Prepared:
        """Validate and encode outside the writing transaction (a new person's key is
        created here, in a transaction of its own: a refused command leaves an unused key)."""
        recorded_at = recorded_at or clock.now()
        effective = ctx.effective or recorded_at
        rows: list[tuple[Write, int, Event, bytes]] = []
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
                rows.append((write, write.expected_version + offset, event, _encode(envelope)))
        return Prepared(ctx, writes, recorded_at, effective, rows)

    def insert(self, cur: Cursor, prepared: Prepared) -> list[Recorded]:
        """Insert inside the caller's write transaction: the version check, the events and
        (for the caller) its projections commit together or not at all."""
        sql = self.sql
        for stmt in sql.lock:
            cur.execute(stmt)
        for write in prepared.writes:
            # The stream must be exactly at the expected version: a version taken twice
            # would be refused by the key, a version skipped ahead would leave a hole.
            current = cur.scalar(sql.version, (sql.stream_key(write.stream_id),)) or 0
            if current != write.expected_version:
                raise Conflict(write.stream_id, write.expected_version)
        ctx = prepared.ctx
        out: list[Recorded] = []
        try:
            for write, version, event, state in prepared.rows:
                cur.execute(sql.insert_returning, (sql.stream_key(write.stream_id), version, event.name, state))
                position = cur.lastrowid if sql.dialect == "sqlite" else cur.scalar_of_last()
                out.append(
                    Recorded(
                        position=position,
                        stream_id=write.stream_id,
                        version=version,
                        event=event,
                        author=ctx.author,
                        recorded_at=prepared.recorded_at,
                        effective=prepared.effective,
                        territory=ctx.territory,
                        reason=ctx.reason or None,
                    )
                )
        except self.db.integrity_errors:
            first = prepared.writes[0]
            raise Conflict(first.stream_id, first.expected_version) from None
        return out

    def append_stored(self, stored: Sequence[StoredEvent]) -> None:
        """Insert events exactly as exported (``trame import``)."""
        sql = self.sql
        try:
            with self.db.write() as cur:
                for stmt in sql.lock:
                    cur.execute(stmt)
                cur.executemany(sql.insert, [(sql.stream_key(s.originator_id), s.originator_version, s.topic, s.state) for s in stored])  # type: ignore[arg-type]
        except self.db.integrity_errors:
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
        with self.db.read() as cur:
            rows = cur.rows(self.sql.stream, (self.sql.stream_key(stream_id), after))
            return self._decode([(0, stream_id, version, topic, state) for version, topic, state in rows], cur)

    def version_of(self, stream_id: UUID) -> int:
        with self.db.read() as cur:
            return int(cur.scalar(self.sql.version, (self.sql.stream_key(stream_id),)) or 0)

    def read(
        self, after: int, limit: int, *, names: Sequence[str] = (), stop: int | None = None, cur: Cursor | None = None
    ) -> list[Recorded]:
        """Events of the whole log after position ``after``, in order (in ``cur``'s transaction if given)."""
        if cur is None:
            with self.db.read() as own:
                return self.read(after, limit, names=names, stop=stop, cur=own)
        return self._decode(self.raw(after, limit, names=names, stop=stop, cur=cur), cur)

    def raw(
        self, after: int, limit: int, *, names: Sequence[str] = (), stop: int | None = None, cur: Cursor | None = None
    ) -> list[tuple[int, UUID, int, str, bytes]]:
        """(position, stream id, version, type, stored state) as plain tuples: no library objects per row."""
        if cur is None:
            with self.db.read() as own:
                return self.raw(after, limit, names=names, stop=stop, cur=own)
        sql = self.sql
        statement = sql.log
        params: list[Any] = [after, stop if stop is not None else _NO_END]
        if names:
            statement += f" AND topic IN ({','.join('?' * len(names))})"
            params.extend(names)
        rows = cur.rows(statement + sql.order, (*params, limit))
        ids = self._stream_ids
        if len(ids) > 100_000:
            ids.clear()
        out = []
        for pos, oid, version, topic, state in rows:
            sid = ids.get(oid)
            if sid is None:
                sid = ids[oid] = oid if isinstance(oid, UUID) else UUID(oid)
            out.append((pos, sid, version, topic, bytes(state)))
        return out

    def max_position(self, cur: Cursor | None = None) -> int:
        if cur is None:
            with self.db.read() as own:
                return self.max_position(own)
        return int(cur.scalar(self.sql.head) or 0)

    def _decode(self, rows: list[tuple[int, UUID, int, str, bytes]], cur: Cursor | None = None) -> list[Recorded]:
        registry = self.registry
        out: list[Recorded | None] = []
        general: list[tuple[int, tuple[int, UUID, int, str, bytes]]] = []
        for row in rows:
            pos, sid, version, topic, state = row
            stored = registry.decode_stored(topic, state)
            if stored is None:
                general.append((len(out), row))
                out.append(None)
            else:
                s = stored
                out.append(Recorded(pos, sid, version, s.payload, s.author, s.recorded_at, s.effective, s.territory, s.reason))
        for index, recorded in zip((i for i, _ in general), self._decode_general([row for _, row in general], cur), strict=True):
            out[index] = recorded
        return out  # type: ignore[return-value]

    def _decode_general(self, rows: list[tuple[int, UUID, int, str, bytes]], cur: Cursor | None) -> list[Recorded]:
        """Older versions (upcast) and personal fields (decrypted with keys read in one query)."""
        if not rows:
            return []
        registry = self.registry
        envelopes = [(row, _envelope.decode(row[4])) for row in rows]
        subjects: set[str] = set()
        for row, env in envelopes:
            cls = registry.type_of(row[3])
            if cls.personal and cls.subject:  # the subject's field as named today
                value = registry.upcast_payload(row[3], env.class_version, env.payload).get(cls.subject)
                if value is not None:
                    subjects.add(str(value))
        keys = self.keys.lookup(subjects, cur) if subjects else {}

        def reveal(cls: type[Event], data: dict[str, Any]) -> bool:
            subject = subject_of(cls, data)
            return subject is None or unseal(keys.get(subject), subject, data, cls.personal)

        out = []
        for (pos, sid, version, topic, _), env in envelopes:
            event, erased = registry.decode_payload(topic, env.class_version, env.payload, reveal)
            out.append(Recorded(pos, sid, version, event, env.author, env.recorded_at, env.effective, env.territory, env.reason, erased))
        return out


_NO_END = 2**62
