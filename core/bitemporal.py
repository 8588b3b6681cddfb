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

from collections.abc import Callable, Sequence
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

#: A copied column: a state field name, or (column name, function of the state).
Column = str | tuple[str, Callable[[dict[str, Any]], Any]]


@dataclass(frozen=True, slots=True)
class Version:
    """A row written by :meth:`BitemporalTable.record` (as known from its recording on)."""

    row_id: int
    valid_from: str
    valid_to: str
    state: dict[str, Any]
    live: bool


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

    @property
    def tables(self) -> tuple[str, str]:
        return (self.name, self.facts)

    def schema(self) -> list[str]:
        extra = "".join(f", {c} TEXT" for c in self.columns)
        n = self.name
        return [
            f"CREATE TABLE IF NOT EXISTS {n} (row_id BIGINT NOT NULL, territory TEXT NOT NULL, entity_id TEXT NOT NULL, "
            f"valid_from TEXT NOT NULL, valid_to TEXT NOT NULL, recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, "
            f"present INTEGER NOT NULL, live INTEGER NOT NULL, state TEXT NOT NULL{extra})",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {n}_row ON {n} (row_id)",
            f"CREATE INDEX IF NOT EXISTS {n}_entity ON {n} (entity_id, recorded_to, valid_from)",
            f"CREATE INDEX IF NOT EXISTS {n}_valid ON {n} (entity_id, valid_from)",
            f"CREATE INDEX IF NOT EXISTS {n}_territory ON {n} (territory, recorded_to, valid_to, valid_from)",
            f"CREATE TABLE IF NOT EXISTS {self.facts} (entity_id TEXT NOT NULL, seq BIGINT NOT NULL, "
            "effective TEXT NOT NULL, recorded_at TEXT NOT NULL, patch TEXT NOT NULL, PRIMARY KEY (entity_id, seq))",
            f"CREATE INDEX IF NOT EXISTS {self.facts}_eff ON {self.facts} (entity_id, effective, seq)",
        ]

    # -- writing ---------------------------------------------------------------------------
    def record(
        self, cur: Cursor, *, territory: str, entity_id: str, effective: str, recorded_at: str, seq: int, patch: dict[str, Any]
    ) -> Recording:
        """Add one fact; ``seq`` orders facts of equal effective time (the log position).

        Returns the rows written and superseded, so that a side index can follow them."""
        n = self.name
        cur.execute(
            f"INSERT INTO {self.facts} (entity_id, seq, effective, recorded_at, patch) VALUES (?, ?, ?, ?, ?)",
            (entity_id, seq, effective, recorded_at, _json(patch).decode()),
        )
        next_id = int(cur.scalar(f"SELECT COALESCE(MAX(row_id), 0) FROM {n}")) + 1
        written: list[Version] = []

        def insert(vf: str, vt: str, state: dict[str, Any]) -> None:
            nonlocal next_id
            live = vt > recorded_at
            self._insert(cur, next_id, territory, entity_id, vf, vt, recorded_at, state, live)
            written.append(Version(next_id, vf, vt, state, live))
            next_id += 1

        # Current-knowledge rows that end after the change are superseded as of now. They
        # are contiguous: the one holding ``effective`` and all that start later. Seeking by
        # valid_from keeps this an index range however long the entity's history is.
        first_from = cur.scalar(
            f"SELECT MAX(valid_from) FROM {n} WHERE entity_id = ? AND recorded_to = ? AND valid_from <= ?",
            (entity_id, FOREVER, effective),
        )
        start_from = effective if first_from is None else first_from
        affected = [
            row
            for row in cur.execute(
                f"SELECT row_id, valid_from, valid_to, live, state FROM {n} WHERE entity_id = ? AND recorded_to = ? AND valid_from >= ? "
                "ORDER BY valid_from",
                (entity_id, FOREVER, start_from),
            ).fetchall()
            if row["valid_to"] > effective
        ]
        superseded = [Version(r["row_id"], r["valid_from"], r["valid_to"], _load(r["state"]), bool(r["live"])) for r in affected]
        base: dict[str, Any] = {"exists": False}
        if affected:
            ids = [row["row_id"] for row in affected]
            cur.execute(f"UPDATE {n} SET recorded_to = ? WHERE row_id IN ({','.join('?' * len(ids))})", (recorded_at, *ids))
            first = affected[0]
            if first["valid_from"] < effective:
                base = superseded[0].state
                insert(first["valid_from"], effective, base)
            else:
                base = self._state_before(cur, entity_id, effective)
        else:
            base = self._state_before(cur, entity_id, effective)
        # Re-fold every fact from the change onwards (usually just the new one).
        later = cur.execute(
            f"SELECT effective, patch FROM {self.facts} WHERE entity_id = ? AND effective >= ? ORDER BY effective, seq",
            (entity_id, effective),
        ).fetchall()
        state = dict(base)
        start = effective
        for row in later:
            if row["effective"] > start:
                insert(start, row["effective"], state)
                start = row["effective"]
            state = fold(state, _load(row["patch"]))
        insert(start, FOREVER, state)
        return Recording(written, superseded)

    def _state_before(self, cur: Cursor, entity_id: str, instant: str) -> dict[str, Any]:
        row = cur.execute(
            f"SELECT state FROM {self.name} WHERE entity_id = ? AND recorded_to = ? AND valid_from < ? ORDER BY valid_from DESC LIMIT 1",
            (entity_id, FOREVER, instant),
        ).fetchone()
        return _load(row["state"]) if row else {"exists": False}

    def _insert(
        self, cur: Cursor, row_id: int, territory: str, entity_id: str, vf: str, vt: str, rf: str, state: dict[str, Any], live: bool
    ) -> None:
        cols = "".join(f", {c}" for c in self.columns)
        marks = ", ?" * len(self.columns)
        cur.execute(
            f"INSERT INTO {self.name} (row_id, territory, entity_id, valid_from, valid_to, recorded_from, recorded_to, present, "
            f"live, state{cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?{marks})",
            (
                row_id,
                territory,
                entity_id,
                vf,
                vt,
                rf,
                FOREVER,
                1 if state.get("exists") else 0,
                1 if live else 0,
                _json(state).decode(),
                *self._extra(state),
            ),
        )

    def _extra(self, state: dict[str, Any]) -> list[str | None]:
        return [_column_text(fn(state)) for _, fn in self._columns]

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

    def live_sql(self, alias: str = "") -> str:
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

    def facts_of(self, cur: Cursor, entity_id: str) -> list[dict[str, Any]]:
        rows = cur.execute(
            f"SELECT seq, effective, recorded_at, patch FROM {self.facts} WHERE entity_id = ? ORDER BY seq", (entity_id,)
        ).fetchall()
        return [{"seq": r["seq"], "effective": r["effective"], "recorded_at": r["recorded_at"], "patch": _load(r["patch"])} for r in rows]


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda state: state.get(field)


def _column_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)
