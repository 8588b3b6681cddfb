"""Core benchmark (not a test): event append throughput and projection rebuild speed.

Run from the repository root::

    python -m bench.core_bench                       # defaults: 5 repeats, SQLite + PostgreSQL
    python -m bench.core_bench --events 2000 --appends 100 --repeat 2   # a quick smoke run

It measures, on SQLite (a temp file) and PostgreSQL (a fresh schema, dropped afterwards),
in one run:

1. append throughput of the same workload three ways: the full Trame stack
   (``EventStore.append``), the raw eventsourcing recorder with pre-encoded JSON, and a
   raw SQL insert of the same rows into a plain table; 1 and 10 events per append;
2. projection rebuild speed (``ProjectionRunner.rebuild``) of the core journal projection
   and of a trivial counting projection, plus two floors: ``EventStore.read`` alone and
   the recorder's ``select_notifications`` alone;
3. a cProfile of one journal rebuild (and of full-stack appends) on SQLite.

Medians over ``--repeat`` samples; the markdown report goes to stdout and to
``bench/results-latest.md``. Progress goes to stderr. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import msgspec
from eventsourcing.persistence import StoredEvent

from core import clock
from core.database import Cursor, Database, PostgresDatabase, SQLiteDatabase, open_database
from core.erasure import SubjectKeys
from core.events import Event, EventRegistry, Recorded, StoredEnvelope
from core.projection import Projection, ProjectionRunner
from core.settings import Settings
from core.store import Context, EventStore, Write
from projections.journal import JournalProjection

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results-latest.md"
DEFAULT_PG_URL = os.environ.get(
    "TRAME_BENCH_POSTGRES_URL", os.environ.get("TRAME_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
DEFAULT_REBUILD_EVENTS = {"sqlite": 50_000, "postgresql": 20_000}
APPEND_TARGET = 0.5  # full stack >= 0.5 x raw library
REBUILD_TARGET = 50_000  # events/s on SQLite


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The workload: one realistic event type, registered in a fresh registry
# ---------------------------------------------------------------------------------------------

Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ContactRecorded(Event, frozen=True):
    """A directory-like event: 8 fields, a date string, a list. No personal (encrypted) fields."""

    name = "bench.ContactRecorded"
    contact_id: str
    structure_id: str
    first_name: Text
    last_name: Text
    role: str
    service: str
    since: Day
    tags: list[str]


FIRST = ["Camille", "Hélène", "Karim", "Léa", "Mohamed", "Nathalie", "Sébastien", "Yasmine", "Jérôme", "Inès", "Thomas", "Aïcha"]
LAST = ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Benali", "Fournier", "Girard", "Nguyen", "Rousseau", "Lambert"]
ROLES = ["référente", "coordinateur", "bénévole", "travailleuse sociale", "directeur", "conseillère en insertion"]
SERVICES = ["Accueil de jour", "CCAS", "Mission locale", "Épicerie solidaire", "CMP adultes", "Point d'accès au droit"]
TAGS = ["logement", "santé", "emploi", "alimentation", "mobilité", "numérique", "droits", "jeunesse", "famille"]
TERRITORIES = ["meaux", "agen", "fumel", "joigny"]
DAY0 = date(2012, 1, 1).toordinal()


def make_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register(ContactRecorded)
    return registry


class Workload:
    """Seeded generator of events, stream ids, authors."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.authors = [str(self.uuid()) for _ in range(20)]
        self.structures = [str(self.uuid()) for _ in range(40)]

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def event(self) -> ContactRecorded:
        r = self.rng
        return ContactRecorded(
            contact_id=str(self.uuid()),
            structure_id=r.choice(self.structures),
            first_name=r.choice(FIRST),
            last_name=r.choice(LAST),
            role=r.choice(ROLES),
            service=r.choice(SERVICES),
            since=date.fromordinal(DAY0 + r.randrange(5000)).isoformat(),
            tags=r.sample(TAGS, r.randrange(0, 4)),
        )

    def context(self) -> Context:
        return Context(author=self.rng.choice(self.authors), territory=self.rng.choice(TERRITORIES))


