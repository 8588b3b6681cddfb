"""Full-text search over structures: names (past ones too), acronyms, missions, publics, communes.

Every version of a structure has a search document, and a search is filtered by the same
two intervals as every other read: "Pôle emploi" as of 2010 matches the name the
structure had then, and without a date the current state matches through its former names.

The full index holds each distinct document once, keyed by a hash of its text
(:func:`doc_id`, copied into the structures table's ``doc_id`` column): most changes (a
phone number, a confirmation) leave the text as it was and add nothing to it. A search as
of a past date matches documents, seeks for each of their structures the one row at that
date, and keeps it if that row's document matched: its cost follows the number of
distinct texts, not the length of a structure's history. Searches as of today use a
second index holding only the documents of the live rows (a document leaves it when no live
row bears it any more): a change that leaves the text as it was writes to neither index.

SQLite uses FTS5 (``unicode61 remove_diacritics 2``); PostgreSQL a weighted tsvector
over ``unaccent`` text with a GIN index. Both get the same Python-normalised text
(lower case, no accents, ligatures spelt out), so both find the same things; every
query word is a prefix ("epern" finds "Épernon", "mds" the MDS).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from core.bitemporal import BitemporalTable, Recording, Version, insert_many, json_param
from core.clock import FOREVER
from core.database import Cursor
from core.text import fold, words
from plugins.annuaire import kinds

FTS = "annuaire_structure_fts"  # SQLite
TSV = "annuaire_structure_search"  # PostgreSQL
# The same documents for the live rows only (see core.bitemporal): "as of today" searches
# rank about one document per structure instead of one per interval of its history.
FTS_LIVE = "annuaire_structure_fts_live"
TSV_LIVE = "annuaire_structure_search_live"
#: SQLite: which structures bear each document of the full index (two may share a text);
#: PostgreSQL keeps the structure's id beside each document of its index instead.
DOCS = "annuaire_structure_docs"

_load = msgspec.json.decode
_LIVE = BitemporalTable.live_sql("s")  # literal, as the structures table's partial indexes are written

# PostgreSQL: ``unaccent()`` is not IMMUTABLE and lives in whichever schema created the
# extension; wrap it once, schema-qualified, in a function of our own.
_PG_UNACCENT = (
    "DO $$ DECLARE s text; BEGIN "
    "SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'; "
    "EXECUTE format('CREATE OR REPLACE FUNCTION annuaire_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L', "
    "format('SELECT %I.unaccent(%L::regdictionary, $1)', s, s || '.unaccent')); END $$"
)


# The extension is database-wide but lives in one schema: keep it in ``public`` so that
# dropping a tenant schema (or a test schema) never takes it away from the others.
_PG_UNACCENT_IN_PUBLIC = (
    "DO $$ BEGIN "
    "IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN CREATE EXTENSION unaccent SCHEMA public; "
    "ELSIF (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent') "
    "<> 'public' THEN ALTER EXTENSION unaccent SET SCHEMA public; END IF; END $$"
)


def schema(dialect: str) -> list[str]:
    """The search tables (their PostgreSQL indexes are in :func:`indexes`)."""
    if dialect == "sqlite":
        options = "tokenize=\"unicode61 remove_diacritics 2\", prefix='2 3'"
        return [
            *(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(name, acronym, former, body, content='', {options})"
                for table in (FTS, FTS_LIVE)
            ),
            f"CREATE TABLE IF NOT EXISTS {DOCS} (doc_id INTEGER NOT NULL, entity_id TEXT NOT NULL, PRIMARY KEY (doc_id, entity_id)) "
            "WITHOUT ROWID",
        ]
    return [
        _PG_UNACCENT_IN_PUBLIC,
        _PG_UNACCENT,
        f"CREATE TABLE IF NOT EXISTS {TSV} (doc_id BIGINT NOT NULL, entity_id TEXT NOT NULL, doc tsvector NOT NULL, "
        "PRIMARY KEY (doc_id, entity_id))",
        f"CREATE TABLE IF NOT EXISTS {TSV_LIVE} (doc_id BIGINT PRIMARY KEY, doc tsvector NOT NULL)",
    ]


def indexes(dialect: str) -> list[str]:
    """PostgreSQL's GIN indexes: built once at the end of a rebuild, far faster than row by row."""
    if dialect == "sqlite":
        return []
    return [f"CREATE INDEX IF NOT EXISTS {table}_doc ON {table} USING GIN (doc)" for table in (TSV, TSV_LIVE)]


def tables(dialect: str) -> tuple[str, ...]:
    return (FTS, FTS_LIVE, DOCS) if dialect == "sqlite" else (TSV, TSV_LIVE)


