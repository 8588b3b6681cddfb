"""The directory's read models, built only from its events.

``annuaire.structures``: the bitemporal sheets (``annuaire_structures`` and its
facts), their search documents, the current stream version of each structure (the
ETag) and the structures' timeline with field-level before/after.

``annuaire.people``: people (current values; blanked on erasure), contacts as a
bitemporal interval table (valid ``[since, until)``, known ``[recorded_from,
recorded_to)``) and the people's and contacts' timeline.

Timelines are written here, at apply time, because "before" is the state this
projection holds at that moment; reading another projection's tables would see it
at another position of the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core.bitemporal import BitemporalTable
from core.clock import FOREVER
from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
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

STRUCTURES = BitemporalTable(
    "annuaire_structures",
    # Lists are kept as "|a|b|", normalised, for filters written ``LIKE '%|value|%'``.
    columns=(
        "kind",
        ("communes", lambda s: _bars(s.get("communes"))),
        ("themes", lambda s: _bars(s.get("themes"))),
        ("roles", lambda s: _bars(s.get("roles"))),
        ("sort_name", lambda s: search.normalize(s.get("name") or "")),
    ),
)


def _bars(values: list[str] | None) -> str:
    return "|" + "|".join(search.normalize(v) for v in values or []) + "|"


_HISTORY_COLUMNS = (
    "position BIGINT PRIMARY KEY, territory TEXT NOT NULL, subject_id TEXT NOT NULL, structure_id TEXT, person_id TEXT, "
    "event TEXT NOT NULL, label TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, effective TEXT NOT NULL, "
    "reason TEXT, changes TEXT NOT NULL"
)


def _history_schema(table: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ({_HISTORY_COLUMNS})",
        f"CREATE INDEX IF NOT EXISTS {table}_structure ON {table} (structure_id, position)",
        f"CREATE INDEX IF NOT EXISTS {table}_person ON {table} (person_id, position)",
        f"CREATE INDEX IF NOT EXISTS {table}_territory ON {table} (territory, recorded_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_author ON {table} (territory, author, recorded_at)",
    ]


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
    cur.execute(
        f"INSERT INTO {table} (position, territory, subject_id, structure_id, person_id, event, label, author, recorded_at, "
        "effective, reason, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
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
        ),
    )


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


class StructuresProjection(Projection):
    name = "annuaire.structures"
    version = 2  # 2: live rows and their search index
    topics = tuple(e.name for e in STRUCTURE_EVENTS)

    def __init__(self) -> None:
        self.dialect = ""

    @property  # type: ignore[misc]
    def tables(self) -> tuple[str, ...]:  # the search table depends on the database
        searched = search.tables(self.dialect) if self.dialect else (search.FTS, search.FTS_LIVE, search.TSV, search.TSV_LIVE)
        return (*STRUCTURES.tables, "annuaire_structure_streams", "annuaire_structure_history", *searched)

    def schema(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            *STRUCTURES.schema(),
            "CREATE INDEX IF NOT EXISTS annuaire_structures_sorted ON annuaire_structures "
            "(territory, recorded_to, sort_name, entity_id, present, valid_from, valid_to, row_id)",
            # "As of today", in name order or counted: about one row per structure.
            STRUCTURES.live_index("live_sorted", "territory, sort_name, entity_id, present, valid_from, valid_to, kind, row_id"),
            # Today's search joins its matches here: index-only, half the time of the table.
            STRUCTURES.live_index("live_rows", "row_id, territory, present, valid_from, valid_to, sort_name, entity_id"),
            "CREATE TABLE IF NOT EXISTS annuaire_structure_streams (structure_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "version BIGINT NOT NULL, confirmed_at TEXT, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS annuaire_structure_streams_territory ON annuaire_structure_streams (territory, confirmed_at)",
            *_history_schema("annuaire_structure_history"),
            *search.schema(dialect),
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        live = search.LiveDocuments()
        for rec in records:
            self._apply(cur, rec, live)
        live.write(cur, self.dialect)

    def _apply(self, cur: Cursor, rec: Recorded, live: search.LiveDocuments) -> None:
        e: Any = rec.event
        sid = e.structure_id
        before = STRUCTURES.state_at(cur, sid, rec.effective)
        label, patch, changes = self._patch(rec, before)
        recording = STRUCTURES.record(
            cur,
            territory=rec.territory,
            entity_id=sid,
            effective=rec.effective,
            recorded_at=rec.recorded_at,
            seq=rec.position,
            patch=patch,
        )
        search.index(cur, self.dialect, recording, live)
        confirmed = rec.recorded_at if isinstance(e, StructureConfirmed | StructureJoined) else None
        cur.execute(
            "INSERT INTO annuaire_structure_streams (structure_id, territory, version, confirmed_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (structure_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, "
            "confirmed_at = COALESCE(excluded.confirmed_at, annuaire_structure_streams.confirmed_at)",
            (sid, rec.territory, rec.version, confirmed, rec.recorded_at),
        )
        _write_history(cur, "annuaire_structure_history", rec, label, changes, structure_id=sid)

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
    version = 1
    topics = tuple(e.name for e in (*PERSON_EVENTS, *CONTACT_EVENTS))
    tables = ("annuaire_people", "annuaire_contacts", "annuaire_people_history")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS annuaire_people (person_id TEXT PRIMARY KEY, territory TEXT NOT NULL, full_name TEXT, "
            "email TEXT, phone TEXT, search TEXT, version BIGINT NOT NULL, erased INTEGER NOT NULL DEFAULT 0, "
            "registered_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS annuaire_people_territory ON annuaire_people (territory, search)",
            "CREATE TABLE IF NOT EXISTS annuaire_contacts (contact_id TEXT NOT NULL, territory TEXT NOT NULL, structure_id TEXT NOT NULL, "
            "person_id TEXT NOT NULL, role TEXT NOT NULL, theme TEXT, since TEXT NOT NULL, until TEXT NOT NULL, "
            "recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL, version BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_structure ON annuaire_contacts (structure_id, recorded_to, since)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_person ON annuaire_contacts (person_id, recorded_to, since)",
            "CREATE INDEX IF NOT EXISTS annuaire_contacts_id ON annuaire_contacts (contact_id, recorded_to)",
            *_history_schema("annuaire_people_history"),
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, PersonRegistered | PersonChanged | PersonErased):
            self._person(cur, rec)
        else:
            self._contact(cur, rec)

    # -- people ----------------------------------------------------------------------------
    def _person(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        pid = e.person_id  # type: ignore[attr-defined]
        if isinstance(e, PersonRegistered):
            values = {"full_name": e.full_name, "email": e.email, "phone": e.phone}
            cur.execute(
                "INSERT INTO annuaire_people (person_id, territory, full_name, email, phone, search, version, erased, registered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    rec.territory,
                    e.full_name,
                    e.email,
                    e.phone,
                    _searchable(e.full_name),
                    rec.version,
                    int(rec.erased),
                    rec.recorded_at,
                ),
            )
            changes = [(k, None, v) for k, v in values.items() if v is not None]
            _write_history(cur, "annuaire_people_history", rec, "Nouvelle personne", changes, person_id=pid)
        elif isinstance(e, PersonChanged):
            row = cur.execute("SELECT full_name, email, phone FROM annuaire_people WHERE person_id = ?", (pid,)).fetchone()
            before = dict(row) if row else {}
            after = present_fields(e)
            after.pop("person_id")
            merged = {**before, **after}
            cur.execute(
                "UPDATE annuaire_people SET full_name = ?, email = ?, phone = ?, search = ?, version = ? WHERE person_id = ?",
                (merged.get("full_name"), merged.get("email"), merged.get("phone"), _searchable(merged.get("full_name")), rec.version, pid),
            )
            _write_history(cur, "annuaire_people_history", rec, "Modification des coordonnées", _diff(before, after), person_id=pid)
        elif isinstance(e, PersonErased):
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

    # -- contacts --------------------------------------------------------------------------
    def _contact(self, cur: Cursor, rec: Recorded) -> None:
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
            }
            self._insert_contact(cur, rec, row)
            changes = [("person", None, e.person_id), ("role", None, e.role), ("since", None, e.since)]
            if e.theme:
                changes.append(("theme", None, e.theme))
            _write_history(
                cur,
                "annuaire_people_history",
                rec,
                "Nouveau contact",
                changes,
                structure_id=e.structure_id,
                person_id=e.person_id,
                subject_id=e.contact_id,
            )
            return
        assert isinstance(e, ContactEnded | ContactCorrected)
        current = cur.execute(
            "SELECT contact_id, structure_id, person_id, role, theme, since, until FROM annuaire_contacts "
            "WHERE contact_id = ? AND recorded_to = ?",
            (e.contact_id, FOREVER),
        ).fetchone()
        if current is None:  # the service refuses this; tolerate it in a replay
            return
        before = dict(current)
        if isinstance(e, ContactEnded):
            after = {"until": e.until}
            label = "Fin de contact"
        else:
            after = present_fields(e)
            after.pop("contact_id")
            if "until" in after and after["until"] is None:
                after["until"] = FOREVER
            label = "Correction d'un contact"
        cur.execute(
            "UPDATE annuaire_contacts SET recorded_to = ? WHERE contact_id = ? AND recorded_to = ?",
            (rec.recorded_at, e.contact_id, FOREVER),
        )
        self._insert_contact(cur, rec, {**before, **after})
        changes = [(f, _open(b), _open(a)) for f, b, a in _diff(before, after)]
        _write_history(
            cur,
            "annuaire_people_history",
            rec,
            label,
            changes,
            structure_id=before["structure_id"],
            person_id=before["person_id"],
            subject_id=e.contact_id,
        )

    @staticmethod
    def _insert_contact(cur: Cursor, rec: Recorded, row: dict[str, Any]) -> None:
        cur.execute(
            "INSERT INTO annuaire_contacts (contact_id, territory, structure_id, person_id, role, theme, since, until, "
            "recorded_from, recorded_to, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["contact_id"],
                rec.territory,
                row["structure_id"],
                row["person_id"],
                row["role"],
                row["theme"],
                row["since"],
                row["until"],
                rec.recorded_at,
                FOREVER,
                rec.version,
            ),
        )


def _open(value: Any) -> Any:
    """An open end shows as None."""
    return None if value == FOREVER else value


def _searchable(name: str | None) -> str | None:
    return None if name is None else " " + " ".join(search.words(name))
