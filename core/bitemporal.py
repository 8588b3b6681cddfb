"""Bitemporal interval tables: "as of" (valid time) and "known at" (transaction time).

A :class:`BitemporalTable` keeps, for each entity, rows of its whole state over
``[valid_from, valid_to)`` as known during ``[recorded_from, recorded_to)``, plus the
facts (field patches) they were folded from. Recording a fact closes the current-
knowledge rows it changes and writes the new ones, so that reads are index seeks:

* state of one entity at (as_of, known_at): one row, found through
  ``(entity_id, recorded_to, valid_from)`` when known_at is now;
* a list at a date: the rows whose two intervals contain the two instants.

A patch is a dict of fields to set; the field ``exists`` (False) makes the entity
absent over that period (it left, merged, was withdrawn). A key written ``+field``
appends its value to the list ``field`` instead of replacing it (former names), so
that a fact inserted earlier in valid time is not lost by later ones.

Every row has a ``row_id`` unique in the table (a side index, e.g. full text, can
point at it) and ``present`` (1 when the entity exists in that row), for filtering.

``live`` is 1 when a row's valid time had not ended when it was recorded. A row current
at any instant from now on is live, and among the rows of current knowledge (most of
them past intervals of long histories) only about one per entity is: "as of today"
lists read the live rows through a small partial index (:meth:`live_sql`) instead of
every interval ever valid.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from core import clock
from core.clock import FOREVER
from core.database import Cursor

#: An instant after every recording and before FOREVER: "as known now".
CURRENT = "9999-12-31T23:59:59.999998Z"

_json = msgspec.json.encode
_load = msgspec.json.decode

#: A copied column: a state field name, or (column name, function of the state) kept as TEXT,
#: or (column name, function of the state) as a :class:`Key`: a BIGINT (a side index's key).
Column = str | tuple[str, Callable[[dict[str, Any]], Any]]


class Key:
    """A BIGINT column computed from the state (e.g. the id of a full-text document that
    rows of equal text share), instead of TEXT."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[dict[str, Any]], int | None]) -> None:
        self.fn = fn

    def __call__(self, state: dict[str, Any]) -> int | None:
        return self.fn(state)


class Version:
    """A row written by :meth:`BitemporalTable.record` (as known from its recording on).

    A :class:`Batch` keeps its rows as these (``recorded_to`` and ``new`` are its own
    bookkeeping: the row's knowledge end so far, and whether it is still to be inserted)."""

    __slots__ = ("live", "new", "recorded_from", "recorded_to", "row_id", "state", "territory", "valid_from", "valid_to")

    def __init__(
        self,
        row_id: int,
        valid_from: str,
        valid_to: str,
        state: dict[str, Any],
        live: bool,
        territory: str = "",
        recorded_from: str = "",
        new: bool = False,
    ) -> None:
        self.row_id = row_id
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.state = state
        self.live = live
        self.territory = territory
        self.recorded_from = recorded_from
        self.recorded_to = FOREVER
        self.new = new

    def __repr__(self) -> str:
        return f"Version({self.row_id}, {self.valid_from!r}, {self.valid_to!r}, live={self.live})"


@dataclass(frozen=True, slots=True)
class Recording:
    """What one fact did: rows written, and current-knowledge rows it superseded (for side indexes)."""

    written: list[Version]
    superseded: list[Version]