def document(state: dict[str, Any]) -> tuple[str, str, str, str]:
    """(name, acronym, former names, other text) of a structure state, normalised."""
    return _document(
        state.get("name") or "",
        state.get("acronym") or "",
        tuple(state.get("former_names", ())),
        tuple(state.get("absorbed_names", ())),
        state.get("missions") or "",
        tuple(state.get("publics", ())),
        tuple(state.get("communes", ())),
        tuple(state.get("themes", ())),
        state.get("kind") or "",
    )


# Most changes leave the text as it was (a phone number, a confirmation): compute it once.
@functools.lru_cache(maxsize=16384)
def _document(
    name: str,
    acronym: str,
    former_names: tuple[str, ...],
    absorbed_names: tuple[str, ...],
    missions: str,
    publics: tuple[str, ...],
    communes: tuple[str, ...],
    themes: tuple[str, ...],
    kind_code: str,
) -> tuple[str, str, str, str]:
    kind = kinds.kind_by_code(kind_code)
    body = [
        missions,
        *publics,
        *communes,
        *(kinds.THEMES.get(t, t) for t in themes),
        *((kind.acronym,) if kind else ()),  # not the label: it tells the kind's own history
    ]
    return (fold(name), fold(acronym), fold(" ; ".join((*former_names, *absorbed_names))), fold(" ; ".join(body)))


def doc_id(state: dict[str, Any]) -> int | None:
    """The full index's key of a state's document (None when the structure is absent then)."""
    return _doc_key(document(state)) if state.get("exists") else None


@functools.lru_cache(maxsize=16384)
def _doc_key(doc: tuple[str, str, str, str]) -> int:
    # 63 bits of a hash of the text: a positive BIGINT and FTS5 rowid; equal texts, one key.
    return int.from_bytes(hashlib.blake2b("\x1f".join(doc).encode(), digest_size=8).digest(), "big") >> 1


# The same vector from four arrays, for many rows in one statement.
# unaccent() maps only non-ASCII characters (its rules have no ASCII source): ASCII text,
# flagged "1" from Python, skips it (most of the vector's cost).
_VECTORS = " || ".join(
    f"setweight(to_tsvector('simple', CASE WHEN substr(u.f, {i}, 1) = '1' THEN u.{c} ELSE annuaire_unaccent(u.{c}) END), '{w}')"
    for i, (c, w) in enumerate(zip("abcd", "AABD", strict=True), start=1)
)


