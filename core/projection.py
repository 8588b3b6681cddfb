"""Projections: read models written only from events, exactly once, resumable, rebuildable.

Each projection keeps its position (the last log position it has applied) in
``projection_positions``, updated in the same transaction as its tables. The row is
locked while a batch is applied (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on
PostgreSQL), so web workers and follower processes can all call :meth:`catch_up`
and still apply each event once.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from core.database import Cursor, Database
from core.events import Recorded
from core.store import EventStore

log = logging.getLogger(__name__)

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL, schema_version INTEGER NOT NULL)"
)


class Projection(ABC):
    """One read model: its tables, the events it reads, and how it applies them."""

    name: ClassVar[str]
    #: Bump when the tables or the logic change: the projection is then rebuilt at start-up.
    version: ClassVar[int] = 1
    #: Event names this projection reads; empty reads everything.
    topics: ClassVar[tuple[str, ...]] = ()
    #: Tables owned, dropped on rebuild.
    tables: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def schema(self, dialect: str) -> list[str]:
        """CREATE statements (idempotent) for this projection's tables and indexes."""

    @abstractmethod
    def apply(self, cur: Cursor, rec: Recorded) -> None:
        """Apply one event, inside the transaction that also moves the position."""

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        """Apply a batch in log order; override to write it with fewer statements."""
        for rec in records:
            self.apply(cur, rec)


class ProjectionRunner:
    def __init__(self, db: Database, store: EventStore, projections: Iterable[Projection], batch: int = 2000) -> None:
        self.db = db
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self._lock = threading.Lock()

    def setup(self) -> None:
        """Create tables; rebuild any projection whose schema version changed."""
        with self.db.write() as cur:
            cur.execute(POSITIONS_DDL)
            known = {
                r["name"]: r["schema_version"] for r in cur.execute("SELECT name, schema_version FROM projection_positions").fetchall()
            }
        for p in self.projections.values():
            if p.name in known and known[p.name] != p.version:
                log.warning("projection %s changed version: rebuilding", p.name)
                self._reset(p)
            else:
                with self.db.write() as cur:
                    for stmt in p.schema(self.db.dialect):
                        cur.execute(stmt)
                    cur.execute(
                        "INSERT INTO projection_positions (name, position, schema_version) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
                        (p.name, p.version),
                    )

    def positions(self) -> dict[str, int]:
        with self.db.read() as cur:
            return {r["name"]: r["position"] for r in cur.execute("SELECT name, position FROM projection_positions").fetchall()}

    def catch_up(self, names: Sequence[str] | None = None) -> int:
        """Apply every event not yet applied; return how many were applied."""
        target = self.store.max_position()
        positions = self.positions()
        applied = 0
        for p in self._select(names):
            if positions.get(p.name, 0) < target:
                applied += self._catch_up_one(p, target)
        return applied

    def _catch_up_one(self, p: Projection, target: int) -> int:
        applied = 0
        while True:
            with self.db.write() as cur:
                position = cur.scalar(f"SELECT position FROM projection_positions WHERE name = ?{self.db.for_update}", (p.name,))
                if position is None or position >= target:
                    return applied
                records = self.store.read(position, self.batch, names=p.topics, stop=target)
                p.apply_many(cur, records)
                done = len(records) < self.batch
                new_position = target if done else records[-1].position
                cur.execute("UPDATE projection_positions SET position = ? WHERE name = ?", (new_position, p.name))
                applied += len(records)
            if done:
                return applied

    def rebuild(self, names: Sequence[str] | None = None) -> int:
        """Drop and rebuild from the first event. Interrupted, it resumes with catch_up."""
        for p in self._select(names):
            self._reset(p)
        return self.catch_up(names)

    def _reset(self, p: Projection) -> None:
        with self.db.write() as cur:
            for table in p.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
            for stmt in p.schema(self.db.dialect):
                cur.execute(stmt)
            cur.execute(
                "INSERT INTO projection_positions (name, position, schema_version) VALUES (?, 0, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = 0, schema_version = excluded.schema_version",
                (p.name, p.version),
            )

    def follow(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Keep every projection caught up until ``stop`` is set (``trame project --follow``)."""
        while not stop.is_set():
            try:
                if self.catch_up():
                    continue
            except Exception:  # a follower must outlive one bad batch; the batch is retried
                log.exception("projection batch failed; retrying")
            stop.wait(poll_seconds)

    def _select(self, names: Sequence[str] | None) -> list[Projection]:
        if not names:
            return list(self.projections.values())
        unknown = [n for n in names if n not in self.projections]
        if unknown:
            raise KeyError(f"unknown projection(s): {', '.join(unknown)}; known: {', '.join(sorted(self.projections))}")
        return [self.projections[n] for n in names]

    def snapshot(self, names: Sequence[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the projections, sorted: to compare two builds."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.db.read() as cur:
            for p in self._select(names):
                for table in p.tables:
                    rows = cur.execute(f"SELECT * FROM {table}").fetchall()
                    out[table] = sorted((tuple(_values(r)) for r in rows), key=repr)
        return out


def _values(row: Any) -> Any:
    return row.values() if isinstance(row, dict) else tuple(row)
