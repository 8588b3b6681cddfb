"""The two supported databases behind one small interface.

The eventsourcing library owns the event table and the connection pools; read models
use the same pools through :class:`Database`, written once in SQLite's ``?`` style.
PostgreSQL statements are translated once and cached. Row objects support
``row["column"]`` on both.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
from eventsourcing.persistence import ApplicationRecorder, IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

Row = Any  # sqlite3.Row or psycopg's dict row: both index by column name


class Cursor:
    """A cursor inside one transaction; statements use ``?`` placeholders."""

    #: True inside a rebuild's batch: a projection may then defer what it can build in bulk.
    rebuilding: bool = False

    def __init__(self, raw: Any, translate: Any) -> None:
        self._raw = raw
        self._translate = translate
        self._tuples: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(self._translate(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._translate(sql), rows)

    def column_names(self) -> set[str]:
        """Columns of the last statement's result."""
        return {d[0] for d in self._raw.description or ()}

    def scalar_of_last(self) -> Any:
        """The first column of the last statement's first row (``INSERT ... RETURNING``)."""
        row = self._raw.fetchone()
        return None if row is None else next(iter(_values(row)))

    @property
    def lastrowid(self) -> int:
        return int(self._raw.lastrowid)

    def fetchone(self) -> Row | None:
        return self._raw.fetchone()

    def fetchall(self) -> list[Row]:
        return list(self._raw.fetchall())

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Plain tuples in column order, for hot paths that need no names (reading the log)."""
        if self._tuples is None:
            self._tuples = _tuple_cursor(self._raw)
        self._tuples.execute(self._translate(sql), params)
        return list(self._tuples.fetchall())

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else next(iter(_values(row)))


def _tuple_cursor(raw: Any) -> Any:
    if isinstance(raw, sqlite3.Cursor):
        cursor = raw.connection.cursor()
        cursor.row_factory = None
        return cursor
    from psycopg.rows import tuple_row

    return raw.connection.cursor(row_factory=tuple_row)


def _values(row: Row) -> Any:
    return row.values() if isinstance(row, dict) else tuple(row)


class Database(ABC):
    """A store for events and read models. ``dialect`` is "sqlite" or "postgresql"."""

    dialect: str
    recorder: ApplicationRecorder
    #: Appended to a SELECT that must lock the rows it reads until commit.
    for_update: str
    #: What the driver raises when a unique key is taken (a stream version written twice).
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError, IntegrityError)

    @abstractmethod
    @contextmanager
    def write(self) -> Iterator[Cursor]:
        """A serialised read-write transaction: committed on success, rolled back on error."""

    @abstractmethod
    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """A read-only snapshot."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def scrub_free_space(self) -> None:
        """Make deleted rows unrecoverable from the database files (after an erasure)."""

    def listener(self) -> Listener:
        """Something to wait on for new events: a follower sleeps on it between catch-ups."""
        return Listener()

    def tables(self) -> list[str]:
        with self.read() as cur:
            if self.dialect == "sqlite":
                rows = cur.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            else:
                rows = cur.execute(
                    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
                ).fetchall()
        return sorted(r["name"] for r in rows)


class Listener:
    """Waits for new events in the log; this one only sleeps (SQLite has no notifications)."""

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass


class _PostgresListener(Listener):
    """LISTEN on the channel that every append NOTIFYs (in its transaction, so the
    notification arrives once the events are visible)."""

    def __init__(self, conninfo: dict[str, Any], schema: str, channel: str) -> None:
        import psycopg

        self._conn = psycopg.connect(**conninfo, autocommit=True, options=f"-c search_path={schema}")
        self._conn.execute(f'LISTEN "{channel}"')

    def wait(self, timeout: float, stop: threading.Event) -> None:
        # Notifications that came while catching up are queued on the connection: the
        # first one returns at once, and the rest are drained (one catch-up covers them).
        # Waits in short slices so that a stop (SIGTERM) is heard within half a second.
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if any(True for _ in self._conn.notifies(timeout=min(left, 0.5), stop_after=1)):
                break
        for _ in self._conn.notifies(timeout=0):
            pass

    def close(self) -> None:
        self._conn.close()