class Documents:
    """The full index's documents met over a batch of facts, written once at its end: those of
    the rows written, each (document, structure) once, and only those not indexed already."""

    def __init__(self) -> None:
        self.pending: dict[tuple[int, str], tuple[str, str, str, str]] = {}

    def follow(self, recording: Recording, entity_id: str) -> None:
        # A row whose text is that of a row it replaces (a new phone number; the part a change
        # keeps before its date) has its document indexed already, for this structure.
        kept = {doc_id(v.state) for v in recording.superseded}
        for v in recording.written:
            state = v.state
            if state.get("exists"):
                doc = document(state)
                key = _doc_key(doc)
                if key not in kept:
                    self.pending.setdefault((key, entity_id), doc)

    def write(self, cur: Cursor, dialect: str) -> None:
        pending, self.pending = self.pending, {}
        if not pending:
            return
        ids = sorted({d for d, _ in pending})
        pairs: set[tuple[int, str]] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            if dialect == "postgresql":
                found = cur.rows(f"SELECT doc_id, entity_id FROM {TSV} WHERE doc_id = ANY(?::bigint[])", (chunk,))
            else:
                found = cur.rows(f"SELECT doc_id, entity_id FROM {DOCS} WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk)
            pairs.update((d, e) for d, e in found)
        new = sorted(p for p in pending if p not in pairs)
        if dialect == "postgresql":
            _pg_insert(cur, TSV, {"doc_id": "bigint", "entity_id": "text"}, [(d, e, *pending[(d, e)]) for d, e in new])
            return
        insert_many(cur, dialect, DOCS, ("doc_id", "entity_id"), ("bigint", "text"), new)
        indexed = {d for d, _ in pairs}
        docs = {d: pending[(d, e)] for d, e in new if d not in indexed}
        write(cur, dialect, [(d, *doc) for d, doc in sorted(docs.items())])


def write(cur: Cursor, dialect: str, rows: list[tuple[Any, ...]], table: str = "") -> None:
    """Add (document key, name, acronym, former, body) rows: to SQLite's full index, or to
    ``table``, the live one (PostgreSQL's full index: :meth:`Documents.write`)."""
    if not rows:
        return
    if dialect == "sqlite":
        cur.executemany(f"INSERT INTO {table or FTS} (rowid, name, acronym, former, body) VALUES (?, ?, ?, ?, ?)", rows)
    else:
        _pg_insert(cur, table, {"doc_id": "bigint"}, rows)


def _pg_insert(cur: Cursor, table: str, keys: dict[str, str], rows: list[tuple[Any, ...]]) -> None:
    """Rows of ``keys`` (column -> SQL type) then the four texts, their vector computed by the
    server, in one statement."""
    if not rows:
        return
    n = len(keys)
    picked = ", ".join(f"(e->>{i})::{t} AS {k}" for i, (k, t) in enumerate(keys.items()))
    texts = ", ".join(f"e->>{n + i} AS {c}" for i, c in enumerate("abcd"))
    cur.execute(
        f"INSERT INTO {table} ({', '.join(keys)}, doc) SELECT {', '.join(f'u.{k}' for k in keys)}, {_VECTORS} "
        f"FROM (SELECT {picked}, {texts}, e->>{n + 4} AS f FROM jsonb_array_elements(?::jsonb) AS e) u",
        (json_param([(*row, "".join("1" if text.isascii() else "0" for text in row[n:])) for row in rows]),),
    )


def fill_live(cur: Cursor, dialect: str, table: BitemporalTable) -> None:
    """The live index from scratch (the end of a rebuild): the documents of the live rows of
    current knowledge, exactly those that :class:`LiveDocuments` keeps."""
    if dialect == "sqlite":
        cur.execute(f"INSERT INTO {FTS_LIVE} ({FTS_LIVE}) VALUES ('delete-all')")
    else:
        cur.execute(f"DELETE FROM {TSV_LIVE}")
    live = FTS_LIVE if dialect == "sqlite" else TSV_LIVE
    docs: dict[int, str] = {}
    for doc, state in cur.rows(f"SELECT doc_id, state FROM {table.name} WHERE {table.live_sql()} AND present = 1 ORDER BY doc_id"):
        docs.setdefault(doc, state)
    rows = sorted(docs.items())
    for start in range(0, len(rows), 20_000):
        write(cur, dialect, [(doc, *document(_load(state))) for doc, state in rows[start : start + 20_000]], live)


class LiveDocuments:
    """The live index's changes over a batch of facts, written once at its end.

    The index holds a document while a live row bears it: :meth:`before` (called before the
    batch's rows are written) and :meth:`write` (after) ask the table which of the documents
    touched were and are borne, and only the difference reaches the index. FTS5 gets one
    ordered pass of deletions then insertions: deleting per fact would flush its pending
    terms to a new segment each time (10x slower)."""

    def __init__(self) -> None:
        self.texts: dict[int, dict[str, Any]] = {}  # doc id -> a state that has that document
        self.was: set[int] = set()  # borne by a stored live row this batch supersedes
        self.written: list[tuple[int, Version]] = []
        self.borne: set[int] = set()

    def follow(self, recording: Recording) -> None:
        for v in recording.superseded:
            if v.live and v.state.get("exists"):
                doc = self._text(v)
                if not v.new:
                    self.was.add(doc)
        self.written += [(self._text(v), v) for v in recording.written if v.live and v.state.get("exists")]

    def _text(self, v: Version) -> int:
        doc = doc_id(v.state)
        assert doc is not None
        self.texts.setdefault(doc, v.state)
        return doc

    def before(self, cur: Cursor) -> None:
        """Which documents were borne before the batch (those it does not tell by itself)."""
        self.borne = self.was | _borne(cur, sorted(self.texts.keys() - self.was))

    def write(self, cur: Cursor, dialect: str) -> None:
        # A row written by the batch and still current bears its document: ask about the others.
        kept = {doc for doc, v in self.written if v.recorded_to == FOREVER}
        now = kept | _borne(cur, sorted(self.texts.keys() - kept))
        gone = [(doc, *document(self.texts[doc])) for doc in sorted(self.borne - now)]
        new = [(doc, *document(self.texts[doc])) for doc in sorted(now - self.borne)]
        if dialect == "sqlite":
            # A contentless table forgets a document given the very text it indexed: document()
            # is a pure function of the state (change it, and bump the projection's version).
            cur.executemany(
                f"INSERT INTO {FTS_LIVE} ({FTS_LIVE}, rowid, name, acronym, former, body) VALUES ('delete', ?, ?, ?, ?, ?)", gone
            )
            write(cur, dialect, new, FTS_LIVE)
        else:
            if gone:
                cur.execute(f"DELETE FROM {TSV_LIVE} WHERE doc_id = ANY(?::bigint[])", ([row[0] for row in gone],))
            write(cur, dialect, new, TSV_LIVE)
        self.texts.clear()
        self.was, self.written, self.borne = set(), [], set()


def _borne(cur: Cursor, docs: list[int]) -> set[int]:
    """The documents among ``docs`` that a live row of current knowledge bears."""
    out: set[int] = set()
    if not docs:
        return out
    for start in range(0, len(docs), 500):
        chunk = docs[start : start + 500]
        rows = cur.rows(
            f"SELECT DISTINCT doc_id FROM annuaire_structures WHERE {BitemporalTable.live_sql()} AND present = 1 "
            f"AND doc_id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        out.update(r[0] for r in rows)
    return out


@dataclass(frozen=True)
class Match:
    """SQL pieces that restrict a query on ``annuaire_structures s`` to a text search, ranked."""

    source: str  # replaces "annuaire_structures s" in FROM; its parameters come first
    params: list[Any]
    rank: str = "m.score"  # an ORDER BY expression, best first


def match(dialect: str, q: str, *, live: bool = False, as_of: str = "", known_at: str | None = None) -> Match | None:
    """None when ``q`` has no word to search for. Names and acronyms weigh most.

    ``live``: search the live rows' index only (reads as known now, as of now or later);
    otherwise the documents of the full index, each structure's row at (``as_of``,
    ``known_at``) found by one seek, kept when its own document is among those matched."""
    terms = words(q)
    if not terms:
        return None
    if not live:
        return _match_at(dialect, terms, as_of, known_at)
    if dialect == "sqlite":
        inner = f"SELECT rowid AS did, bm25({FTS_LIVE}, 10.0, 10.0, 4.0, 1.0) AS score FROM {FTS_LIVE} WHERE {FTS_LIVE} MATCH ?"
        query = " ".join(f'"{t}"*' for t in terms)
    else:
        inner = (
            f"SELECT doc_id AS did, -ts_rank(doc, q) AS score FROM {TSV_LIVE}, to_tsquery('simple', annuaire_unaccent(?)) q WHERE doc @@ q"
        )
        query = " & ".join(f"{t}:*" for t in terms)
    # SQLite would otherwise run the MATCH once per structure row: CROSS JOIN keeps it outermost.
    join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"
    # The live rows that bear each document (the caller's conditions keep those of the date).
    return Match(source=f"({inner}) m {join} annuaire_structures s ON s.doc_id = m.did AND {_LIVE}", params=[query])


def _match_at(dialect: str, terms: list[str], as_of: str, known_at: str | None) -> Match:
    if known_at is None:  # current knowledge tiles valid time: the last row starting by then
        at, at_params = "x.recorded_to = ? AND x.valid_from <= ?", [FOREVER, as_of]
    else:
        at, at_params = (
            "x.valid_from <= ? AND x.valid_to > ? AND x.recorded_from <= ? AND x.recorded_to > ?",
            [as_of, as_of, known_at, known_at],
        )
    seek = f"SELECT x.row_id FROM annuaire_structures x WHERE x.entity_id = d.entity_id AND {at} ORDER BY x.valid_from DESC LIMIT 1"
    if dialect == "sqlite":
        inner = f"SELECT rowid AS did, bm25({FTS}, 10.0, 10.0, 4.0, 1.0) AS score FROM {FTS} WHERE {FTS} MATCH ?"
        source = (
            f"({inner}) m CROSS JOIN {DOCS} d ON d.doc_id = m.did "
            f"CROSS JOIN annuaire_structures s ON s.row_id = ({seek}) AND s.doc_id = m.did"
        )
        return Match(source=source, params=[" ".join(f'"{t}"*' for t in terms), *at_params])
    # Each structure matched is sought once (however many of its texts match), and the rank is
    # computed for the rows kept only (ts_rank is most of a search's cost).
    source = (
        "(SELECT to_tsquery('simple', annuaire_unaccent(?)) AS q) qq "
        f"CROSS JOIN LATERAL (SELECT DISTINCT t.entity_id FROM {TSV} t WHERE t.doc @@ qq.q) d "
        f"CROSS JOIN LATERAL ({seek}) a JOIN annuaire_structures s ON s.row_id = a.row_id "
        f"JOIN {TSV} m ON m.doc_id = s.doc_id AND m.entity_id = s.entity_id AND m.doc @@ qq.q"
    )
    return Match(source=source, params=[" & ".join(f"{t}:*" for t in terms), *at_params], rank="-ts_rank(m.doc, qq.q)")
