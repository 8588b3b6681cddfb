"""Projections: read models written only from events, exactly once, resumable, rebuildable.

Each projection keeps its position (the last log position it has applied) in
``projection_positions``, updated in the same transaction as its tables. The rows are
locked while a batch is applied (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL), so web workers and follower processes can all catch up at once and still
apply each event once.

Three ways in, one rule:

* :meth:`ProjectionRunner.project_inline`, inside the transaction that appends a
  command's events: only the projections that consume those event types run, so the
  author reads their own write and a command costs one commit;
* :meth:`ProjectionRunner.catch_up`: every projection behind the log, in one pass over
  it per batch (the log is read and decoded once for all of them);
* :meth:`ProjectionRunner.rebuild`: from zero, in large batches, with the read-side
  indexes (:meth:`Projection.indexes`) built once at the end. The ``rebuilding`` flag is
  stored with the position, so a rebuild killed half-way resumes as a rebuild.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from core.database import Cursor, Database
from core.events import Recorded
from core.store import EventStore

log = logging.getLogger(__name__)

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL, "
    "schema_version INTEGER NOT NULL, rebuilding INTEGER NOT NULL DEFAULT 0)"
)
#: Events per transaction during a rebuild (a catch-up uses the settings' batch).
REBUILD_BATCH = 20_000

#: Called with (events done, events to do) after each batch of a long catch-up.
Progress = Callable[[int, int], None]


class Projection(ABC):
    """One read model: its tables, the events it reads, and how it applies them."""

    name: ClassVar[str]
    #: Bump when the tables or the logic change: the projection is then rebuilt at start-up.
    version: ClassVar[int] = 1
    #: Event names this projection reads; empty reads everything. Inline projection runs
    #: a projection only for the events it names.
    topics: ClassVar[tuple[str, ...]] = ()
    #: Every table the projection owns, whatever the database, as a plain class attribute known
    #: before :meth:`schema` runs: a rebuild drops each (``DROP TABLE IF EXISTS``: a table that only
    #: the other dialect creates is harmless) before ``schema()`` creates them again, and
    #: :meth:`ProjectionRunner.tables_of` gives those that exist here (snapshots, statistics).
    tables: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def schema(self, dialect: str) -> list[str]:
        """CREATE statements (idempotent) for the tables, and the indexes that ``apply`` reads."""

    def indexes(self, dialect: str) -> list[str]:
        """CREATE INDEX statements (idempotent) that only pages read: a rebuild creates them
        once at its end instead of keeping them up row by row."""
        return []

    @abstractmethod
    def apply(self, cur: Cursor, rec: Recorded) -> None:
        """Apply one event, inside the transaction that also moves the position."""

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        """Apply a batch in log order; override to write it with fewer statements.
        ``cur.rebuilding`` is True in a rebuild's batches."""
        for rec in records:
            self.apply(cur, rec)

    def rebuilt(self, cur: Cursor) -> None:  # noqa: B027 (optional hook, nothing to do by default)
        """Called once at the end of a rebuild, before :meth:`indexes` are created: fill
        here what the rebuild's batches deferred."""

    def consumes(self, name: str) -> bool:
        return not self.topics or name in self._topic_set()

    def _topic_set(self) -> frozenset[str]:
        cached: frozenset[str] | None = self.__dict__.get("_topics")
        if cached is None:
            cached = self.__dict__["_topics"] = frozenset(self.topics)
        return cached


@dataclass(frozen=True)
class State:
    position: int
    rebuilding: bool