class SQLiteDatabase(Database):
    """One SQLite file, with its connections owned here rather than by the library's pool.

    Writers queue on one writer connection (a lock in this process, ``BEGIN IMMEDIATE``
    with a busy timeout across processes) instead of timing out on a pool semaphore, and
    readers take an idle connection or open one: a WAL reader never waits for a writer.
    The library's datastore is kept for what it does well: creating the event table.
    """

    dialect = "sqlite"
    for_update = ""
    #: Seconds a writer waits for another process's transaction before giving up.
    busy_timeout = 30.0

    def __init__(self, path: str) -> None:
        if path == ":memory:" or "mode=memory" in path:
            raise ValueError("Trame needs an SQLite file (several connections share it), not :memory:")
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.datastore = SQLiteDatastore(db_name=path, pool_size=1, lock_timeout=int(self.busy_timeout), originator_id_type="uuid")
        _configure_new_connections(self.datastore)
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self._writer = self._connect()
        self._writer_lock = threading.Lock()
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._opened: list[sqlite3.Connection] = [self._writer]
        self._opened_lock = threading.Lock()
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout, cached_statements=512)
        raw.row_factory = sqlite3.Row
        _pragmas(raw)
        return raw

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        if getattr(self._local, "writing", False):
            raise RuntimeError("a write transaction is already open in this thread: pass its cursor instead")
        with self._writer_lock:
            self._local.writing = True
            raw = self._writer
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield Cursor(raw.cursor(), _same)
                except BaseException:
                    raw.rollback()
                    raise
                raw.commit()
            finally:
                self._local.writing = False

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        try:
            raw = self._idle.get_nowait()
        except queue.Empty:
            raw = self._connect()
            with self._opened_lock:
                self._opened.append(raw)
        try:
            raw.execute("BEGIN")
            try:
                yield Cursor(raw.cursor(), _same)
            finally:
                raw.rollback()
        finally:
            self._idle.put(raw)

    def scrub_free_space(self) -> None:
        with self._writer_lock:
            self._writer.execute("VACUUM")
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._opened_lock:
            for raw in self._opened:
                raw.close()
            self._opened.clear()
        self.datastore.close()


def _pragmas(raw: sqlite3.Connection) -> None:
    """Erased rows are zeroed on disk (secure_delete) and WAL commits do not wait for a
    full sync (synchronous=NORMAL: a power cut may lose the last commits, never corrupt)."""
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA secure_delete=ON")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA cache_size=-65536")  # 64 MiB per connection: rebuilds touch large indexes
    raw.execute("PRAGMA temp_store=MEMORY")


def _configure_new_connections(datastore: SQLiteDatastore) -> None:
    """The library's own connections (table creation, the bench's raw floor) get the same pragmas."""
    pool = datastore.pool
    create = pool._create_connection  # the library has no connection hook

    def create_configured() -> Any:
        conn = create()
        _pragmas(conn._sqlite_conn)
        return conn

    pool._create_connection = create_configured  # type: ignore[method-assign]


def _same(sql: str) -> str:
    return sql


class PostgresDatabase(Database):
    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, *, host: str, port: int, dbname: str, user: str, password: str, schema: str = "") -> None:
        self.schema = schema or "public"
        self.datastore = PostgresDatastore(
            dbname=dbname,
            host=host,
            port=port,
            user=user,
            password=password,
            # Up to 16 connections; a request waits up to 30 s for one rather than failing
            # (the library's "connect_timeout" is also the pool's wait).
            pool_size=2,
            max_overflow=14,
            connect_timeout=30,
            schema=self.schema,
            originator_id_type="uuid",
        )
        # Read models live in the same schema as the events.
        pool_kwargs: dict[str, Any] = self.datastore.pool.kwargs  # type: ignore[assignment]
        pool_kwargs["options"] = f"-c search_path={self.schema}"
        if schema:
            with self.datastore.get_connection() as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                conn.commit()
        self._recorder = PostgresApplicationRecorder(self.datastore)
        self.recorder = self._recorder
        self.recorder.create_table()
        self._sql: dict[str, str] = {}
        self._conninfo = {"host": host, "port": port, "dbname": dbname, "user": user, "password": password}

    def _translate(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        return out

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn, conn.transaction():
            yield Cursor(conn.cursor(), self._translate)

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        with self.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
            yield Cursor(conn.cursor(), self._translate)

    def scrub_free_space(self) -> None:
        with self.datastore.get_connection() as conn:
            conn.autocommit = True
            try:
                for table in self.tables():
                    conn.execute(f'VACUUM FULL "{self.schema}"."{table}"')
            finally:
                conn.autocommit = False

    def listener(self) -> Listener:
        return _PostgresListener(self._conninfo, self.schema, self._recorder.channel_name)

    def drop_schema(self) -> None:
        with self.datastore.get_connection() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            conn.commit()

    def close(self) -> None:
        self.datastore.close()


def open_database(url: str) -> Database:
    """``sqlite:///path/file.db`` or ``postgresql://user[:password]@host[:port]/db[?schema=name]``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"TRAME_DATABASE_URL {url!r}: expected sqlite:///path/to/file.db")
        return SQLiteDatabase(path)
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        return PostgresDatabase(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            dbname=(parsed.path or "/").lstrip("/") or "postgres",
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            schema=query.get("schema", [""])[0],
        )
    raise ValueError(f"TRAME_DATABASE_URL {url!r}: use sqlite:///... or postgresql://...")
