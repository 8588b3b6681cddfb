"""The directory's read models, built only from its events.

``annuaire.structures``: the bitemporal sheets (``annuaire_structures`` and its
facts), their search documents, the current stream version of each structure (the
ETag) and the structures' timeline with field-level before/after.

``annuaire.people``: people (current values), their details over valid and transaction
time (``annuaire_people_details``: name, professional e-mail and phone "as of" a date and
"known at" a time), both blanked on erasure; contacts as a bitemporal interval table (valid
``[since, until)``, known ``[recorded_from, recorded_to)``) with their role and free-text job
title; and the people's and contacts' timeline.

Timelines are written here, at apply time, because "before" is the state this
projection holds at that moment; reading another projection's tables would see it
at another position of the log.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import msgspec

from core.bitemporal import CURRENT, BitemporalTable, Key, insert_many, json_param
from core.clock import BEGINNING, FOREVER
from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from core.text import fold, words
from plugins.annuaire import search
from plugins.annuaire.events import (
    CONTACT_EVENTS,
    PERSON_EVENTS,
    STRUCTURE_EVENTS,
    ContactCorrected,
    ContactEnded,
    ContactStarted,
    PersonChanged,
    PersonErased,
    PersonRegistered,
    StructureAbsorbed,
    StructureChanged,
    StructureConfirmed,
    StructureJoined,
    StructureLeft,
    StructureMerged,
    StructureRejoined,
    present_fields,
)

_json = msgspec.json.encode
PERSONAL = ("full_name", "email", "phone")
#: A person's details over time. The details a person is registered with hold for every earlier
#: date too (the directory knew no other), until a dated change (``PersonChanged``'s effective).
PEOPLE_DETAILS = BitemporalTable("annuaire_people_details")

STRUCTURES = BitemporalTable(
    "annuaire_structures",
    # Lists are kept as "|a|b|", normalised, for filters written ``LIKE '%|value|%'``.
    columns=(
        "kind",
        ("communes", lambda s: _bars(s.get("communes"))),
        ("themes", lambda s: _bars(s.get("themes"))),
        ("roles", lambda s: _bars(s.get("roles"))),
        ("sort_name", lambda s: fold(s.get("name") or "")),
        ("doc_id", Key(search.doc_id)),  # the full search index's document of the row
    ),
)


def _bars(values: list[str] | None) -> str:
    return _bars_of(tuple(values or ()))


@functools.lru_cache(maxsize=16384)
def _bars_of(values: tuple[str, ...]) -> str:
    return "|" + "|".join(fold(v) for v in values) + "|"


_HISTORY_COLUMNS = (
    "position BIGINT PRIMARY KEY, territory TEXT NOT NULL, subject_id TEXT NOT NULL, structure_id TEXT, person_id TEXT, "
    "event TEXT NOT NULL, label TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, effective TEXT NOT NULL, "
    "reason TEXT, changes TEXT NOT NULL"
)


def _history_schema(table: str, dialect: str) -> list[str]:
    # On SQLite the position is the table's own key (one B-tree fewer to keep up).
    columns = (
        _HISTORY_COLUMNS.replace("position BIGINT PRIMARY KEY", "position INTEGER PRIMARY KEY") if dialect == "sqlite" else _HISTORY_COLUMNS
    )
    return [f"CREATE TABLE IF NOT EXISTS {table} ({columns})"]


def _history_indexes(table: str) -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {table}_structure ON {table} (structure_id, position)",
        f"CREATE INDEX IF NOT EXISTS {table}_person ON {table} (person_id, position)",
        f"CREATE INDEX IF NOT EXISTS {table}_territory ON {table} (territory, recorded_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_author ON {table} (territory, author, recorded_at)",
    ]


_HISTORY_NAMES = (
    "position",
    "territory",
    "subject_id",
    "structure_id",
    "person_id",
    "event",
    "label",
    "author",
    "recorded_at",
    "effective",
    "reason",
    "changes",
)
_HISTORY_TYPES = ("bigint", *("text" for _ in _HISTORY_NAMES[1:]))


def _history_row(
    rec: Recorded,
    label: str,
    changes: list[tuple[str, Any, Any]],
    *,
    structure_id: str | None = None,
    person_id: str | None = None,
    subject_id: str | None = None,
) -> tuple[Any, ...]:
    return (
        rec.position,
        rec.territory,
        subject_id or str(rec.stream_id),
        structure_id,
        person_id,
        rec.name,
        label,
        rec.author,
        rec.recorded_at,
        rec.effective,
        rec.reason,
        _json([list(c) for c in changes]).decode(),
    )


def _write_history(
    cur: Cursor,
    table: str,
    rec: Recorded,
    label: str,
    changes: list[tuple[str, Any, Any]],
    *,
    structure_id: str | None = None,
    person_id: str | None = None,
    subject_id: str | None = None,
) -> None:
    """One history line written at once (the erasure path; batches collect :func:`_history_row`)."""
    row = _history_row(rec, label, changes, structure_id=structure_id, person_id=person_id, subject_id=subject_id)
    cur.execute(f"INSERT INTO {table} ({', '.join(_HISTORY_NAMES)}) VALUES ({', '.join('?' * len(row))})", row)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


class StructuresProjection(Projection):
    name = "annuaire.structures"
    # 2: live rows and their search index; 3: read-side indexes built after a rebuild, row ids as keys;
    # 4: the search indexes hold each distinct document once (doc_id)
    version = 4
    topics = tuple(e.name for e in STRUCTURE_EVENTS)

    # Both databases' search tables: each database creates its own, dropping the other's is harmless.
    tables = (
        *STRUCTURES.tables,
        "annuaire_structure_streams",
        "annuaire_structure_history",
        *search.tables("sqlite"),
        *search.tables("postgresql"),
    )

    def __init__(self) -> None:
        self.dialect = ""

    def schema(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            *STRUCTURES.schema(dialect),
            "CREATE TABLE IF NOT EXISTS annuaire_structure_streams (structure_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "version BIGINT NOT NULL, confirmed_at TEXT, updated_at TEXT NOT NULL)",
            *_history_schema("annuaire_structure_history", dialect),
            *search.schema(dialect),
        ]

    def indexes(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            *STRUCTURES.indexes(),
            "CREATE INDEX IF NOT EXISTS annuaire_structures_sorted ON annuaire_structures "
            "(territory, recorded_to, sort_name, entity_id, present, valid_from, valid_to, row_id)",
            # "As of today", in name order or counted: about one row per structure.
            STRUCTURES.live_index("live_sorted", "territory, sort_name, entity_id, present, valid_from, valid_to, kind, row_id"),
            # Today's search joins its documents' live rows here: index-only, half the time of the table.
            STRUCTURES.live_index("live_docs", "doc_id, territory, present, valid_from, valid_to, sort_name, entity_id, row_id"),
            "CREATE INDEX IF NOT EXISTS annuaire_structure_streams_territory ON annuaire_structure_streams (territory, confirmed_at)",
            *_history_indexes("annuaire_structure_history"),
            *search.indexes(dialect),
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        """One batch: each structure's rows read once, folded in memory, written in a few statements.

        In a rebuild the live search index is left to :meth:`rebuilt` (filled once, in bulk)."""
        rebuilding = getattr(cur, "rebuilding", False)
        batch = STRUCTURES.batch(cur, self.dialect)
        batch.prefetch((rec.event.structure_id, rec.effective) for rec in records)  # type: ignore[attr-defined]
        live = None if rebuilding else search.LiveDocuments()
        documents = search.Documents()
        streams: dict[str, list[Any]] = {}
        history: list[tuple[Any, ...]] = []
        for rec in records:
            e: Any = rec.event
            sid = e.structure_id
            before = batch.state_at(sid, rec.effective)
            label, patch, changes = self._patch(rec, before)
            recording = batch.record(
                territory=rec.territory,
                entity_id=sid,
                effective=rec.effective,
                recorded_at=rec.recorded_at,
                seq=rec.position,
                patch=patch,
            )
            documents.follow(recording, sid)
            if live is not None:
                live.follow(recording)
            confirmed = rec.recorded_at if isinstance(e, StructureConfirmed | StructureJoined) else None
            stream = streams.get(sid)
            if stream is None:
                streams[sid] = [sid, rec.territory, rec.version, confirmed, rec.recorded_at]
            else:
                stream[2], stream[4] = rec.version, rec.recorded_at
                if confirmed is not None:
                    stream[3] = confirmed
            history.append(_history_row(rec, label, changes, structure_id=sid))
        if live is not None:
            live.before(cur)
        batch.flush()
        documents.write(cur, self.dialect)
        if live is not None:
            live.write(cur, self.dialect)
        # One upsert per structure and batch: the same row as one per event.
        insert_many(
            cur,
            self.dialect,
            "annuaire_structure_streams",
            ("structure_id", "territory", "version", "confirmed_at", "updated_at"),
            ("text", "text", "bigint", "text", "text"),
            list(streams.values()),
            " ON CONFLICT (structure_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, "
            "confirmed_at = COALESCE(excluded.confirmed_at, annuaire_structure_streams.confirmed_at)",
        )
        insert_many(cur, self.dialect, "annuaire_structure_history", _HISTORY_NAMES, _HISTORY_TYPES, history)

    def rebuilt(self, cur: Cursor) -> None:
        search.fill_live(cur, self.dialect, STRUCTURES)

    @staticmethod
    def _patch(rec: Recorded, before: dict[str, Any]) -> tuple[str, dict[str, Any], list[tuple[str, Any, Any]]]:
        """(history label, patch of the state, field changes) for one event."""
        e = rec.event
        if isinstance(e, StructureJoined):
            fields = msgspec.to_builtins(e.sheet)
            patch = {"exists": True, "joined": rec.effective, **fields}
            return "Entrée dans le réseau", patch, [(k, None, v) for k, v in fields.items() if v not in (None, [])]
        if isinstance(e, StructureChanged):
            patch = msgspec.to_builtins(present_fields(e.changes))
            changes = _diff(before, patch)
            old = e.previous_name or before.get("name")
            if "name" in patch and old and old != patch["name"]:
                patch["+former_names"] = old
                return "Changement de nom", patch, changes
            return "Modification de la fiche", patch, changes
        if isinstance(e, StructureMerged):
            patch = {"exists": False, "merged_into": e.into, "left": rec.effective}
            return "Fusion dans une autre structure", patch, [("exists", True, False), ("merged_into", None, e.into)]
        if isinstance(e, StructureAbsorbed):
            patch = {"+absorbed": e.absorbed, "+absorbed_names": e.absorbed_name}
            return "Absorbe une structure", patch, [("absorbed", None, e.absorbed)]
        if isinstance(e, StructureLeft):
            return "Départ du réseau", {"exists": False, "left": rec.effective}, [("exists", True, False)]
        if isinstance(e, StructureRejoined):
            patch = {"exists": True, "joined": rec.effective, "left": None, "merged_into": None}
            return "Retour dans le réseau", patch, [("exists", False, True)]
        if isinstance(e, StructureConfirmed):
            return "Fiche confirmée", {"confirmed_at": rec.recorded_at}, []
        raise TypeError(f"unexpected event {rec.name}")


class PeopleProjection(Projection):
    name = "annuaire.people"
    # 2: read-side indexes built after a rebuild; 3: people's details over time, contacts' job titles
    version = 3
    topics = tuple(e.name for e in (*PERSON_EVENTS, *CONTACT_EVENTS))
    tables = ("annuaire_people", "annuaire_contacts", "annuaire_people_history", *PEOPLE_DETAILS.tables)

    def __init__(self) -> None:
        self.dialect = ""

    def schema(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            "CREATE TABLE IF NOT EXISTS annuaire_people (person_id TEXT PRIMARY KEY, territory TEXT NOT NULL, full_name TEXT, "
            "email TEXT, phone TEXT, search TEXT, version BIGINT NOT NULL, erased INTEGER NOT NULL DEFAULT 0, "
            "registered_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS annuaire_contacts (contact_id TEXT NOT NULL, territory TEXT NOT NULL, structure_id TEXT NOT NULL, "
            "person_id TEXT NOT NULL, role TEXT NOT NULL, theme TEXT, since TEXT NOT NULL, until TEXT NOT NULL, "
            "recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, version BIGINT NOT NULL, title TEXT, title_search TEXT)",
            # Read by apply (a contact's current row).
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_id ON annuaire_contacts (contact_id, recorded_to)",
            *_history_schema("annuaire_people_history", dialect),
            *PEOPLE_DETAILS.schema(dialect),
        ]

    def indexes(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            "CREATE INDEX IF NOT EXISTS annuaire_people_territory ON annuaire_people (territory, search)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_structure ON annuaire_contacts (structure_id, recorded_to, since)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_person ON annuaire_contacts (person_id, recorded_to, since)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_role ON annuaire_contacts (territory, role, recorded_to)",
            *_history_indexes("annuaire_people_history"),
            *PEOPLE_DETAILS.indexes(),
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        """One batch in memory (people and contacts touched are read once), written in a few statements."""
        batch = _PeopleBatch(cur, self.dialect)
        batch.prefetch(records)
        for rec in records:
            e = rec.event
            if isinstance(e, PersonErased):
                batch.flush()  # the erasure rewrites stored rows: store everything before it
                batch.people.pop(e.person_id, None)
                batch.details.entities.pop(e.person_id, None)  # its versions in memory held the values
                self._erase(cur, rec)
            elif isinstance(e, PersonRegistered | PersonChanged):
                batch.person(rec)
            else:
                batch.contact(rec)
        batch.flush()

    @staticmethod
    def _erase(cur: Cursor, rec: Recorded) -> None:
        pid = rec.event.person_id  # type: ignore[attr-defined]
        # Every version of the details, and the facts they were folded from, lose the values.
        PEOPLE_DETAILS.rewrite(cur, pid, dict.fromkeys(PERSONAL))
        cur.execute(
            "UPDATE annuaire_people SET full_name = NULL, email = NULL, phone = NULL, search = NULL, erased = 1, version = ? "
            "WHERE person_id = ?",
            (rec.version, pid),
        )
        # Personal values in the person's timeline go too (as a rebuild would read them:
        # absent); the entries stay.
        for row in cur.execute("SELECT position, changes FROM annuaire_people_history WHERE person_id = ?", (pid,)).fetchall():
            changes = [c for c in msgspec.json.decode(row["changes"]) if c[0] not in PERSONAL]
            cur.execute("UPDATE annuaire_people_history SET changes = ? WHERE position = ?", (_json(changes).decode(), row["position"]))
        _write_history(cur, "annuaire_people_history", rec, "Effacement des données personnelles (RGPD)", [], person_id=pid)


_PEOPLE_NAMES = ("person_id", "territory", "full_name", "email", "phone", "search", "version", "erased", "registered_at")
_PEOPLE_TYPES = ("text", "text", "text", "text", "text", "text", "bigint", "integer", "text")
_CONTACT_FIELDS = ("contact_id", "structure_id", "person_id", "role", "theme", "since", "until", "title")
_CONTACT_NAMES = (
    "contact_id",
    "territory",
    "structure_id",
    "person_id",
    "role",
    "theme",
    "since",
    "until",
    "recorded_from",
    "recorded_to",
    "version",
    "title",
    "title_search",
)
_CONTACT_TYPES = ("text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "bigint", "text", "text")


class _PeopleBatch:
    """The people and current contacts a batch touches, in memory; :meth:`flush` writes the
    rows that applying the events one by one would have left."""

    def __init__(self, cur: Cursor, dialect: str) -> None:
        self.cur = cur
        self.dialect = dialect
        # person_id -> its row as a dict (None: not stored); "new" rows are inserted, "dirty" ones updated.
        self.people: dict[str, dict[str, Any] | None] = {}
        self.new_people: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        # contact_id -> its current row (None: none); rows to insert; stored current rows to close.
        self.contacts: dict[str, dict[str, Any] | None] = {}
        self.new_contacts: list[dict[str, Any]] = []
        self.closed: list[tuple[str, str]] = []
        self.history: list[tuple[Any, ...]] = []
        self.details = PEOPLE_DETAILS.batch(cur, dialect)

    def _in(self, column: str, ids: list[str]) -> tuple[str, list[Any]]:
        if self.dialect == "postgresql":
            return f"{column} = ANY(?::text[])", [ids]
        return f"{column} IN ({','.join('?' * len(ids))})", list(ids)

    def prefetch(self, records: Sequence[Recorded]) -> None:
        self.details.prefetch(
            (r.event.person_id, BEGINNING if isinstance(r.event, PersonRegistered) else r.effective)
            for r in records
            if isinstance(r.event, PersonRegistered | PersonChanged)
        )
        people = sorted({r.event.person_id for r in records if isinstance(r.event, PersonChanged)} - set(self.people))
        contacts = sorted(
            {r.event.contact_id for r in records if isinstance(r.event, ContactEnded | ContactCorrected)} - set(self.contacts)
        )
        for start in range(0, len(people), 500):
            chunk = people[start : start + 500]
            self.people.update(dict.fromkeys(chunk))
            where, params = self._in("person_id", chunk)
            for row in self.cur.execute(f"SELECT person_id, full_name, email, phone FROM annuaire_people WHERE {where}", params).fetchall():
                self.people[row["person_id"]] = {"full_name": row["full_name"], "email": row["email"], "phone": row["phone"]}
        for start in range(0, len(contacts), 500):
            chunk = contacts[start : start + 500]
            self.contacts.update(dict.fromkeys(chunk))
            where, params = self._in("contact_id", chunk)
            rows = self.cur.execute(
                f"SELECT {', '.join(_CONTACT_FIELDS)} FROM annuaire_contacts WHERE {where} AND recorded_to = ?", (*params, FOREVER)
            ).fetchall()
            for row in rows:
                self.contacts[row["contact_id"]] = {**dict(row), "new": False}

    # -- people ----------------------------------------------------------------------------
    def person(self, rec: Recorded) -> None:
        e = rec.event
        pid = e.person_id  # type: ignore[attr-defined]
        if isinstance(e, PersonRegistered):
            values = {"full_name": e.full_name, "email": e.email, "phone": e.phone}
            row = {
                "person_id": pid,
                "territory": rec.territory,
                **values,
                "version": rec.version,
                "erased": int(rec.erased),
                "registered_at": rec.recorded_at,
            }
            if pid in self.new_people:  # registered twice: the stored row would refuse it
                self.flush()
            self.new_people[pid] = row
            self.people[pid] = row
            # The details registered hold from the beginning of (valid) time, as known from now on.
            self.details.record(
                territory=rec.territory, entity_id=pid, effective=BEGINNING, recorded_at=rec.recorded_at, seq=rec.position,
                patch={"exists": True, **values},
            )  # fmt: skip
            changes = [(k, None, v) for k, v in values.items() if v is not None]
            self.history.append(_history_row(rec, "Nouvelle personne", changes, person_id=pid))
            return
        assert isinstance(e, PersonChanged)
        if pid not in self.people:
            self.prefetch([rec])
        current = self.people[pid]
        after = present_fields(e)
        after.pop("person_id")
        # "Before" is what the details were at the change's effective date (it may be back-dated).
        then = self.details.state_at(pid, rec.effective)
        before = {k: then.get(k) for k in PERSONAL} if then.get("exists") else ({k: current[k] for k in PERSONAL} if current else {})
        self.details.record(
            territory=rec.territory, entity_id=pid, effective=rec.effective, recorded_at=rec.recorded_at, seq=rec.position, patch=after
        )
        if current is not None:
            # The current row holds the latest details in valid time (a back-dated change leaves it be).
            latest = self.details.state_at(pid, CURRENT)
            current.update({k: latest.get(k) for k in PERSONAL})
            current["version"] = rec.version
            if pid not in self.new_people:
                self.dirty.add(pid)
        self.history.append(_history_row(rec, "Modification des coordonnées", _diff(before, after), person_id=pid))

    # -- contacts --------------------------------------------------------------------------
    def _insert_contact(self, rec: Recorded, row: dict[str, Any]) -> None:
        new = {
            **row,
            "territory": rec.territory,
            "recorded_from": rec.recorded_at,
            "recorded_to": FOREVER,
            "version": rec.version,
            "new": True,
        }
        self.new_contacts.append(new)
        self.contacts[row["contact_id"]] = new

    def contact(self, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, ContactStarted):
            row = {
                "contact_id": e.contact_id,
                "structure_id": e.structure_id,
                "person_id": e.person_id,
                "role": e.role,
                "theme": e.theme,
                "since": e.since,
                "until": FOREVER,
                "title": e.title,
            }
            self._insert_contact(rec, row)
            changes = [("person", None, e.person_id), ("role", None, e.role), ("since", None, e.since)]
            if e.theme:
                changes.append(("theme", None, e.theme))
            if e.title:
                changes.append(("title", None, e.title))
            self.history.append(
                _history_row(rec, "Nouveau contact", changes, structure_id=e.structure_id, person_id=e.person_id, subject_id=e.contact_id)
            )
            return
        assert isinstance(e, ContactEnded | ContactCorrected)
        if e.contact_id not in self.contacts:
            self.prefetch([rec])
        current = self.contacts[e.contact_id]
        if current is None:  # the service refuses this; tolerate it in a replay
            return
        before = {k: current[k] for k in _CONTACT_FIELDS}
        if isinstance(e, ContactEnded):
            after: dict[str, Any] = {"until": e.until}
            label = "Fin de contact"
        else:
            after = present_fields(e)
            after.pop("contact_id")
            if "until" in after and after["until"] is None:
                after["until"] = FOREVER
            label = "Correction d'un contact"
        if current["new"]:
            current["recorded_to"] = rec.recorded_at
        else:
            self.closed.append((rec.recorded_at, e.contact_id))
        self._insert_contact(rec, {**before, **after})
        changes = [(f, _open(b), _open(a)) for f, b, a in _diff(before, after)]
        self.history.append(
            _history_row(rec, label, changes, structure_id=before["structure_id"], person_id=before["person_id"], subject_id=e.contact_id)
        )

    # -- writing ---------------------------------------------------------------------------
    def flush(self) -> None:
        cur, dialect = self.cur, self.dialect
        people = [
            (*(row[k] for k in _PEOPLE_NAMES[:5]), _searchable(row["full_name"]), *(row[k] for k in _PEOPLE_NAMES[6:]))
            for row in self.new_people.values()
        ]
        insert_many(cur, dialect, "annuaire_people", _PEOPLE_NAMES, _PEOPLE_TYPES, people)
        changed = [
            (row["full_name"], row["email"], row["phone"], _searchable(row["full_name"]), row["version"], pid)
            for pid in sorted(self.dirty)
            if (row := self.people[pid]) is not None
        ]
        if dialect == "postgresql" and changed:
            cur.execute(
                "UPDATE annuaire_people p SET full_name = e->>0, email = e->>1, phone = e->>2, search = e->>3, version = (e->>4)::bigint "
                "FROM jsonb_array_elements(?::jsonb) AS e WHERE p.person_id = e->>5",
                (json_param(changed),),
            )
        else:
            cur.executemany(
                "UPDATE annuaire_people SET full_name = ?, email = ?, phone = ?, search = ?, version = ? WHERE person_id = ?", changed
            )
        # Close stored rows before inserting their successors (the update matches on recorded_to).
        if dialect == "postgresql" and self.closed:
            cur.execute(
                "UPDATE annuaire_contacts c SET recorded_to = e->>0 FROM jsonb_array_elements(?::jsonb) AS e "
                "WHERE c.contact_id = e->>1 AND c.recorded_to = ?",
                (json_param(self.closed), FOREVER),
            )
        else:
            cur.executemany(
                "UPDATE annuaire_contacts SET recorded_to = ? WHERE contact_id = ? AND recorded_to = ?",
                [(rt, cid, FOREVER) for rt, cid in self.closed],
            )
        contacts = [(*(row[k] for k in _CONTACT_NAMES[:-1]), _searchable(row["title"])) for row in self.new_contacts]
        insert_many(cur, dialect, "annuaire_contacts", _CONTACT_NAMES, _CONTACT_TYPES, contacts)
        insert_many(cur, dialect, "annuaire_people_history", _HISTORY_NAMES, _HISTORY_TYPES, self.history)
        self.details.flush()
        for row in self.new_contacts:
            row["new"] = False
        self.new_people.clear()
        self.dirty.clear()
        self.closed.clear()
        self.new_contacts.clear()
        self.history.clear()


def _open(value: Any) -> Any:
    """An open end shows as None."""
    return None if value == FOREVER else value


def _searchable(name: str | None) -> str | None:
    return None if name is None else " " + " ".join(words(name))