class ProjectionRunner:
    def __init__(self, db: Database, store: EventStore, projections: Iterable[Projection], batch: int = 2000) -> None:
        self.db = db
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self.rebuild_batch = max(batch, REBUILD_BATCH)

    # -- setting up ------------------------------------------------------------------------
    def setup(self) -> None:
        """Create tables; rebuild any projection whose schema version changed."""
        with self.db.write() as cur:
            cur.execute(POSITIONS_DDL)
            cur.execute("SELECT * FROM projection_positions WHERE 1 = 0")
            if "rebuilding" not in cur.column_names():
                cur.execute("ALTER TABLE projection_positions ADD COLUMN rebuilding INTEGER NOT NULL DEFAULT 0")
            known = {
                r["name"]: (r["schema_version"], bool(r["rebuilding"]))
                for r in cur.execute("SELECT name, schema_version, rebuilding FROM projection_positions").fetchall()
            }
        for p in self.projections.values():
            version, rebuilding = known.get(p.name, (p.version, False))
            if version != p.version:
                log.warning("projection %s changed version: rebuilding", p.name)
                self._reset(p)
                continue
            with self.db.write() as cur:
                for stmt in p.schema(self.db.dialect):
                    cur.execute(stmt)
                if not rebuilding:  # an interrupted rebuild builds its indexes when it ends
                    for stmt in p.indexes(self.db.dialect):
                        cur.execute(stmt)
                cur.execute(
                    "INSERT INTO projection_positions (name, position, schema_version, rebuilding) VALUES (?, 0, ?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (p.name, p.version),
                )

    def positions(self) -> dict[str, int]:
        return {name: s.position for name, s in self.states().items()}

    def states(self) -> dict[str, State]:
        with self.db.read() as cur:
            return {
                r["name"]: State(r["position"], bool(r["rebuilding"]))
                for r in cur.execute("SELECT name, position, rebuilding FROM projection_positions").fetchall()
            }

    # -- inline, in the command's transaction ----------------------------------------------
    def project_inline(self, cur: Cursor, recorded: Sequence[Recorded]) -> None:
        """Apply a command's events to the projections that read them, in the transaction
        that appended them. A projection far behind (being rebuilt, or a follower's job)
        is left to :meth:`catch_up`: the command does not wait for a whole rebuild."""
        if not recorded:
            return
        first, last = recorded[0].position, recorded[-1].position
        consuming = [p for p in self.projections.values() if any(p.consumes(r.name) for r in recorded)]
        others = [p.name for p in self.projections.values() if p not in consuming]
        states = self._lock(cur, [p.name for p in consuming])
        applied: list[str] = []
        for p in consuming:
            state = states.get(p.name)
            if state is None or state.rebuilding or state.position >= last:
                continue
            mine = _of(p, recorded, state.position)
            if state.position < first - 1:  # events of other processes not applied yet
                gap = self.store.read(state.position, self.batch + 1, names=p.topics, stop=first - 1, cur=cur)
                if len(gap) > self.batch:
                    continue
                mine = [*gap, *mine]
            p.apply_many(cur, mine)
            applied.append(p.name)
        if applied:  # their positions move in the transaction of their views: exactly once
            cur.execute(f"UPDATE projection_positions SET position = ? WHERE name IN ({','.join('?' * len(applied))})", (last, *applied))
        if others:
            # Nothing to apply for them: a projection that was up to date moves past these
            # events (on PostgreSQL without waiting for a follower holding its row).
            marks = ",".join("?" * len(others))
            skip = "" if self.db.dialect == "sqlite" else " FOR UPDATE SKIP LOCKED"
            cur.execute(
                f"UPDATE projection_positions SET position = ? WHERE name IN (SELECT name FROM projection_positions "
                f"WHERE name IN ({marks}) AND position = ? AND rebuilding = 0{skip})",
                (last, *others, first - 1),
            )

    # -- catching up -----------------------------------------------------------------------
    def catch_up(self, names: Sequence[str] | None = None, *, progress: Progress | None = None) -> int:
        """Apply every event not yet applied; return how many projection-events were applied.

        Projections being rebuilt go first, in large batches; then the others. Each batch
        reads the log once for every projection of its group."""
        selected = self._select(names)
        head = self.store.max_position()
        states = self.states()
        known = [p for p in selected if p.name in states]
        rebuilding = [p for p in known if states[p.name].rebuilding]
        behind = [p for p in known if not states[p.name].rebuilding and states[p.name].position < head]
        applied = 0
        for group, batch in ((rebuilding, self.rebuild_batch), (behind, self.batch)):
            if group:
                applied += self._catch_up_group(group, head, batch, progress)
        return applied

    def _catch_up_group(self, group: list[Projection], head: int, batch: int, progress: Progress | None) -> int:
        applied = 0
        start: int | None = None
        while True:
            with self.db.write() as cur:
                states = self._lock(cur, [p.name for p in group])
                todo = [p for p in group if p.name in states and (states[p.name].position < head or states[p.name].rebuilding)]
                if not todo:
                    return applied
                low = min(states[p.name].position for p in todo)
                if start is None:
                    start = low
                names = _union_topics(todo)
                records = self.store.read(low, batch, names=names, stop=head, cur=cur)
                done = len(records) < batch
                reached = head if done else records[-1].position
                for p in todo:
                    state = states[p.name]
                    mine = _of(p, records, state.position)
                    cur.rebuilding = state.rebuilding
                    if mine:
                        p.apply_many(cur, mine)
                        applied += len(mine)
                    finished = state.rebuilding and done
                    if finished:
                        self._finish_rebuild(cur, p)
                    cur.execute(
                        "UPDATE projection_positions SET position = ?, rebuilding = ? WHERE name = ?",
                        (max(reached, state.position), 1 if state.rebuilding and not finished else 0, p.name),
                    )
                cur.rebuilding = False
            if progress is not None:
                progress(reached - start, head - start)
            if done:
                return applied

    def _finish_rebuild(self, cur: Cursor, p: Projection) -> None:
        p.rebuilt(cur)
        for stmt in p.indexes(self.db.dialect):
            cur.execute(stmt)
        if self.db.dialect == "postgresql":  # fresh statistics, or the planner keeps the empty table's plans
            existing = {r[0] for r in cur.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
            for table in p.tables:
                if table in existing:
                    cur.execute(f"ANALYZE {table}")

    def _lock(self, cur: Cursor, names: Sequence[str]) -> dict[str, State]:
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        rows = cur.execute(
            f"SELECT name, position, rebuilding FROM projection_positions WHERE name IN ({marks}) ORDER BY name{self.db.for_update}",
            tuple(names),
        ).fetchall()
        return {r["name"]: State(r["position"], bool(r["rebuilding"])) for r in rows}

    # -- rebuilding ------------------------------------------------------------------------
    def rebuild(self, names: Sequence[str] | None = None, *, progress: Progress | None = None) -> int:
        """Drop and rebuild from the first event. Interrupted, it resumes with catch_up."""
        for p in self._select(names):
            self._reset(p)
        return self.catch_up(names, progress=progress)

    def _reset(self, p: Projection) -> None:
        with self.db.write() as cur:
            for table in p.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            for index in _index_names(p.indexes(self.db.dialect)):  # indexes on tables kept by name
                cur.execute(f"DROP INDEX IF EXISTS {index}")
            for stmt in p.schema(self.db.dialect):
                cur.execute(stmt)
            cur.execute(
                "INSERT INTO projection_positions (name, position, schema_version, rebuilding) VALUES (?, 0, ?, 1) "
                "ON CONFLICT (name) DO UPDATE SET position = 0, schema_version = excluded.schema_version, rebuilding = 1",
                (p.name, p.version),
            )

    # -- following -------------------------------------------------------------------------
    def follow(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Keep every projection caught up until ``stop`` is set (``trame project --follow``).
        On PostgreSQL it wakes on the NOTIFY of each append; on SQLite it polls."""
        listener = self.db.listener()
        try:
            while not stop.is_set():
                try:
                    if self.catch_up():
                        continue
                except Exception:  # a follower must outlive one bad batch; the batch is retried
                    log.exception("projection batch failed; retrying")
                    stop.wait(poll_seconds)
                listener.wait(poll_seconds, stop)
        finally:
            listener.close()

    def _select(self, names: Sequence[str] | None) -> list[Projection]:
        if not names:
            return list(self.projections.values())
        unknown = [n for n in names if n not in self.projections]
        if unknown:
            raise KeyError(f"unknown projection(s): {', '.join(unknown)}; known: {', '.join(sorted(self.projections))}")
        return [self.projections[n] for n in names]

    def tables_of(self, name: str) -> list[str]:
        """The tables of a projection that exist in this database (``tables`` may name the other
        dialect's too)."""
        existing = set(self.db.tables())
        return [t for t in self.projections[name].tables if t in existing]

    def snapshot(self, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the projections, sorted: to compare two builds."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        selected = self._select(names)
        existing = {p.name: self.tables_of(p.name) for p in selected}
        with self.db.read() as cur:
            for p in selected:
                for table in existing[p.name]:
                    rows = cur.execute(f"SELECT * FROM {table}").fetchall()
                    out[table] = sorted((tuple(_values(r)) for r in rows), key=repr)
        return out


class ProgressBar:
    """``trame rebuild``'s progress line on a terminal: events done, rate, time left."""

    def __init__(self, write: Callable[[str], Any], label: str = "") -> None:
        self.write = write
        self.label = label
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.5 and done < total:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.write(f"\r{self.label}[{bar}] {done:,}/{total:,} événements, {rate:,.0f}/s, reste {left:,.0f} s".replace(",", " "))


def _of(p: Projection, records: Sequence[Recorded], after: int) -> list[Recorded]:
    """The records a projection reads, after its position."""
    topics = p._topic_set()
    if not topics:
        return [r for r in records if r.position > after]
    return [r for r in records if r.position > after and r.event.name in topics]


def _union_topics(projections: Sequence[Projection]) -> tuple[str, ...]:
    """The event names a group reads, or () when one of them reads everything."""
    if any(not p.topics for p in projections):
        return ()
    return tuple(sorted({t for p in projections for t in p.topics}))


_INDEX_NAME = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


def _index_names(statements: Sequence[str]) -> list[str]:
    return [m.group(1) for m in map(_INDEX_NAME.match, statements) if m]


def _values(row: Any) -> Any:
    return row.values() if isinstance(row, dict) else tuple(row)