def json_state(ctx: Context, event: Event, recorded_at: str) -> bytes:
    """The stored ``state`` bytes built with the standard library only (raw paths)."""
    payload = {f: getattr(event, f) for f in event.__struct_fields__}
    envelope = [type(event).class_version, ctx.author, recorded_at, ctx.effective or recorded_at, ctx.territory, ctx.reason, payload]
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def msgspec_state(ctx: Context, event: Event, recorded_at: str) -> bytes:
    """What EventStore.append stores for the same event (for the byte-equality check)."""
    env = StoredEnvelope(
        class_version=type(event).class_version,
        author=ctx.author,
        recorded_at=recorded_at,
        effective=ctx.effective or recorded_at,
        territory=ctx.territory,
        reason=ctx.reason or None,
        payload=msgspec.Raw(msgspec.json.encode(event)),
    )
    return msgspec.json.encode(env)


@dataclass
class AppendPlan:
    """One workload, pre-built in the three shapes. The first ``warmup`` appends are untimed."""

    batch: int
    warmup: int
    contexts: list[Context] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    stored: list[list[StoredEvent]] = field(default_factory=list)
    rows_uuid: list[list[tuple[Any, ...]]] = field(default_factory=list)  # PostgreSQL: uuid objects
    rows_hex: list[list[tuple[Any, ...]]] = field(default_factory=list)  # SQLite: uuid hex, as the library stores it
    bytes_identical: bool = True
    mean_state_bytes: float = 0.0

    @property
    def timed_events(self) -> int:
        return sum(len(w.events) for w in self.writes[self.warmup :])

    @property
    def total_events(self) -> int:
        return sum(len(w.events) for w in self.writes)


