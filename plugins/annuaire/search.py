"""Full-text search over structures: names (past ones too), acronyms, missions, publics, communes.

Each row of the bitemporal structures table gets one search document, keyed by its
``row_id``, so a search is filtered by the same two intervals as every other read:
"Pôle emploi" as of 2010 matches the name the structure had then, and without a date
the current state matches through its former names.

SQLite uses FTS5 (``unicode61 remove_diacritics 2``); PostgreSQL a weighted tsvector
over ``unaccent`` text with a GIN index. Both get the same Python-normalised text
(lower case, no accents, ligatures spelt out), so both find the same things; every
query word is a prefix ("epern" finds "Épernon", "mds" the MDS).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from core.bitemporal import Version
from core.database import Cursor
from plugins.annuaire import kinds

FTS = "annuaire_structure_fts"  # SQLite
TSV = "annuaire_structure_search"  # PostgreSQL

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")
# The combining-mark blocks that NFKD leaves after Latin, Greek and Cyrillic letters.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

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


@functools.lru_cache(maxsize=65536)  # communes, publics and kinds repeat across thousands of sheets
def normalize(text: str) -> str:
    """Lower case, accents removed, ligatures spelt out: "Cœur Épernon" -> "coeur epernon"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).lower())
    return _COMBINING.sub("", decomposed)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def schema(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(name, acronym, former, body, content='', "
            "tokenize=\"unicode61 remove_diacritics 2\", prefix='2 3')"
        ]
    return [
        _PG_UNACCENT_IN_PUBLIC,
        _PG_UNACCENT,
        f"CREATE TABLE IF NOT EXISTS {TSV} (row_id BIGINT PRIMARY KEY, doc tsvector NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {TSV}_doc ON {TSV} USING GIN (doc)",
    ]


def tables(dialect: str) -> tuple[str, ...]:
    return (FTS,) if dialect == "sqlite" else (TSV,)


def document(state: dict[str, Any]) -> tuple[str, str, str, str]:
    """(name, acronym, former names, other text) of a structure state, normalised."""
    kind = kinds.kind_by_code(state.get("kind") or "")
    former = [*state.get("former_names", []), *state.get("absorbed_names", [])]
    body = [
        state.get("missions") or "",
        *state.get("publics", []),
        *state.get("communes", []),
        *(kinds.THEMES.get(t, t) for t in state.get("themes", [])),
        *((kind.acronym,) if kind else ()),  # not the label: it tells the kind's own history
    ]
    return (
        normalize(state.get("name") or ""),
        normalize(state.get("acronym") or ""),
        normalize(" ; ".join(former)),
        normalize(" ; ".join(body)),
    )


def index(cur: Cursor, dialect: str, versions: list[Version]) -> None:
    """Add the documents of rows just written to the structures table."""
    rows = [(v.row_id, *document(v.state)) for v in versions if v.state.get("exists")]
    if dialect == "sqlite":
        cur.executemany(f"INSERT INTO {FTS} (rowid, name, acronym, former, body) VALUES (?, ?, ?, ?, ?)", rows)
    else:
        vector = " || ".join(f"setweight(to_tsvector('simple', annuaire_unaccent(?)), '{w}')" for w in "AABD")
        cur.executemany(f"INSERT INTO {TSV} (row_id, doc) VALUES (?, {vector})", rows)


@dataclass(frozen=True)
class Match:
    """SQL pieces that restrict a query on ``annuaire_structures s`` to a text search, ranked."""

    source: str  # replaces "annuaire_structures s" in FROM; its parameters come first
    params: list[Any]
    rank: str = "m.score"  # an ORDER BY expression, best first


def match(dialect: str, q: str) -> Match | None:
    """None when ``q`` has no word to search for. Names and acronyms weigh most."""
    terms = words(q)
    if not terms:
        return None
    if dialect == "sqlite":
        inner = f"SELECT rowid AS rid, bm25({FTS}, 10.0, 10.0, 4.0, 1.0) AS score FROM {FTS} WHERE {FTS} MATCH ?"
        query = " ".join(f'"{t}"*' for t in terms)
    else:
        inner = f"SELECT row_id AS rid, -ts_rank(doc, q) AS score FROM {TSV}, to_tsquery('simple', annuaire_unaccent(?)) q WHERE doc @@ q"
        query = " & ".join(f"{t}:*" for t in terms)
    # SQLite would otherwise run the MATCH once per structure row: CROSS JOIN keeps it outermost.
    join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"
    return Match(source=f"({inner}) m {join} annuaire_structures s ON s.row_id = m.rid", params=[query])