def fold(state: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a patch: plain keys replace, ``+key`` appends to the list ``key``."""
    out = dict(state)
    for key, value in patch.items():
        if key.startswith("+"):
            name = key[1:]
            out[name] = [*out.get(name, []), value]
        else:
            out[key] = value
    return out


class BitemporalTable:
    def __init__(self, name: str, columns: Sequence[Column] = ()) -> None:
        """``columns``: state fields (or computed values) copied into indexed TEXT columns, for filtering."""
        self.name = name
        self.facts = f"{name}_facts"
        self._columns: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [(c, _getter(c)) if isinstance(c, str) else c for c in columns]
        self.columns = tuple(c for c, _ in self._columns)
        self.column_types = tuple("bigint" if isinstance(fn, Key) else "text" for _, fn in self._columns)

    @property
    def tables(self) -> tuple[str, str]:
        return (self.name, self.facts)

    def schema(self, dialect: str = "") -> list[str]:
        """The tables and the index that :meth:`record` reads; the others are in :meth:`indexes`."""
        extra = "".join(f", {c} {t.upper()}" for c, t in zip(self.columns, self.column_types, strict=True))
        n = self.name
        # On SQLite the row id is the table's own key (one B-tree fewer to keep up).
        key = "row_id INTEGER PRIMARY KEY" if dialect == "sqlite" else "row_id BIGINT PRIMARY KEY"
        return [
            f"CREATE TABLE IF NOT EXISTS {n} ({key}, territory TEXT NOT NULL, entity_id TEXT NOT NULL, "
            f"valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, "
            f"present INTEGER NOT NULL, live INTEGER NOT NULL, state TEXT NOT NULL{extra})",
            f"CREATE INDEX IF NOT EXISTS {n}_entity ON {n} (entity_id, recorded_to, valid_from)",
            f"CREATE TABLE IF NOT EXISTS {self.facts} (entity_id TEXT NOT NULL, seq BIGINT NOT NULL, "
            "effective TEXT NOT NULL, recorded_at TEXT NOT NULL, patch TEXT NOT NULL, PRIMARY KEY (entity_id, seq))",
            f"CREATE INDEX IF NOT EXISTS {self.facts}_eff ON {self.facts} (entity_id, effective, seq)",
        ]

    def indexes(self) -> list[str]:
        """Indexes that only reads use ("known at" lookups, lists of a territory)."""
        n = self.name
        return [
            f"CREATE INDEX IF NOT EXISTS {n}_valid ON {n} (entity_id, valid_from)",
            f"CREATE INDEX IF NOT EXISTS {n}_territory ON {n} (territory, recorded_to, valid_to, valid_from)",
        ]

    # -- writing ---------------------------------------------------------------------------
    def batch(self, cur: Cursor, dialect: str = "") -> Batch:
        """Facts recorded through the returned :class:`Batch` are folded in memory and written
        by its :meth:`Batch.flush` in a few statements; the result is the same as recording
        them one by one."""
        return Batch(self, cur, dialect)

    def record(
        self, cur: Cursor, *, territory: str, entity_id: str, effective: str, recorded_at: str, seq: int, patch: dict[str, Any]
    ) -> Recording:
        """Add one fact; ``seq`` orders facts of equal effective time (the log position).

        Returns the rows written and superseded, so that a side index can follow them."""
        batch = self.batch(cur)
        recording = batch.record(
            territory=territory, entity_id=entity_id, effective=effective, recorded_at=recorded_at, seq=seq, patch=patch
        )
        batch.flush()
        return recording

    def _extra(self, state: dict[str, Any]) -> list[Any]:
        return [fn(state) if isinstance(fn, Key) else _column_text(fn(state)) for _, fn in self._columns]

    def rewrite(self, cur: Cursor, entity_id: str, fields: dict[str, Any]) -> None:
        """Overwrite fields in every row and fact of an entity (erasure of personal data)."""
        sets = "".join(f", {c} = ?" for c in self.columns)
        rows = cur.execute(f"SELECT row_id, state FROM {self.name} WHERE entity_id = ?", (entity_id,)).fetchall()
        for row in rows:
            state = {**_load(row["state"]), **fields}
            cur.execute(
                f"UPDATE {self.name} SET state = ?{sets} WHERE row_id = ?",
                (_json(state).decode(), *self._extra(state), row["row_id"]),
            )
        for row in cur.execute(f"SELECT seq, patch FROM {self.facts} WHERE entity_id = ?", (entity_id,)).fetchall():
            patch = _load(row["patch"])
            patch.update({k: v for k, v in fields.items() if k in patch})
            cur.execute(
                f"UPDATE {self.facts} SET patch = ? WHERE entity_id = ? AND seq = ?", (_json(patch).decode(), entity_id, row["seq"])
            )

    # -- reading ---------------------------------------------------------------------------
    def get(self, cur: Cursor, entity_id: str, *, as_of: str, known_at: str | None = None) -> dict[str, Any] | None:
        """The entity's state at ``as_of`` as known at ``known_at`` (None: as known now)."""
        state = self.state_at(cur, entity_id, as_of, known_at)
        return state if state.get("exists") else None

    def state_at(self, cur: Cursor, entity_id: str, as_of: str, known_at: str | None = None) -> dict[str, Any]:
        """The raw state at an instant, ``{"exists": False}`` before the first fact."""
        if known_at is None:
            row = cur.execute(
                f"SELECT valid_to, state FROM {self.name} WHERE entity_id = ? AND recorded_to = ? AND valid_from <= ? "
                "ORDER BY valid_from DESC LIMIT 1",
                (entity_id, FOREVER, as_of),
            ).fetchone()
        else:
            row = cur.execute(
                f"SELECT valid_to, state FROM {self.name} WHERE entity_id = ? AND valid_from <= ? AND valid_to > ? "
                "AND recorded_from <= ? AND recorded_to > ? ORDER BY valid_from DESC LIMIT 1",
                (entity_id, as_of, as_of, known_at, known_at),
            ).fetchone()
        if row is None or row["valid_to"] <= as_of:
            return {"exists": False}
        state: dict[str, Any] = _load(row["state"])
        return state

    def where_sql(self, alias: str = "") -> str:
        """The condition selecting rows at (as_of, known_at); takes 4 params: see :meth:`where_params`."""
        a = f"{alias}." if alias else ""
        return f"{a}valid_from <= ? AND {a}valid_to > ? AND {a}recorded_from <= ? AND {a}recorded_to > ?"

    @staticmethod
    def live_sql(alias: str = "") -> str:
        """The live rows of current knowledge, as a literal condition: the planners of SQLite
        and PostgreSQL then use partial indexes made by :meth:`live_index`."""
        a = f"{alias}." if alias else ""
        return f"{a}recorded_to = '{FOREVER}' AND {a}live = 1"

    def live_index(self, suffix: str, columns: str) -> str:
        """A partial index over the live rows (about one per entity)."""
        return f"CREATE INDEX IF NOT EXISTS {self.name}_{suffix} ON {self.name} ({columns}) WHERE {self.live_sql()}"

    @staticmethod
    def reads_live(as_of: str | None, known_at: str | None) -> bool:
        """True when the rows at (as_of, known_at) are all live: known now, as of now (None) or later."""
        return known_at is None and (as_of is None or as_of >= clock.now())

    @staticmethod
    def where_params(as_of: str, known_at: str | None) -> tuple[str, str, str, str]:
        # "As known now" selects exactly the rows whose knowledge is still open.
        k = known_at or CURRENT
        return (as_of, as_of, k, k)

    def all_at(self, cur: Cursor, territory: str, *, as_of: str, known_at: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        rows = cur.execute(
            f"SELECT entity_id, state FROM {self.name} WHERE territory = ? AND present = 1 AND {self.where_sql()}",
            (territory, *self.where_params(as_of, known_at)),
        ).fetchall()
        return [(row["entity_id"], _load(row["state"])) for row in rows]


_Row = Version


#: A fact held in memory: (effective, seq, patch).
_Fact = tuple[str, int, dict[str, Any]]
_NO_FACT = ("", -1)


class _Entity:
    """What a batch knows of one entity: a suffix of its current-knowledge rows (in valid
    time order, to the end) and every fact after ``facts_after`` ((effective, seq))."""

    __slots__ = ("complete", "facts", "facts_after", "rows")

    def __init__(self, rows: list[_Row], complete: bool) -> None:
        self.rows = rows
        self.complete = complete  # no current row before rows[0]
        self.facts: list[_Fact] = []
        # The last row starts at the latest fact's effective time: no later fact is stored.
        self.facts_after: tuple[str, int] = (rows[-1].valid_from, _MAX_SEQ) if rows else _NO_FACT

    def covers(self, instant: str) -> bool:
        """True when the row holding the instant just before ``instant`` is loaded (or none exists)."""
        return self.complete or self.rows[0].valid_from < instant


_MAX_SEQ = 2**63 - 1


class Batch:
    """Facts of one transaction, folded in memory and written at :meth:`flush`.

    Each entity's current-knowledge rows are read once (from the row holding the earliest
    instant asked for, found by a backward index seek, to the end); facts are read only when
    one is back-dated to or before the latest one already stored. :meth:`flush` inserts the
    facts and the new rows (those superseded in the batch already carry their ``recorded_to``)
    and closes the stored rows that were superseded: exactly the rows that recording the
    facts one by one would leave."""

    #: Entities per prefetch statement.
    CHUNK = 500

    def __init__(self, table: BitemporalTable, cur: Cursor, dialect: str = "") -> None:
        self.table = table
        self.cur = cur
        self.dialect = dialect
        self.entities: dict[str, _Entity] = {}
        self.new_rows: list[tuple[str, _Row]] = []
        self.new_facts: list[tuple[str, int, str, str, str]] = []
        self.closed: list[tuple[str, int]] = []  # (recorded_to, row_id) of stored rows
        self.next_id: int | None = None

    # -- reading -------------------------------------------------------------------------
    def prefetch(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Load, in a few statements, the entities about to be recorded: (entity_id, earliest effective)."""
        earliest: dict[str, str] = {}
        for entity_id, instant in wanted:
            if entity_id not in self.entities and (entity_id not in earliest or instant < earliest[entity_id]):
                earliest[entity_id] = instant
        items = list(earliest.items())
        for start in range(0, len(items), self.CHUNK):
            self._load(items[start : start + self.CHUNK])

    def _load(self, items: list[tuple[str, str]]) -> None:
        n = self.table.name
        cols = "r.entity_id, r.territory, r.row_id, r.valid_from, r.valid_to, r.recorded_from, r.live, r.state"
        if self.dialect == "postgresql":
            sql = (
                f"SELECT {cols} FROM unnest(?::text[], ?::text[]) AS w(e, t) "
                f"CROSS JOIN LATERAL (SELECT COALESCE((SELECT x.valid_from FROM {n} x WHERE x.entity_id = w.e AND x.recorded_to = ? "
                "AND x.valid_from < w.t ORDER BY x.valid_from DESC LIMIT 1), '') AS low) b "
                f"JOIN {n} r ON r.entity_id = w.e AND r.recorded_to = ? AND r.valid_from >= b.low ORDER BY r.entity_id, r.valid_from"
            )
            params: tuple[Any, ...] = ([e for e, _ in items], [t for _, t in items], FOREVER, FOREVER)
        else:
            values = ", ".join("(?, ?)" for _ in items)
            sql = (
                f"WITH w(e, t) AS (VALUES {values}) SELECT {cols} FROM w JOIN {n} r ON r.entity_id = w.e AND r.recorded_to = ? "
                f"AND r.valid_from >= COALESCE((SELECT x.valid_from FROM {n} x WHERE x.entity_id = w.e AND x.recorded_to = ? "
                "AND x.valid_from < w.t ORDER BY x.valid_from DESC LIMIT 1), '') ORDER BY r.entity_id, r.valid_from"
            )
            params = (*(v for item in items for v in item), FOREVER, FOREVER)
        found: dict[str, list[_Row]] = {}
        for e, territory, row_id, vf, vt, rf, live, state in self.cur.rows(sql, params):
            found.setdefault(e, []).append(_Row(row_id, vf, vt, _load(state), bool(live), territory, rf))
        for entity_id, instant in items:
            rows = found.get(entity_id, [])
            self.entities[entity_id] = _Entity(rows, not rows or rows[0].valid_from >= instant)

    def _entity(self, entity_id: str, instant: str) -> _Entity:
        ent = self.entities.get(entity_id)
        if ent is None:
            self._load([(entity_id, instant)])
            return self.entities[entity_id]
        if not ent.covers(instant):  # back-dated before the rows loaded: read the earlier ones
            n = self.table.name
            rows = [
                _Row(row_id, vf, vt, _load(state), bool(live), territory, rf)
                for territory, row_id, vf, vt, rf, live, state in self.cur.rows(
                    f"SELECT territory, row_id, valid_from, valid_to, recorded_from, live, state FROM {n} "
                    f"WHERE entity_id = ? AND recorded_to = ? AND valid_from < ? AND valid_from >= COALESCE((SELECT valid_from FROM {n} "
                    "WHERE entity_id = ? AND recorded_to = ? AND valid_from < ? ORDER BY valid_from DESC LIMIT 1), '') ORDER BY valid_from",
                    (entity_id, FOREVER, ent.rows[0].valid_from, entity_id, FOREVER, instant),
                )
            ]
            ent.rows[:0] = rows
            ent.complete = not rows or rows[0].valid_from >= instant
        return ent

    def _facts_from(self, entity_id: str, ent: _Entity, effective: str) -> None:
        """Make sure every fact effective at or after ``effective`` is in memory."""
        low = (effective, -1)
        if ent.facts_after <= low:
            return
        bound = ent.facts_after
        stored = [
            (eff, seq, _load(patch))
            for eff, seq, patch in self.cur.rows(
                f"SELECT effective, seq, patch FROM {self.table.facts} WHERE entity_id = ? AND effective >= ? AND effective <= ? "
                "ORDER BY effective, seq",
                (entity_id, effective, bound[0]),
            )
            if (eff, seq) <= bound
        ]
        ent.facts[:0] = stored
        ent.facts_after = low

    def state_at(self, entity_id: str, instant: str) -> dict[str, Any]:
        """The raw state as known now (this batch included), ``{"exists": False}`` before the first fact."""
        ent = self._entity(entity_id, instant)
        rows = ent.rows
        i = bisect.bisect_right(rows, instant, key=_vf) - 1
        if i < 0 or rows[i].valid_to <= instant:
            return {"exists": False}
        return rows[i].state

    # -- writing -------------------------------------------------------------------------
    def record(self, *, territory: str, entity_id: str, effective: str, recorded_at: str, seq: int, patch: dict[str, Any]) -> Recording:
        """As :meth:`BitemporalTable.record`, in memory until :meth:`flush`."""
        ent = self._entity(entity_id, effective)
        self._facts_from(entity_id, ent, effective)
        if self.next_id is None:
            self.next_id = int(self.cur.scalar(f"SELECT COALESCE(MAX(row_id), 0) FROM {self.table.name}")) + 1
        self.new_facts.append((entity_id, seq, effective, recorded_at, _json(patch).decode()))
        bisect.insort(ent.facts, (effective, seq, patch))  # seqs are unique: patches are never compared
        rows = ent.rows
        # Current-knowledge rows that end after the change are superseded as of now: the one
        # holding ``effective`` and all that start later.
        i = max(0, bisect.bisect_right(rows, effective, key=_vf) - 1)
        affected = rows[i:]
        written: list[_Row] = []

        def insert(vf: str, vt: str, state: dict[str, Any]) -> None:
            assert self.next_id is not None
            row = _Row(self.next_id, vf, vt, state, vt > recorded_at, territory, recorded_at, True)
            self.next_id += 1
            written.append(row)
            self.new_rows.append((entity_id, row))

        base: dict[str, Any] = {"exists": False}
        if affected:
            for row in affected:
                row.recorded_to = recorded_at
                if not row.new:
                    self.closed.append((recorded_at, row.row_id))
            first = affected[0]
            if first.valid_from < effective:
                base = first.state
                insert(first.valid_from, effective, base)
            elif i > 0:
                base = rows[i - 1].state
        # Re-fold every fact from the change onwards (usually just the new one).
        state = dict(base)
        start = effective
        j = bisect.bisect_left(ent.facts, (effective, -1))
        for eff, _, fact in ent.facts[j:]:
            if eff > start:
                insert(start, eff, state)
                start = eff
            state = fold(state, fact)
        insert(start, FOREVER, state)
        del rows[i:]
        rows.extend(written)
        return Recording(written, affected)

    def flush(self) -> None:
        """Write what the batch recorded; the batch stays usable (its memory is kept)."""
        table, cur = self.table, self.cur
        facts, self.new_facts = self.new_facts, []
        new_rows, self.new_rows = self.new_rows, []
        closed, self.closed = self.closed, []
        for _, row in new_rows:
            row.new = False
        # Rows of one fact often share a state (the part kept before a change): encode it once.
        memo: dict[int, tuple[Any, ...]] = {}
        rows = []
        for entity_id, row in new_rows:
            state = row.state
            enc = memo.get(id(state))
            if enc is None:
                enc = memo[id(state)] = (1 if state.get("exists") else 0, _json(state).decode(), *table._extra(state))
            rows.append(
                (
                    *(row.row_id, row.territory, entity_id, row.valid_from, row.valid_to, row.recorded_from, row.recorded_to),
                    *(enc[0], 1 if row.live else 0, *enc[1:]),
                )
            )
        names = ("row_id", "territory", "entity_id", "valid_from", "valid_to", "recorded_from", "recorded_to", "present", "live", "state")
        fact_names, fact_types = ("entity_id", "seq", "effective", "recorded_at", "patch"), ("text", "bigint", "text", "text", "text")
        insert_many(cur, self.dialect, table.facts, fact_names, fact_types, facts)
        types = ("bigint", "text", "text", "text", "text", "text", "text", "integer", "integer", "text", *table.column_types)
        insert_many(cur, self.dialect, table.name, (*names, *table.columns), types, rows)
        if self.dialect == "postgresql":
            if closed:
                cur.execute(
                    f"UPDATE {table.name} SET recorded_to = e->>0 FROM jsonb_array_elements(?::jsonb) AS e WHERE row_id = (e->>1)::bigint",
                    (json_param(closed),),
                )
            return
        cur.executemany(f"UPDATE {table.name} SET recorded_to = ? WHERE row_id = ?", closed)


def _vf(row: _Row) -> str:
    return row.valid_from


def insert_many(
    cur: Cursor,
    dialect: str,
    table: str,
    names: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    suffix: str = "",
) -> None:
    """Many rows in few statements: executemany on SQLite; on PostgreSQL one statement whose
    only parameter is the rows as one JSON array (encoded by msgspec, parsed by the server:
    psycopg's pure-Python adaptation of arrays of long strings costs far more). ``types``:
    the SQL type of each column; ``suffix``: e.g. an ON CONFLICT clause (keys then distinct)."""
    if not rows:
        return
    columns = ", ".join(names)
    if dialect == "postgresql":
        cur.execute(
            f"INSERT INTO {table} ({columns}) SELECT {json_columns(types)} FROM jsonb_array_elements(?::jsonb) AS e{suffix}",
            (_json(rows).decode(),),
        )
    else:
        cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(names))}){suffix}", rows)


def json_columns(types: Sequence[str], alias: str = "e") -> str:
    """PostgreSQL: the fields of each element ``alias`` of a JSON array of arrays, as columns of ``types``."""
    return ", ".join(f"{alias}->>{i}" if t == "text" else f"({alias}->>{i})::{t}" for i, t in enumerate(types))


def json_param(rows: Sequence[Sequence[Any]]) -> str:
    return _json(rows).decode()


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda state: state.get(field)


def _column_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)