def build_append_plan(appends: int, batch: int, seed: int) -> AppendPlan:
    """``appends`` timed commands of ``batch`` events each, on streams that grow (4 appends per stream)."""
    wl = Workload(seed)
    warmup = max(5, min(50, appends // 10))
    plan = AppendPlan(batch=batch, warmup=warmup)
    recorded_at = clock.now()
    versions: dict[uuid.UUID, int] = {}
    warm_streams = [wl.uuid() for _ in range(warmup)]
    timed_streams = [wl.uuid() for _ in range(max(1, appends // 4))]
    sizes = []
    for i in range(warmup + appends):
        stream = warm_streams[i] if i < warmup else timed_streams[(i - warmup) % len(timed_streams)]
        expected = versions.get(stream, 0)
        events: list[Event] = [wl.event() for _ in range(batch)]
        versions[stream] = expected + batch
        ctx = wl.context()
        plan.contexts.append(ctx)
        plan.writes.append(Write(stream, expected, events))
        stored, rows_uuid, rows_hex = [], [], []
        for offset, ev in enumerate(events, start=1):
            state = json_state(ctx, ev, recorded_at)
            if plan.bytes_identical and state != msgspec_state(ctx, ev, recorded_at):
                plan.bytes_identical = False
            sizes.append(len(state))
            stored.append(StoredEvent(stream, expected + offset, ev.name, state))
            rows_uuid.append((stream, expected + offset, ev.name, state))
            rows_hex.append((stream.hex, expected + offset, ev.name, state))
        plan.stored.append(stored)
        plan.rows_uuid.append(rows_uuid)
        plan.rows_hex.append(rows_hex)
    plan.mean_state_bytes = statistics.fmean(sizes)
    return plan


# ---------------------------------------------------------------------------------------------
# Backends: fresh stores, raw SQL tables, clean-up
# ---------------------------------------------------------------------------------------------


class RawSQL:
    """A plain table with the stored_events columns, one transaction per append."""

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SQLiteRaw(RawSQL):
    def __init__(self, path: str, synchronous: int) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")  # the same mode as Trame's connections
        self.conn.execute(
            "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        self.sql = "INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)"

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        conn = self.conn
        conn.execute("BEGIN")
        conn.executemany(self.sql, rows)
        conn.execute("COMMIT")

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM raw_events").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class PostgresRaw(RawSQL):
    def __init__(self, url: str, schema: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.table = f'"{schema}".raw_events'
        self.conn.execute(
            f"CREATE TABLE {self.table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
            "state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        self.sql = f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
        self.cur = self.conn.cursor()

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.transaction():
            self.cur.executemany(self.sql, rows)

    def count(self) -> int:
        row = self.conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


class Backend:
    name: str
    label: str

    def open(self) -> Database:
        """A fresh, empty Trame database."""
        raise NotImplementedError

    def raw(self, db: Database) -> RawSQL:
        """A raw SQL table next to ``db`` (same file directory / same schema)."""
        raise NotImplementedError

    def dispose(self, db: Database) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, tmpdir: str | None) -> None:
        self.root = tempfile.mkdtemp(prefix="trame-bench-", dir=tmpdir)
        self.label = f"SQLite {sqlite3.sqlite_version} (file in {self.root})"
        self.n = 0
        self.synchronous = self._probe_synchronous()

    def _path(self) -> str:
        self.n += 1
        return os.path.join(self.root, f"store-{self.n}.db")

    def _probe_synchronous(self) -> int:
        """The synchronous mode Trame's connections end up with (set in SQLiteDatabase._connection)."""
        db = SQLiteDatabase(self._path())
        SubjectKeys(db)
        modes = pool_synchronous(db)
        self.dispose(db)
        return max(modes) if modes else 2

    def open(self) -> Database:
        return SQLiteDatabase(self._path())

    def raw(self, db: Database) -> RawSQL:
        return SQLiteRaw(self._path(), self.synchronous)

    def dispose(self, db: Database) -> None:
        db.close()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url.split("?")[0]
        u = urlparse(self.url)
        with psycopg.connect(self.url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        self.label = f"PostgreSQL {row[0] if row else '?'} ({u.hostname}:{u.port or 5432}/{u.path.lstrip('/')})"
        self.live: set[str] = set()

    def open(self) -> Database:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.live.add(schema)
        return open_database(f"{self.url}?schema={schema}")

    def raw(self, db: Database) -> RawSQL:
        assert isinstance(db, PostgresDatabase)
        return PostgresRaw(self.url, db.schema)

    def dispose(self, db: Database) -> None:
        assert isinstance(db, PostgresDatabase)
        try:
            db.drop_schema()
            self.live.discard(db.schema)
        finally:
            db.close()

    def close(self) -> None:
        """Drop any schema left behind by an interrupted run."""
        if not self.live:
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for schema in sorted(self.live):
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.live.clear()


def pool_synchronous(db: Database) -> list[int]:
    """PRAGMA synchronous of every idle SQLite pool connection (0=OFF 1=NORMAL 2=FULL)."""
    if not isinstance(db, SQLiteDatabase):
        return []
    pool = db.datastore.pool
    return [c._sqlite_conn.execute("PRAGMA synchronous").fetchone()[0] for c in list(pool._pool)]


def count_events(db: Database) -> int:
    with db.read() as cur:
        return int(cur.scalar("SELECT COUNT(*) FROM stored_events"))


# ---------------------------------------------------------------------------------------------
# 1. Append throughput
# ---------------------------------------------------------------------------------------------

METHODS = ("full", "library", "sql")
SYNC_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@dataclass
class AppendResult:
    backend: str
    batch: int
    samples: dict[str, list[float]]  # events/s per method (wall clock)
    cpu: dict[str, list[float]]  # events per CPU-second of this process, per method
    timed_events: int
    appends: int
    sync_modes: set[int] = field(default_factory=set)


def one_append_sample(
    backend: Backend, plan: AppendPlan, method: str, sync_seen: set[int], profile: cProfile.Profile | None = None
) -> tuple[float, float]:
    """A fresh store, warm-up appends, then the timed appends; returns (events/s, events per CPU-s)."""
    db = backend.open()
    raw: RawSQL | None = None
    try:
        keys = SubjectKeys(db)  # same database set-up for "full" and "library"
        w = plan.warmup
        if method == "full":
            store = EventStore(db, make_registry(), keys)
            append = store.append
            for ctx, write in zip(plan.contexts[:w], plan.writes[:w], strict=True):
                append(ctx, write)
            items = list(zip(plan.contexts[w:], plan.writes[w:], strict=True))
            gc.collect()
            if profile:
                profile.enable()
            c0, t0 = time.process_time(), time.perf_counter()
            for ctx, write in items:
                append(ctx, write)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            if profile:
                profile.disable()
        elif method == "library":
            insert = db.recorder.insert_events
            for stored in plan.stored[:w]:
                insert(stored)
            stored_batches = plan.stored[w:]
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            for stored in stored_batches:
                insert(stored)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        else:
            raw = backend.raw(db)
            rows = plan.rows_hex if backend.name == "sqlite" else plan.rows_uuid
            for r in rows[:w]:
                raw.append(r)
            row_batches = rows[w:]
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            for r in row_batches:
                raw.append(r)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        # Correctness, outside the timed section.
        stored_count = raw.count() if raw else count_events(db)
        if stored_count != plan.total_events:
            raise AssertionError(f"{backend.name}/{method}: {stored_count} rows stored, expected {plan.total_events}")
        if method != "sql":
            sync_seen.update(pool_synchronous(db))
        return plan.timed_events / elapsed, plan.timed_events / max(cpu, 1e-9)
    finally:
        if raw:
            raw.close()
        backend.dispose(db)


def bench_append(backend: Backend, plans: dict[int, AppendPlan], repeat: int) -> list[AppendResult]:
    results = []
    for batch, plan in plans.items():
        res = AppendResult(
            backend.name, batch, {m: [] for m in METHODS}, {m: [] for m in METHODS}, plan.timed_events, len(plan.writes) - plan.warmup
        )
        for r in range(repeat):
            order = METHODS[r % 3 :] + METHODS[: r % 3]  # rotate so no method always runs first
            for method in order:
                wall, cpu = one_append_sample(backend, plan, method, res.sync_modes)
                res.samples[method].append(wall)
                res.cpu[method].append(cpu)
            progress(
                f"{backend.name} append x{batch} repeat {r + 1}/{repeat}: " + ", ".join(f"{m} {res.samples[m][-1]:,.0f}/s" for m in METHODS)
            )
        results.append(res)
    return results


# ---------------------------------------------------------------------------------------------
# 2. Projection rebuild
# ---------------------------------------------------------------------------------------------


class CountingProjection(Projection):
    """The cheapest possible projection: counts events per name in memory, writes no row.

    Its rebuild speed is the runner's floor: read + decode + one transaction per batch.
    """

    name = "bench_count"
    tables = ("bench_count",)

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def schema(self, dialect: str) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS bench_count (name TEXT PRIMARY KEY, n BIGINT NOT NULL)"]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.counts[rec.name] += 1


@dataclass
class RebuildResult:
    backend: str
    events: int
    batch: int
    samples: dict[str, list[float]]  # events/s (wall clock)
    cpu: dict[str, list[float]]  # events per CPU-second of this process
    stages: dict[str, float] = field(default_factory=dict)  # µs/event, best of the repeats
    profile: cProfile.Profile | None = None


def populate(store: EventStore, n: int, seed: int) -> None:
    """``n`` events, 10 per new stream, 50 streams per append (fast set-up, realistic log)."""
    wl = Workload(seed)
    done = 0
    while done < n:
        writes = []
        chunk = min(500, n - done)
        while chunk > 0:
            k = min(10, chunk)
            writes.append(Write(wl.uuid(), 0, [wl.event() for _ in range(k)]))
            chunk -= k
            done += k
        store.append(wl.context(), *writes)


def scan(fetch: Callable[[int], Sequence[Any]], position_of: Callable[[Any], int]) -> int:
    position = count = 0
    while True:
        rows = fetch(position)
        if not rows:
            return count
        count += len(rows)
        position = position_of(rows[-1])


def bench_rebuild(backend: Backend, n: int, repeat: int, seed: int, profile: bool) -> RebuildResult:
    db = backend.open()
    try:
        store = EventStore(db, make_registry(), SubjectKeys(db))
        t0 = time.perf_counter()
        populate(store, n, seed)
        progress(f"{backend.name} rebuild: {n:,} events appended in {time.perf_counter() - t0:.1f}s (set-up, untimed)")
        journal, counting = JournalProjection(), CountingProjection()
        batch = Settings.from_env().projection_batch
        runner = ProjectionRunner(db, store, [journal, counting], batch=batch)
        runner.setup()
        kinds = ("journal", "counting", "read", "select")
        res = RebuildResult(backend.name, n, batch, {k: [] for k in kinds}, {k: [] for k in kinds})
        recorder = db.recorder

        def run(kind: str) -> int:
            if kind == "journal":
                return runner.rebuild([journal.name])
            if kind == "counting":
                counting.counts.clear()
                return runner.rebuild([counting.name])
            if kind == "read":
                return scan(lambda p: store.read(p, batch), lambda r: r.position)
            return scan(lambda p: recorder.select_notifications(p, batch, inclusive_of_start=False), lambda r: r.id)

        for r in range(repeat):
            order = kinds[r % 4 :] + kinds[: r % 4]
            for kind in order:
                gc.collect()
                c0, t0 = time.process_time(), time.perf_counter()
                applied = run(kind)
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
                if applied != n:
                    raise AssertionError(f"{backend.name} {kind}: {applied} events processed, expected {n}")
                res.samples[kind].append(n / elapsed)
                res.cpu[kind].append(n / max(cpu, 1e-9))
            progress(f"{backend.name} rebuild repeat {r + 1}/{repeat}: " + ", ".join(f"{k} {res.samples[k][-1]:,.0f}/s" for k in kinds))
        # Correctness, outside the timed sections.
        with db.read() as cur:
            rows = cur.scalar("SELECT COUNT(*) FROM journal")
        if rows != n or sum(counting.counts.values()) != n:
            raise AssertionError(f"{backend.name}: journal has {rows} rows, counting saw {sum(counting.counts.values())}, expected {n}")
        res.stages = stage_budget(db, store, journal, batch, repeat, res.samples["journal"])
        if profile:
            prof = cProfile.Profile()
            gc.collect()
            prof.enable()
            runner.rebuild([journal.name])
            prof.disable()
            res.profile = prof
        return res
    finally:
        backend.dispose(db)


class _Rollback(Exception):
    pass


def best_us(fn: Callable[[], Any], events: int, repeat: int) -> float:
    """Best (smallest) time of ``repeat`` calls, in µs per event: the least disturbed by a busy machine."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) / events * 1e6


def stage_budget(
    db: Database, store: EventStore, journal: JournalProjection, batch: int, repeat: int, rebuild_rates: list[float]
) -> dict[str, float]:
    """Split one journal batch into its stages (µs/event, best of ``repeat``), beside the best whole rebuild."""
    recorder = db.recorder
    records = store.read(0, batch)
    k = len(records)
    with db.write() as cur:  # empty the journal (untimed) so that the apply stage can insert these positions
        cur.execute("DELETE FROM journal")

    apply_many = getattr(journal, "apply_many", None)  # the runner's batch entry point, when the core has one

    def apply_only() -> None:
        try:
            with db.write() as cur:
                if apply_many is not None:
                    apply_many(cur, records)
                else:
                    for rec in records:
                        journal.apply(cur, rec)
                raise _Rollback
        except _Rollback:
            pass

    select = best_us(lambda: recorder.select_notifications(0, batch, inclusive_of_start=False), k, repeat)
    read = best_us(lambda: store.read(0, batch), k, repeat)
    apply = best_us(apply_only, k, repeat)
    whole = 1e6 / max(rebuild_rates)
    return {
        "select": select,
        "decode": max(read - select, 0.0),
        "apply": apply,
        "rest": max(whole - read - apply, 0.0),
        "whole": whole,
    }


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def cell(xs: list[float]) -> str:
    """Median, then half the min-max range relative to the median (noise indicator)."""
    if not xs:
        return "-"
    m = med(xs)
    spread = (max(xs) - min(xs)) / 2 / m * 100 if m else 0.0
    return f"{m:,.0f} ±{spread:.0f}%"


def short_path(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    try:
        return str(Path(filename).resolve().relative_to(REPO))
    except ValueError:
        return Path(filename).name if filename.startswith("/") else filename


def profile_table(prof: cProfile.Profile, events: int, *, sort: str, top: int = 15) -> list[str]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    entries = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.items():
        label = func if filename == "~" else f"{short_path(filename)}:{line}({func})"
        entries.append((nc, tt, ct, label))
    key = 2 if sort == "cumulative" else 1
    entries.sort(key=lambda e: e[key], reverse=True)
    total = sum(e[1] for e in entries)
    out = [
        f"Total profiled time {total:.2f}s for {events:,} events (cProfile overhead included); "
        f"top {top} by {'cumulative' if sort == 'cumulative' else 'own (tottime)'} time.",
        "",
        "| ncalls | tottime s | cumtime s | cum µs/event | function |",
        "|---:|---:|---:|---:|---|",
    ]
    for nc, tt, ct, label in entries[:top]:
        out.append(f"| {nc:,} | {tt:.3f} | {ct:.3f} | {ct / events * 1e6:.1f} | `{label}` |")
    return out


def calibrate(repeat: int) -> list[float]:
    """A fixed pure-Python loop, timed ``repeat`` times (ms): how steady the CPU is while we measure."""
    times = []
    for _ in range(max(3, repeat)):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        times.append((time.perf_counter() - t0) * 1000)
    return times


def load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


@dataclass
class Machine:
    load_before: str
    load_after: str = "?"
    calibration: list[float] = field(default_factory=list)
    busy: bool = False


def verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def report(
    args: argparse.Namespace,
    backends: list[Backend],
    skipped: dict[str, str],
    appends: list[AppendResult],
    rebuilds: list[RebuildResult],
    plans: dict[int, AppendPlan],
    append_profile: tuple[cProfile.Profile, int] | None,
    sync_mode: int | None,
    wall: float,
    machine: Machine,
) -> str:
    lines = [f"# Trame core bench, {clock.now()[:19]}Z", ""]
    lines.append(
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"eventsourcing {dist_version('eventsourcing')}, msgspec {dist_version('msgspec')}, psycopg {dist_version('psycopg')}"
    )
    for b in backends:
        lines.append(f"- {b.name}: {b.label}")
    for name, why in skipped.items():
        lines.append(f"- **{name}: SKIPPED**: {why}")
    p1 = plans[min(plans)]
    lines.append(
        f"- {args.repeat} repeats, medians; `±` is half the min–max range relative to the median. Seed {args.seed}. Whole run {wall:.0f}s."
    )
    cal = machine.calibration
    lines.append(
        f"- machine load (1/5/15 min) before {machine.load_before}, after {machine.load_after}; calibration loop "
        f"{med(cal):.0f} ms median, best {min(cal):.0f}, worst {max(cal):.0f}"
        + (
            ". **The machine was busy (load before the run near or above its CPU count, or the calibration loop 1.5x "
            "slower at times): wall-clock figures are pessimistic and noisy; "
            "see the CPU-time view and the best-of stage budget below.**"
            if machine.busy
            else "."
        )
    )
    lines.append(
        f"- append: {len(p1.writes) - p1.warmup:,} timed appends per sample (after {p1.warmup} untimed warm-up appends), "
        f"a fresh store per sample; event `{ContactRecorded.name}` (8 fields, a date string, a list), "
        f"~{p1.mean_state_bytes:.0f} bytes stored per event. Projections are **not** run inline: "
        "`EventStore.append` only (the web path `Trame.execute` also runs `catch_up` after each append)."
    )
    lines.append("")
    lines.append("## 1. Append throughput (events/s)")
    lines.append("")
    lines.append("| backend | events/append | full stack | raw library | raw SQL | full / library | full / SQL | full ≥ 0.5× library |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for a in appends:
        f, lib, sql = (med(a.samples[m]) for m in METHODS)
        lines.append(
            f"| {a.backend} | {a.batch} | {cell(a.samples['full'])} | {cell(a.samples['library'])} | {cell(a.samples['sql'])} "
            f"| {f / lib:.2f} | {f / sql:.2f} | {verdict(f / lib >= APPEND_TARGET)} |"
        )
    lines.append("")
    lines.append(
        "- full stack: `EventStore.append(Context(...), Write(stream, version, [events]))`: registry check, `validate()`, "
        "msgspec envelope, `recorder.insert_events`, `Recorded` results."
    )
    lines.append(
        "- raw library: the same recorder class (`db.recorder.insert_events([StoredEvent(...)])`) on an identically set-up "
        "Trame database, `state` pre-encoded with `json` outside the timed section"
        + (
            " (byte-identical to what the full stack stores)."
            if all(p.bytes_identical for p in plans.values())
            else " (**bytes differ** from the full stack's)."
        )
    )
    lines.append(
        "- raw SQL: `executemany` of the same rows into a plain table with the same columns (PostgreSQL: plus a bigserial), "
        "one transaction per append; no table lock, no NOTIFY, no RETURNING (which the library's PostgreSQL recorder does)."
    )
    if sync_mode is not None:
        seen = set().union(*(a.sync_modes for a in appends if a.backend == "sqlite")) or {sync_mode}
        lines.append(
            f"- SQLite: WAL; `synchronous={SYNC_NAMES.get(sync_mode, sync_mode)}` on the raw SQL connection, as on Trame's pooled "
            f"connections (seen after the samples: {', '.join(SYNC_NAMES.get(s, str(s)) for s in sorted(seen))})."
        )
    lines.append("")
    lines.append("## 2. Projection rebuild (events/s)")
    lines.append("")
    lines.append(
        "| backend | events | journal rebuild | counting rebuild | `EventStore.read` only | recorder select only "
        "| target ≥ 50,000/s (SQLite) |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    for r in rebuilds:
        if r.backend == "sqlite":
            journal_ok = med(r.samples["journal"]) >= REBUILD_TARGET
            counting_ok = med(r.samples["counting"]) >= REBUILD_TARGET
            target = f"journal {verdict(journal_ok)}, counting {verdict(counting_ok)}"
        else:
            target = "n/a"
        lines.append(
            f"| {r.backend} | {r.events:,} | {cell(r.samples['journal'])} | {cell(r.samples['counting'])} "
            f"| {cell(r.samples['read'])} | {cell(r.samples['select'])} | {target} |"
        )
    lines.append("")
    batch = rebuilds[0].batch if rebuilds else Settings.from_env().projection_batch
    lines.append(
        f"- `ProjectionRunner.rebuild([name])` (drop, recreate, catch up in batches of {batch:,}, one transaction per batch). "
        "The counting projection writes no row: it is the runner's floor. The last two columns scan the whole log "
        "without a projection: decoding to `Recorded` (`EventStore.read`), and the recorder's raw rows."
    )
    if rebuilds:
        lines += ["", "### Where a journal rebuild spends its time (µs per event, best of the repeats)", ""]
        lines.append(
            "| backend | select rows (library) | decode to `Recorded` (core) | journal apply, batch (no commit) "
            "| rest: commit, DROP/CREATE, runner | whole rebuild (best) | = events/s |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in rebuilds:
            st = r.stages
            lines.append(
                f"| {r.backend} | {st['select']:.1f} | {st['decode']:.1f} | {st['apply']:.1f} | {st['rest']:.1f} "
                f"| {st['whole']:.1f} | {1e6 / st['whole']:,.0f} |"
            )
        lines.append("")
        lines.append(f"- One batch of {batch:,} events, each stage timed alone; 50,000 events/s is a budget of 20 µs per event in total.")
    lines += ["", "### CPU-time view: events per CPU-second of the bench process (medians)", ""]
    lines.append(
        "Excludes time the process was runnable but not scheduled (a busy machine) and I/O waits; on PostgreSQL it also "
        "excludes the server's own CPU, so only the SQLite rows compare like for like."
    )
    lines.append("")
    lines.append("| backend | measure | full stack | raw library | raw SQL | full / library |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for a in appends:
        f, lib, sql = (med(a.cpu[m]) for m in METHODS)
        lines.append(f"| {a.backend} | append, {a.batch}/append | {f:,.0f} | {lib:,.0f} | {sql:,.0f} | {f / lib:.2f} |")
    lines.append("")
    lines.append("| backend | journal rebuild | counting rebuild | `EventStore.read` only | recorder select only |")
    lines.append("|---|---:|---:|---:|---:|")
    for r in rebuilds:
        lines.append(
            f"| {r.backend} | {med(r.cpu['journal']):,.0f} | {med(r.cpu['counting']):,.0f} | {med(r.cpu['read']):,.0f} "
            f"| {med(r.cpu['select']):,.0f} |"
        )
    for r in rebuilds:
        if r.profile is not None:
            lines += ["", f"## 3. cProfile: one journal rebuild on {r.backend}", ""]
            lines += profile_table(r.profile, r.events, sort="cumulative")
            lines += ["", "Same run, by own time (where the time is actually spent):", ""]
            lines += profile_table(r.profile, r.events, sort="tottime")
    if append_profile:
        prof, events = append_profile
        lines += ["", "## 4. cProfile: full-stack appends on sqlite, 1 event per append", ""]
        lines += profile_table(prof, events, sort="tottime")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.core_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--events",
        type=int,
        default=None,
        help="events appended before the rebuild benchmark (default: 50000 on SQLite, 20000 on PostgreSQL)",
    )
    ap.add_argument("--appends", type=int, default=1000, help="timed append calls per sample, for each batch size (default 1000)")
    ap.add_argument("--repeat", type=int, default=5, help="samples per measurement; medians are reported (default 5)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql (default both)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL URL (default {DEFAULT_PG_URL}); a fresh schema is used")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--tmpdir", default=None, help="where the SQLite temp files go (default: the system temp dir)")
    ap.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    ap.add_argument("--output", default=str(RESULTS), help=f"markdown report file (default {RESULTS.relative_to(REPO)})")
    args = ap.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in args.backends if b not in DEFAULT_REBUILD_EVENTS]
    if bad or not args.backends:
        ap.error(f"--backends: unknown {bad}; use sqlite and/or postgresql")
    if args.repeat < 1 or args.appends < 1 or (args.events is not None and args.events < 1):
        ap.error("--repeat, --appends and --events must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    backends: list[Backend] = []
    skipped: dict[str, str] = {}
    for name in args.backends:
        if name == "sqlite":
            backends.append(SQLiteBackend(args.tmpdir))
        else:
            try:
                backends.append(PostgresBackend(args.pg_url))
            except Exception as exc:  # unreachable server: say so, go on with SQLite
                detail = " ".join(str(exc).split())
                why = f"PostgreSQL unreachable at {args.pg_url.split('?')[0]} ({type(exc).__name__}: {detail})"
                skipped[name] = why
                print(f"\n*** {why}: continuing without it ***\n", flush=True)
                progress(why)
    if not backends:
        print("no backend available", file=sys.stderr)
        return 1

    machine = Machine(load_before=load())
    machine.calibration = calibrate(args.repeat)
    progress("building append workloads (untimed)")
    plans = {batch: build_append_plan(args.appends, batch, args.seed + batch) for batch in (1, 10)}
    appends: list[AppendResult] = []
    rebuilds: list[RebuildResult] = []
    append_profile: tuple[cProfile.Profile, int] | None = None
    sync_mode = None
    try:
        for backend in backends:
            if isinstance(backend, SQLiteBackend):
                sync_mode = backend.synchronous
            appends += bench_append(backend, plans, args.repeat)
            if backend.name == "sqlite" and not args.no_profile:
                prof = cProfile.Profile()
                one_append_sample(backend, plans[1], "full", set(), profile=prof)
                append_profile = (prof, plans[1].timed_events)
            n = args.events or DEFAULT_REBUILD_EVENTS[backend.name]
            rebuilds.append(bench_rebuild(backend, n, args.repeat, args.seed, profile=backend.name == "sqlite" and not args.no_profile))
    finally:
        for backend in backends:
            try:
                backend.close()
            except Exception as exc:  # clean-up must not hide the real error
                progress(f"clean-up of {backend.name} failed: {exc}")

    machine.load_after = load()
    machine.calibration += calibrate(args.repeat)
    cal = machine.calibration
    machine.busy = max(cal) / min(cal) > 1.5  # the same loop took 1.5x longer at times: other work competed
    with contextlib.suppress(ValueError):  # "?" when the load average is unknown
        machine.busy |= float(machine.load_before.split(" / ")[0]) > (os.cpu_count() or 1) - 0.5
    if machine.busy:
        progress("the machine was busy during the run: wall-clock figures are pessimistic")
    text = report(args, backends, skipped, appends, rebuilds, plans, append_profile, sync_mode, time.perf_counter() - started, machine)
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")
    progress(f"report written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
