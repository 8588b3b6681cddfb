"""The two supported databases behind one small interface.

The eventsourcing library owns the event table and the connection pools; read models
use the same pools through :class:`Database`, written once in SQLite's ``?`` style.
PostgreSQL statements are translated once and cached. Row objects support
``row["column"]`` on both.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

Row = Any  # sqlite3.Row or psycopg's dict row: both index by column name


class Cursor:
    """A cursor inside one transaction; statements use ``?`` placeholders."""

    def __init__(self, raw: Any, translate: Any) -> None:
        self._raw = raw
        self._translate = translate

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(self._translate(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._translate(sql), rows)

    def fetchone(self) -> Row | None:
        return self._raw.fetchone()

    def fetchall(self) -> list[Row]:
        return list(self._raw.fetchall())

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else next(iter(_values(row)))


def _values(row: Row) -> Any:
    return row.values() if isinstance(row, dict) else tuple(row)


class Database(ABC):
    """A store for events and read models. ``dialect`` is "sqlite" or "postgresql"."""

    dialect: str
    recorder: ApplicationRecorder
    #: Appended to a SELECT that must lock the rows it reads until commit.
    for_update: str

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

    def tables(self) -> list[str]:
        with self.read() as cur:
            if self.dialect == "sqlite":
                rows = cur.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            else:
                rows = cur.execute(
                    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
                ).fetchall()
        return sorted(r["name"] for r in rows)


class SQLiteDatabase(Database):
    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.datastore = SQLiteDatastore(db_name=path, pool_size=5, lock_timeout=30, originator_id_type="uuid")
        _configure_new_connections(self.datastore)
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()

    @contextmanager
    def _connection(self, *, writer: bool) -> Iterator[Any]:
        with self.datastore.get_connection(commit=writer) as conn:
            yield conn._sqlite_conn

    @contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._connection(writer=True) as raw:
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(raw.cursor(), _same)
            except BaseException:
                raw.rollback()
                raise
            raw.commit()

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        with self._connection(writer=False) as raw:
            raw.execute("BEGIN")
            try:
                yield Cursor(raw.cursor(), _same)
            finally:
                raw.rollback()

    def scrub_free_space(self) -> None:
        with self._connection(writer=True) as raw:
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.datastore.close()


def _configure_new_connections(datastore: SQLiteDatastore) -> None:
    """Every pooled connection, the recorder's included: erased rows are zeroed on disk
    (secure_delete) and WAL commits do not wait for a full sync (synchronous=NORMAL)."""
    pool = datastore.pool
    create = pool._create_connection  # the library has no connection hook

    def create_configured() -> Any:
        conn = create()
        raw: sqlite3.Connection = conn._sqlite_conn
        raw.execute("PRAGMA secure_delete=ON")
        raw.execute("PRAGMA synchronous=NORMAL")
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
            pool_size=2,
            max_overflow=8,
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
        self.recorder = PostgresApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self._sql: dict[str, str] = {}

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
