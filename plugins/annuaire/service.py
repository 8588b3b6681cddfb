"""The directory's commands and queries: what pages, the API and other plugins call.

``directory(trame)`` gives the one :class:`Directory` of an application. Commands
validate, then append events through ``trame.execute`` (optimistic concurrency on the
stream version); queries read the projections only, with indexed statements.

Time: every query takes ``as_of`` (valid time) and ``known_at`` (transaction time),
instants from :func:`core.clock.parse`; ``as_of`` defaults to now and ``known_at`` to
"as known now". Isolation: every statement filters by territory, and an id of another
territory is a :func:`core.refusals.absent` refusal (404), exactly like an unknown one.
"""

from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import msgspec

from core import clock, glossary
from core.bitemporal import CURRENT
from core.clock import FOREVER, BadInstant
from core.database import Cursor
from core.erasure import erase_free_text
from core.events import Event
from core.refusals import Refused, absent, invalid
from core.store import Conflict, Context, Write
from core.structures import require_structure, require_structures
from core.text import fold, words
from plugins.annuaire import kinds, search
from plugins.annuaire.events import (
    ContactCorrected,
    ContactEnded,
    ContactStarted,
    PersonChanged,
    PersonErased,
    PersonRegistered,
    Sheet,
    SheetChanges,
    StructureAbsorbed,
    StructureChanged,
    StructureConfirmed,
    StructureJoined,
    StructureLeft,
    StructureMerged,
    StructureRejoined,
    present_fields,
)
from plugins.annuaire.projection import PEOPLE_DETAILS, PERSONAL, STRUCTURES, StructuresProjection
from plugins.annuaire.schemas import (
    ContactEnd,
    ContactIn,
    ContactOut,
    ContactPatch,
    FieldChange,
    HistoryEntry,
    PersonIn,
    PersonOut,
    PersonPatch,
    StructureIn,
    StructureOut,
    StructurePatch,
)

if TYPE_CHECKING:
    from core.application import Trame

CONTACT_ROLES: dict[str, str] = {"referent": "Référent·e", "direction": "Direction", "personne-ressource": "Personne ressource"}
ERASED_NAME = "personne effacée"
_load = msgspec.json.decode
_SHEET_FIELDS = tuple(f for f in SheetChanges.__struct_fields__)


#: The directory page counts up to this many structures, then says "plus de 1 000".
COUNT_CAP = 1000
#: Seconds an "as of now" count is kept while the projection does not move.
COUNT_TTL = 30.0


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page of :meth:`Directory.browse` starts or ends: a row's place in the page's
    order (``score``, the search rank, only when searching)."""

    sort_name: str
    entity_id: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class BrowsePage:
    #: (structure id, stored state as JSON) of each structure of the page, in order: the page
    #: renders a row once per distinct pair (see directory_pages.py), decoding it only then.
    rows: list[tuple[str, str]]
    count: int  # the number of structures listed, or COUNT_CAP when capped
    capped: bool  # True: more than COUNT_CAP
    next: Position | None  # after the last item, when there are more
    previous: Position | None  # before the first item, when it is not the first page

    @property
    def items(self) -> list[Listed]:
        return [listed(*row) for row in self.rows]


def when(text: str | None, label: str, *, end_of_day: bool = False, field: str | None = None) -> str | None:
    """Read a date given by a person; the refusal names the field (``field``) and says its label."""
    if text is None or not text.strip():
        return None
    try:
        return clock.parse(text, end_of_day=end_of_day)
    except BadInstant as exc:
        raise invalid(str(exc), field, label=label) from None


_directories: weakref.WeakKeyDictionary[Trame, Directory] = weakref.WeakKeyDictionary()


def directory(trame: Trame) -> Directory:
    """The directory service of this application (one per Trame)."""
    found = _directories.get(trame)
    if found is None:
        found = _directories[trame] = Directory(trame)
    return found


class Directory:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame
        self.db = trame.db
        # browse(): capped counts by filters and moment -> (projection position, expiry, count, capped)
        self._counts: dict[tuple[str | None, ...], tuple[Any, float, int, bool]] = {}
        self._indexes: dict[str, tuple[bool, float]] = {}

    # == commands: structures ===================================================================
    def create_structure(self, territory: str, data: StructureIn, author: str) -> tuple[str, int]:
        """A structure joins the network at ``data.effective`` (default now): (id, version)."""
        stream, event = self.joining(territory, data)
        self._write(territory, author, data.effective, data.reason, Write(stream, 0, [event]))
        return str(stream), 1

    def joining(self, territory: str, data: StructureIn) -> tuple[UUID, StructureJoined]:
        """A new structure's stream and first event, checked but not written (``effective`` and
        ``reason`` are the writing command's)."""
        fields = {f: getattr(data, f) for f in _SHEET_FIELDS}
        fields["name"] = fields["name"].strip()
        self._check_sheet(territory, fields, None)
        sid = str(uuid4())
        return UUID(sid), StructureJoined(structure_id=sid, sheet=msgspec.convert(fields, Sheet))

    def update_structure(self, territory: str, structure_id: str, patch: StructurePatch, expected_version: int, author: str) -> int:
        """Change fields (a rename if ``name`` is among them); :class:`Conflict` if the version moved."""
        self._stream(territory, structure_id)
        self._expect(structure_id, expected_version)
        fields = {k: v for k, v in present_fields(patch).items() if k not in ("effective", "reason")}
        if not fields:
            raise invalid("Aucun champ à modifier.")
        if "name" in fields:
            fields["name"] = fields["name"].strip()
        self._check_sheet(territory, fields, structure_id)
        effective = self._effective(patch.effective or None)
        state = self._state_or_refuse(structure_id, effective)
        previous = state.get("name") if "name" in fields and fields["name"] != state.get("name") else None
        event = StructureChanged(structure_id=structure_id, changes=msgspec.convert(fields, SheetChanges), previous_name=previous)
        reason = patch.reason or None
        self._write(territory, author, effective, reason, Write(UUID(structure_id), expected_version, [event]))
        return expected_version + 1

    def merge_structure(self, territory: str, structure_id: str, into: str, effective: str, author: str, reason: str | None = None) -> int:
        """``structure_id`` ceases and is absorbed by ``into``; both streams are written atomically."""
        self._stream(territory, structure_id)
        try:
            self._stream(territory, into)
        except Refused:
            raise absent("La structure d'accueil de la fusion n'existe pas sur ce territoire.") from None
        if into == structure_id:
            raise invalid("Une structure ne peut pas fusionner avec elle-même.", "into")
        at = self._effective(effective, required=True)
        state = self._state_or_refuse(structure_id, at)
        self._state_or_refuse(into, at, "La structure d'accueil n'est pas dans le réseau à cette date.", "into")
        v_src, v_dst = self._version(structure_id), self._version(into)
        self._write(
            territory,
            author,
            at,
            reason,
            Write(UUID(structure_id), v_src, [StructureMerged(structure_id=structure_id, into=into)]),
            Write(UUID(into), v_dst, [StructureAbsorbed(structure_id=into, absorbed=structure_id, absorbed_name=state["name"])]),
        )
        return v_src + 1

    def leave_structure(self, territory: str, structure_id: str, effective: str, author: str, reason: str | None = None) -> int:
        self._stream(territory, structure_id)
        at = self._effective(effective, required=True)
        self._state_or_refuse(structure_id, at)
        return self._append(territory, structure_id, StructureLeft(structure_id=structure_id), author, at, reason)

    def rejoin_structure(self, territory: str, structure_id: str, effective: str, author: str, reason: str | None = None) -> int:
        self._stream(territory, structure_id)
        at = self._effective(effective, required=True) or clock.now()  # required: never None
        with self.db.read() as cur:
            if STRUCTURES.get(cur, structure_id, as_of=at):
                raise invalid("Cette structure fait déjà partie du réseau à cette date.", "effective")
        return self._append(territory, structure_id, StructureRejoined(structure_id=structure_id), author, at, reason)

    def confirm_structure(self, territory: str, structure_id: str, author: str, reason: str | None = None) -> int:
        """ "Still correct": the referent reviewed the sheet (update campaigns)."""
        self._stream(territory, structure_id)
        self._state_or_refuse(structure_id, clock.now(), "Cette structure n'est plus dans le réseau.", None)
        return self._append(territory, structure_id, StructureConfirmed(structure_id=structure_id), author, None, reason)

    # == commands: people =======================================================================
    def create_person(self, territory: str, data: PersonIn, author: str) -> tuple[str, int]:
        name = data.name.strip()
        if not name:
            raise invalid("Le nom de la personne est obligatoire.", "name")
        _check_email(data.email)
        pid = str(uuid4())
        event = PersonRegistered(person_id=pid, full_name=name, email=data.email or None, phone=data.phone or None)
        self._write(territory, author, None, data.reason, Write(UUID(pid), 0, [event]))
        return pid, 1

    def update_person(self, territory: str, person_id: str, patch: PersonPatch, author: str, expected_version: int | None = None) -> int:
        person = self._person_row(territory, person_id)
        if person["erased"]:
            raise invalid("Les données de cette personne ont été effacées : elles ne peuvent plus être modifiées.")
        fields = {k: v for k, v in present_fields(patch).items() if k not in ("reason", "effective")}
        effective = (
            when(patch.effective or None, "Date d'effet (effective)", field="effective") if isinstance(patch.effective, str) else None
        )
        if effective is not None and effective > clock.now():
            raise invalid(
                "des coordonnées changent à une date passée ou aujourd'hui, pas à venir.", "effective", label="Date d'effet (effective)"
            )
        if "name" in fields:
            if not (fields["name"] or "").strip():
                raise invalid("Le nom de la personne est obligatoire.", "name")
            fields["full_name"] = fields.pop("name").strip()
        if not fields:
            raise invalid("Aucun champ à modifier.")
        _check_email(fields.get("email"))
        version = self._version(person_id) if expected_version is None else self._expect(person_id, expected_version)
        event = PersonChanged(person_id=person_id, **fields)
        reason = patch.reason or None
        self._write(territory, author, effective, reason, Write(UUID(person_id), version, [event]))
        return version + 1

    def erase_person(self, territory: str, person_id: str, author: str, reason: str | None = None) -> None:
        """GDPR erasure: record it, blank the read models, shred the key, scrub the files.

        The log keeps the events, whose personal fields then decrypt to nothing; the
        timelines keep the entries, shown as "personne effacée"."""
        person = self._person_row(territory, person_id)
        if not person["erased"]:
            # Free texts that name them (comments, guests' names) go first, while the name is known.
            name = person["full_name"] or ""
            erase_free_text(self.trame, territory=territory, subject_id=person_id, names=[name], author=author, reason=reason)
            erased = Write(UUID(person_id), self._version(person_id), [PersonErased(person_id=person_id)])
            self._write(territory, author, None, reason, erased)
        self.trame.runner.catch_up(["annuaire.people"])  # blanked before the files are scrubbed
        self.trame.keys.shred(person_id)
        self.db.scrub_free_space()

    # == commands: contacts =====================================================================
    def start_contact(self, territory: str, structure_id: str, data: ContactIn, author: str) -> tuple[str, int]:
        """``data.person_id`` holds ``data.role`` at the structure from ``data.since`` (default today)."""
        self._stream(territory, structure_id)
        person = self._person_row(territory, data.person_id, "Cette personne n'existe pas sur ce territoire.")
        if person["erased"]:
            raise invalid("Les données de cette personne ont été effacées.")
        self._check_contact(data.role, data.theme)
        since = when(data.since, "Date de début (since)", field="since") or clock.instant(clock.to_datetime(clock.now()).date())
        cid = str(uuid4())
        title = (data.title or "").strip() or None
        event = ContactStarted(
            contact_id=cid, person_id=data.person_id, structure_id=structure_id, role=data.role, theme=data.theme, since=since, title=title
        )
        self._write(territory, author, since, data.reason, Write(UUID(cid), 0, [event]))
        return cid, 1

    def end_contact(self, territory: str, structure_id: str, contact_id: str, data: ContactEnd, author: str) -> int:
        row = self._contact_row(territory, structure_id, contact_id)
        until = when(data.until, "Date de fin (until)", field="until")
        if until is None:
            raise invalid("obligatoire.", "until", label="Date de fin (until)")
        if row["until"] != FOREVER:
            raise invalid("Ce contact est déjà terminé : pour changer sa date de fin, corrigez-le.", "until")
        if until <= row["since"]:
            raise invalid("La date de fin doit suivre la date de début du contact.", "until")
        return self._append(territory, contact_id, ContactEnded(contact_id=contact_id, until=until), author, until, data.reason)

    def correct_contact(self, territory: str, structure_id: str, contact_id: str, data: ContactPatch, author: str) -> int:
        """Correct what was recorded ("she actually left in March 2010"): changes ``as_of``
        answers, not those ``known_at`` a time before the correction."""
        row = self._contact_row(territory, structure_id, contact_id)
        fields: dict[str, Any] = {k: v for k, v in present_fields(data).items() if k != "reason"}
        if not fields:
            raise invalid("Aucun champ à corriger.")
        self._check_contact(fields.get("role", row["role"]), fields.get("theme"))
        if "since" in fields:
            fields["since"] = when(fields["since"], "Date de début (since)", field="since")
            if fields["since"] is None:
                raise invalid("obligatoire.", "since", label="Date de début (since)")
        if fields.get("until") is not None:
            fields["until"] = when(fields["until"], "Date de fin (until)", field="until")
        if "title" in fields:
            fields["title"] = (fields["title"] or "").strip() or None
        since = fields.get("since", row["since"])
        until = fields.get("until", row["until"]) or FOREVER
        if until <= since:
            raise invalid("La date de fin doit suivre la date de début du contact.", "until")
        effective = fields.get("until") or fields.get("since")
        event = ContactCorrected(contact_id=contact_id, **fields)
        reason = data.reason if isinstance(data.reason, str) else None
        return self._append(territory, contact_id, event, author, effective, reason)

    # == queries ================================================================================
    def version(self, territory: str, structure_id: str) -> int:
        """The current version of a structure's stream (ETag; ``expected_version`` of updates)."""
        self._stream(territory, structure_id)
        return self._version(structure_id)

    def get_structure(
        self, territory: str, structure_id: str, as_of: str | None = None, known_at: str | None = None
    ) -> StructureOut | None:
        """The sheet at ``as_of`` as known at ``known_at``; None if it was not in the network then."""
        as_of = as_of or clock.now()
        with self.db.read() as cur:
            version = cur.scalar(
                "SELECT version FROM annuaire_structure_streams WHERE structure_id = ? AND territory = ?", (structure_id, territory)
            )
            if version is None:
                return None
            state = STRUCTURES.get(cur, structure_id, as_of=as_of, known_at=known_at)
        return None if state is None else _structure_out(structure_id, version, state)

    def list_structures(
        self,
        territory: str,
        q: str | None = None,
        *,
        kind: str | None = None,
        commune: str | None = None,
        theme: str | None = None,
        role: str | None = None,
        as_of: str | None = None,
        known_at: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[StructureOut], int]:
        """One page of the directory at a date, best matches first when searching: (items, total)."""
        live = STRUCTURES.reads_live(as_of, known_at)
        match = search.match(self.db.dialect, q, live=live, as_of=as_of or clock.now(), known_at=known_at) if q else None
        match = self._with_glossary(territory, q, match, live=live, as_of=as_of or clock.now(), known_at=known_at)
        source, condition, params = self._listing(territory, kind, commune, theme, role, as_of, known_at, live, match)
        order = ""
        if match is not None:
            params = [*match.params, *params]
            order = f"{match.rank}, "
        page = (max(0, min(limit, 500)), max(0, offset))
        # Rank and count on narrow rows first, then read the sheets of the page only.
        with self.db.read() as cur:
            if match is None:  # name order straight from an index; the count from the same rows
                ranked = cur.execute(
                    f"SELECT s.row_id FROM {source} WHERE {condition} ORDER BY s.sort_name, s.entity_id LIMIT ? OFFSET ?", (*params, *page)
                ).fetchall()
                total = int(cur.scalar(f"SELECT COUNT(*) FROM {source} WHERE {condition}", params))
            else:  # every match is scored to rank them anyway: count them in the same pass
                ranked = cur.execute(
                    f"SELECT s.row_id, COUNT(*) OVER () AS total FROM {source} WHERE {condition} "
                    f"ORDER BY {order}s.sort_name, s.entity_id LIMIT ? OFFSET ?",
                    (*params, *page),
                ).fetchall()
                if ranked:
                    total = int(ranked[0]["total"])
                else:
                    total = int(cur.scalar(f"SELECT COUNT(*) FROM {source} WHERE {condition}", params)) if offset else 0
            order_of = {r["row_id"]: i for i, r in enumerate(ranked)}
            marks = ",".join("?" * len(order_of))
            rows = (
                cur.execute(
                    "SELECT s.row_id, s.entity_id, s.state, v.version FROM annuaire_structures s "
                    f"JOIN annuaire_structure_streams v ON v.structure_id = s.entity_id WHERE s.row_id IN ({marks})",
                    list(order_of),
                ).fetchall()
                if order_of
                else []
            )
        rows.sort(key=lambda r: order_of[r["row_id"]])
        return [_structure_out(r["entity_id"], r["version"], _load(r["state"])) for r in rows], total

    def browse(
        self,
        territory: str,
        q: str | None = None,
        *,
        kind: str | None = None,
        commune: str | None = None,
        theme: str | None = None,
        role: str | None = None,
        as_of: str | None = None,
        known_at: str | None = None,
        after: Position | None = None,
        before: Position | None = None,
        limit: int = 50,
    ) -> BrowsePage:
        """One page of the directory by keyset: the ``limit`` structures after ``after`` (or
        before ``before``) in the page's order, with a count capped at :data:`COUNT_CAP`.

        The order is (sort_name, entity_id), best matches first when searching; no OFFSET, so
        a deep page costs what the first one does (today's directory reads it straight from
        the live name index), and rows added or removed meanwhile shift nothing. One read
        transaction: the page with its sheets (one statement; two when searching), then
        the count, unless the first page holds every row."""
        limit = max(1, min(limit, 500))
        backward = before is not None and after is None
        cursor = before if backward else after
        live = STRUCTURES.reads_live(as_of, known_at)
        match = search.match(self.db.dialect, q, live=live, as_of=as_of or clock.now(), known_at=known_at) if q else None
        match = self._with_glossary(territory, q, match, live=live, as_of=as_of or clock.now(), known_at=known_at)
        source, condition, params = self._listing(territory, kind, commune, theme, role, as_of, known_at, live, match)
        with self.db.read() as cur:
            if match is None:
                rows = self._name_page(cur, source, condition, params, cursor, backward, limit)
                count: int | None = None
            else:
                rows, count = self._search_page(cur, source, condition, [*match.params, *params], match, cursor, backward, limit)
            more = len(rows) > limit
            rows = rows[:limit]
            if backward:
                rows.reverse()
            restart = backward and not more and len(rows) < limit
            capped = False
            if count is None and not restart and (cursor is not None or more):
                key = (territory, kind, commune, theme, role, as_of, known_at)
                count, capped = self._count(cur, key, source, condition, params)
        if restart:  # back at the start with a short page: the first page, full, instead
            return self.browse(
                territory, q, kind=kind, commune=commune, theme=theme, role=role, as_of=as_of, known_at=known_at, limit=limit
            )
        page = [(r[2], r[4]) for r in rows]
        if backward:
            previous, following = (_position(rows[0]) if more else None), (_position(rows[-1]) if rows else None)
        else:
            previous = _position(rows[0]) if cursor is not None and rows else None
            following = _position(rows[-1]) if more else None
        if count is None:  # a first page that holds them all
            count = len(page)
        return BrowsePage(rows=page, count=count, capped=capped, next=following, previous=previous)

    def _with_glossary(self, territory: str, q: str | None, match: search.Match | None, **at: Any) -> search.Match | None:
        """``match``, widened to the other spellings of ``q`` that the territory's glossary gives
        (core/glossary.py: « MDS » also finds « maison départementale des solidarités », and the
        reverse): one ranked source whose score is each structure's best among them."""
        if match is None or not q:
            return match
        spellings = glossary.spellings(self.trame, territory, q)
        others = [m for m in (search.match(self.db.dialect, s, **at) for s in spellings) if m is not None]
        if not others:
            return match
        every = [match, *others]
        union = " UNION ALL ".join(f"SELECT s.row_id AS rid, {m.rank} AS score FROM {m.source}" for m in every)
        join = "CROSS JOIN" if self.db.dialect == "sqlite" else "JOIN"
        return search.Match(
            source=f"(SELECT rid, MIN(score) AS score FROM ({union}) u GROUP BY rid) m {join} annuaire_structures s ON s.row_id = m.rid",
            params=[p for m in every for p in m.params],
        )

    def _listing(
        self, territory: str, kind: str | None, commune: str | None, theme: str | None, role: str | None,
        as_of: str | None, known_at: str | None, live: bool, match: search.Match | None,
    ) -> tuple[str, str, list[Any]]:  # fmt: skip
        """(FROM, WHERE, its parameters) of the rows listed at (as_of, known_at) with the filters."""
        as_of = as_of or clock.now()
        where, params = ["s.territory = ?", "s.present = 1"], [territory]
        if live:  # today's directory: about one row per structure, in name order
            where.append(f"{STRUCTURES.live_sql('s')} AND s.valid_from <= ? AND s.valid_to > ?")
            params += [as_of, as_of]
        elif known_at is None:  # a past date, as known now
            where.append("s.recorded_to = ? AND s.valid_from <= ? AND s.valid_to > ?")
            params += [FOREVER, as_of, as_of]
        else:
            where.append(STRUCTURES.where_sql("s"))
            params += STRUCTURES.where_params(as_of, known_at)
        if kind:
            where.append("s.kind = ?")
            params.append(kind)
        for column, value in (("communes", commune), ("themes", theme), ("roles", role)):
            if value:
                where.append(f"s.{column} LIKE ? ESCAPE '!'")
                params.append("%|" + _like(fold(value.strip())) + "|%")
        source = "annuaire_structures s"
        if match is not None:
            source = match.source
        elif self.db.dialect == "sqlite":
            # Without statistics SQLite takes the valid_to range of the territory index, reads the
            # table and sorts every row of the date; these indexes are in name order, so a page
            # reads `limit` entries from the cursor on (and a count at most COUNT_CAP + 1).
            if live and self._has_index("annuaire_structures_live_sorted"):
                source += " INDEXED BY annuaire_structures_live_sorted"
            elif known_at is None and self._has_index("annuaire_structures_sorted"):  # current knowledge, a past date
                source += " INDEXED BY annuaire_structures_sorted"
        return source, " AND ".join(where), params

    @staticmethod
    def _name_page(
        cur: Cursor, source: str, condition: str, params: list[Any], cursor: Position | None, backward: bool, limit: int
    ) -> list[tuple[Any, ...]]:
        """One more than a page, in the direction of travel, with the sheets: (row_id, sort_name,
        entity_id, score (None), state). The rows are read from the table anyway (the name index
        does not hold ``live`` and ``recorded_to``), so the sheets come with them."""
        where, args = condition, list(params)
        if cursor is not None:
            where += f" AND (s.sort_name, s.entity_id) {'<' if backward else '>'} (?, ?)"
            args += [cursor.sort_name, cursor.entity_id]
        direction = " DESC" if backward else ""
        return cur.rows(
            f"SELECT s.row_id, s.sort_name, s.entity_id, NULL, s.state FROM {source} WHERE {where} "
            f"ORDER BY s.sort_name{direction}, s.entity_id{direction} LIMIT ?",
            (*args, limit + 1),
        )

    def _count(self, cur: Cursor, key: tuple[str | None, ...], source: str, condition: str, params: list[Any]) -> tuple[int, bool]:
        """(count, capped): at most COUNT_CAP + 1 rows are read, whatever the size of the territory,
        and the answer is kept until the structures projection moves on (read in the same
        snapshot, so a count never outlives the rows it counted). "As of now" counts also
        expire after COUNT_TTL seconds: a change dated in advance takes effect with no event."""
        position = cur.scalar("SELECT position FROM projection_positions WHERE name = ?", (StructuresProjection.name,))
        now = time.monotonic()
        kept = self._counts.get(key)
        if kept is not None and kept[0] == position and kept[1] > now:
            return kept[2], kept[3]
        found = int(cur.scalar(f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {condition} LIMIT {COUNT_CAP + 1}) c", params))
        count, capped = min(found, COUNT_CAP), found > COUNT_CAP
        if len(self._counts) >= 2048:  # distinct filter combinations: keep memory bounded
            self._counts.clear()
        self._counts[key] = (position, now + COUNT_TTL if key[5] is None else math.inf, count, capped)
        return count, capped

    def _has_index(self, name: str) -> bool:
        """Whether the store has this index now: a rebuild (in any process) drops the read-side
        indexes and builds them at its end, so the answer is kept for a second only."""
        now = time.monotonic()
        seen = self._indexes.get(name)
        if seen is None or seen[1] < now:
            with self.db.read() as cur:
                found = cur.scalar("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)) is not None
            seen = self._indexes[name] = (found, now + 1)
        return seen[0]

    @staticmethod
    def _search_page(
        cur: Cursor, source: str, condition: str, params: list[Any], match: search.Match, cursor: Position | None,
        backward: bool, limit: int,
    ) -> tuple[list[tuple[Any, ...]], int]:  # fmt: skip
        """Search results by keyset on (score, sort_name, entity_id), rows as :meth:`_name_page`
        gives them. Every match is scored to rank them anyway, so their exact number comes from
        the same pass (a window count taken before the keyset condition)."""
        ranked = (
            f"SELECT s.row_id, CAST({match.rank} AS DOUBLE PRECISION) AS score, s.sort_name, s.entity_id, "
            f"COUNT(*) OVER () AS total FROM {source} WHERE {condition}"
        )
        where, args = "", list(params)
        if cursor is not None:
            where = f" WHERE (r.score, r.sort_name, r.entity_id) {'<' if backward else '>'} (?, ?, ?)"
            args += [cursor.score if cursor.score is not None else 0.0, cursor.sort_name, cursor.entity_id]
        direction = " DESC" if backward else ""
        ranks = cur.rows(
            f"SELECT r.row_id, r.sort_name, r.entity_id, r.score, r.total FROM ({ranked}) r{where} "
            f"ORDER BY r.score{direction}, r.sort_name{direction}, r.entity_id{direction} LIMIT ?",
            (*args, limit + 1),
        )
        if ranks:
            total = int(ranks[0][4])
        else:  # nothing after the cursor: count the matches themselves
            total = 0 if cursor is None else int(cur.scalar(f"SELECT COUNT(*) FROM {source} WHERE {condition}", params))
        sheets = {}
        if ranks:
            marks = ",".join("?" * len(ranks))
            sheets = {
                r[0]: r
                for r in cur.rows(
                    f"SELECT s.row_id, s.state FROM annuaire_structures s WHERE s.row_id IN ({marks})",
                    [r[0] for r in ranks],
                )
            }
        rows = [(r[0], r[1], r[2], float(r[3]), sheets[r[0]][1]) for r in ranks if r[0] in sheets]
        return rows, total

    def structures(
        self, territory: str, ids: Iterable[str], as_of: str | None = None, known_at: str | None = None
    ) -> dict[str, StructureOut]:
        """Several sheets by id in one query (relays, other plugins' lists); absent ones are left out."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        as_of = as_of or clock.now()
        out: dict[str, StructureOut] = {}
        with self.db.read() as cur:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = cur.execute(
                    f"SELECT s.entity_id, s.state, v.version FROM annuaire_structures s "
                    f"JOIN annuaire_structure_streams v ON v.structure_id = s.entity_id "
                    f"WHERE s.entity_id IN ({marks}) AND s.territory = ? AND s.present = 1 AND {STRUCTURES.where_sql('s')}",
                    (*chunk, territory, *STRUCTURES.where_params(as_of, known_at)),
                ).fetchall()
                out.update({r["entity_id"]: _structure_out(r["entity_id"], r["version"], _load(r["state"])) for r in rows})
        return out

    def contacts(
        self, territory: str, structure_id: str, as_of: str | None = None, known_at: str | None = None, *, include_past: bool = False
    ) -> list[ContactOut]:
        """Who held which role at the structure at ``as_of`` (or at any time, ``include_past``)."""
        self._stream(territory, structure_id)
        return self._contacts(territory, "c.structure_id = ?", [structure_id], as_of, known_at, include_past)

    def contacts_of_person(
        self, territory: str, person_id: str, as_of: str | None = None, known_at: str | None = None, *, include_past: bool = True
    ) -> list[ContactOut]:
        """The roles a person held, at any structure (their path between structures)."""
        self._person_row(territory, person_id)
        return self._contacts(territory, "c.person_id = ?", [person_id], as_of, known_at, include_past)

    def contacts_of_structures(
        self, territory: str, structure_ids: Iterable[str], as_of: str | None = None, known_at: str | None = None
    ) -> dict[str, list[ContactOut]]:
        """:meth:`contacts` of many structures with one query per 500 ids, for lists over the whole
        territory (livret, vCards, campaigns) that would otherwise query once per structure.

        Every id asked for is a key, with the same list, in the same order, as ``contacts``
        gives; an id unknown in this territory maps to [] (no refusal: the caller listed them)."""
        wanted = sorted(set(structure_ids))
        out: dict[str, list[ContactOut]] = {sid: [] for sid in wanted}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            condition = f"c.structure_id IN ({','.join('?' * len(chunk))})"
            for contact in self._contacts(territory, condition, chunk, as_of, known_at, include_past=False):
                out[contact.structure_id].append(contact)  # kept in the order of contacts(): since, id
        return out

    def answers_only_to(self, territory: str, person_id: str, structure_id: str) -> bool:
        """Whether every role of the person that has not ended (current or to come) is at this
        structure, and there is one: what lets that structure's referent edit the person's
        details. Someone who also holds a role elsewhere is left to coordinators, or a referent
        could attach another structure's contact to theirs and redirect that person's e-mail."""
        with self.db.read() as cur:
            rows = cur.execute(
                "SELECT DISTINCT structure_id FROM annuaire_contacts WHERE person_id = ? AND territory = ? AND recorded_to = ? "
                "AND until > ?",
                (person_id, territory, FOREVER, clock.now()),
            ).fetchall()
        return {r["structure_id"] for r in rows} == {structure_id}

    def departure(
        self, territory: str, structure_id: str, as_of: str | None = None, known_at: str | None = None
    ) -> dict[str, str | None] | None:
        """How a structure out of the network at ``as_of`` had gone: ``{"name", "left", "merged_into"}``
        (``left`` the effective instant, ``merged_into`` None when it simply left); None when it
        is in the network then, or had not joined yet. Lets a page say "merged into X on ..."
        to someone following an old link instead of a bare "not found"."""
        at = as_of or clock.now()
        with self.db.read() as cur:
            known = cur.scalar(
                "SELECT 1 FROM annuaire_structure_streams WHERE structure_id = ? AND territory = ?", (structure_id, territory)
            )
            if known is None:
                return None
            state = STRUCTURES.state_at(cur, structure_id, at, known_at)
        if state.get("exists") or not state.get("left"):
            return None
        return {"name": state.get("name"), "left": state["left"], "merged_into": state.get("merged_into")}

    def with_present_relays(
        self, territory: str, items: Sequence[StructureOut], as_of: str | None = None, known_at: str | None = None
    ) -> list[StructureOut]:
        """The sheets with their relays cut to those in the network at the same ``as_of``/``known_at``.

        A sheet keeps the relay ids it was given, but a relay may join after that or leave
        before: shown as of a date, it must not appear where it was not a partner yet (or any
        more). One query per 500 relays, whatever the number of sheets."""
        relay_ids = {r for s in items for r in s.relays}
        if not relay_ids:
            return list(items)
        present = self.structures(territory, relay_ids, as_of, known_at)
        return [
            s if all(r in present for r in s.relays) else msgspec.structs.replace(s, relays=[r for r in s.relays if r in present])
            for s in items
        ]

    def person(self, territory: str, person_id: str, as_of: str | None = None, known_at: str | None = None) -> PersonOut | None:
        """The person's name, professional e-mail and phone at ``as_of`` as known at ``known_at``
        (default: now); erased people have none at any date."""
        try:
            out = _person_out(self._person_row(territory, person_id))
        except Refused:
            return None
        if as_of is None and known_at is None:
            return out
        with self.db.read() as cur:
            details = _details_at(cur, [person_id], as_of, known_at)
        return _with_details(out, details.get(person_id))

    def resource_people(
        self, territory: str, q: str = "", *, as_of: str | None = None, known_at: str | None = None, every_role: bool = False
    ) -> list[ContactOut]:
        """Seed 004's « personnes ressources »: who holds that role at ``as_of`` across the territory's
        structures (``every_role``: every contact), with their details then; ``q`` keeps those whose
        job title, name or role has words starting with its words (accents and case ignored)."""
        condition, values = ("1 = 1", []) if every_role else ("c.role = ?", ["personne-ressource"])
        found = self._contacts(territory, condition, values, as_of or clock.now(), known_at, include_past=False)
        terms = words(q)
        if terms:

            def matches(c: ContactOut) -> bool:
                text = " " + " ".join(words(f"{c.title or ''} {c.person.name or ''} {c.role_label}"))
                return all(f" {t}" in text for t in terms)

            found = [c for c in found if matches(c)]
        return [c for c in found if not c.person.erased]

    def search_people(self, territory: str, q: str, limit: int = 20) -> list[PersonOut]:
        """People whose name has words starting with those of ``q`` (accents and case ignored)."""
        terms = words(q)
        if not terms:
            return []
        where = " AND ".join("search LIKE ? ESCAPE '!'" for _ in terms)
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT * FROM annuaire_people WHERE territory = ? AND erased = 0 AND {where} ORDER BY search LIMIT ?",
                (territory, *(f"% {_like(t)}%" for t in terms), limit),
            ).fetchall()
        return [_person_out(r) for r in rows]

    def history(self, territory: str, *, structure_id: str | None = None, person_id: str | None = None) -> list[HistoryEntry]:
        """The timeline of a structure (its sheet and its contacts) or of a person, oldest first."""
        if structure_id is not None:
            self._stream(territory, structure_id)
            parts = [
                ("annuaire_structure_history", "structure_id = ? AND territory = ?", [structure_id, territory]),
                ("annuaire_people_history", "structure_id = ? AND territory = ?", [structure_id, territory]),
            ]
        elif person_id is not None:
            self._person_row(territory, person_id)
            parts = [("annuaire_people_history", "person_id = ? AND territory = ?", [person_id, territory])]
        else:
            raise ValueError("history() needs a structure_id or a person_id")
        return self._history(parts, "ASC", 100_000, 0)

    def audit(
        self,
        territory: str,
        *,
        actor: str | None = None,
        structure_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[HistoryEntry]:
        """Every directory change in the territory, newest first; ``actor`` is an account id or e-mail."""
        where, params = ["territory = ?"], [territory]
        if actor:
            account = self.trame.accounts.by_email(actor) if "@" in actor else None
            where.append("author = ?")
            params.append(account["account_id"] if account else actor)
        if structure_id:
            where.append("structure_id = ?")
            params.append(structure_id)
        if since:
            where.append("recorded_at >= ?")
            params.append(since)
        if until:
            where.append("recorded_at < ?")
            params.append(until)
        clause = " AND ".join(where)
        parts = [("annuaire_structure_history", clause, params), ("annuaire_people_history", clause, params)]
        return self._history(parts, "DESC", max(0, min(limit, 1000)), max(0, offset))

    def unconfirmed(self, territory: str, before: str) -> list[StructureOut]:
        """Sheets in the network now whose last confirmation (or joining) is older than ``before``."""
        with self.db.read() as cur:
            ids = [
                r["structure_id"]
                for r in cur.execute(
                    "SELECT structure_id FROM annuaire_structure_streams WHERE territory = ? AND confirmed_at < ?", (territory, before)
                ).fetchall()
            ]
        found = self.structures(territory, ids)
        return sorted(found.values(), key=lambda s: (s.confirmed_at or "", fold(s.name)))

    # == internals ==============================================================================
    def _write(self, territory: str, author: str, effective: str | None, reason: str | None, *writes: Write) -> None:
        ctx = Context(author=author, territory=territory, effective=self._effective(effective), reason=(reason or "").strip() or None)
        self.trame.execute(ctx, *writes)

    def _append(self, territory: str, stream: str, event: Event, author: str, effective: str | None, reason: str | None) -> int:
        version = self._version(stream)
        self._write(territory, author, effective, reason, Write(UUID(stream), version, [event]))
        return version + 1

    @staticmethod
    def _effective(value: str | None, *, required: bool = False) -> str | None:
        if value is None or not value.strip():
            if required:
                raise invalid("obligatoire.", "effective", label="Date d'effet (effective)")
            return None
        return when(value, "Date d'effet (effective)", field="effective")

    def _version(self, stream: str) -> int:
        return self.trame.store.version_of(UUID(stream))

    def _expect(self, stream: str, expected: int) -> int:
        """Refuse early (409) when the stream is not at the version the writer saw."""
        if self._version(stream) != expected:
            raise Conflict(UUID(stream), expected)
        return expected

    def _stream(self, territory: str, structure_id: str) -> None:
        """The structure exists in this territory (at some time), else an ``absent`` refusal (404)."""
        try:
            UUID(structure_id)
        except ValueError:
            raise absent("Cette structure n'existe pas sur ce territoire.") from None
        require_structure(self.trame, territory, structure_id)  # the core's check (core/structures.py), 404

    def _state_or_refuse(
        self, structure_id: str, at: str | None, message: str | None = None, field: str | None = "effective"
    ) -> dict[str, Any]:
        with self.db.read() as cur:
            state = STRUCTURES.get(cur, structure_id, as_of=at or clock.now())
        if state is None:
            raise invalid(message or "Cette structure n'est pas dans le réseau à cette date.", field)
        return state

    def _person_row(self, territory: str, person_id: str, message: str = "Cette personne n'existe pas sur ce territoire.") -> Any:
        with self.db.read() as cur:
            row = cur.execute("SELECT * FROM annuaire_people WHERE person_id = ? AND territory = ?", (person_id, territory)).fetchone()
        if row is None:
            raise absent(message)
        return row

    def _contact_row(self, territory: str, structure_id: str, contact_id: str) -> Any:
        with self.db.read() as cur:
            row = cur.execute(
                "SELECT * FROM annuaire_contacts WHERE contact_id = ? AND structure_id = ? AND territory = ? AND recorded_to = ?",
                (contact_id, structure_id, territory, FOREVER),
            ).fetchone()
        if row is None:
            raise absent("Ce contact n'existe pas pour cette structure.")
        return row

    def _check_sheet(self, territory: str, fields: dict[str, Any], structure_id: str | None) -> None:
        if "name" in fields and not fields["name"]:
            raise invalid("Le nom de la structure est obligatoire.", "name")
        if fields.get("kind") and kinds.kind_by_code(fields["kind"]) is None:
            raise invalid(f"Type de structure inconnu « {fields['kind']} ».", "kind")
        for field, known, label in (("roles", kinds.PARTNER_ROLES, "Rôle de partenaire"), ("themes", kinds.THEMES, "Thème")):
            unknown = [v for v in fields.get(field) or [] if v not in known]
            if unknown:
                raise invalid(f"{label} inconnu : « {unknown[0]} » (valeurs possibles : {', '.join(known)}).", field)
        _check_email(fields.get("email"))
        relays = fields.get("relays") or []
        if structure_id and structure_id in relays:
            raise invalid("Une structure ne peut pas être son propre relais.", "relays")
        # Another territory's structure is absent here (404), like an id that exists nowhere.
        require_structures(self.trame, territory, relays, "Une structure relais n'existe pas sur ce territoire.")

    @staticmethod
    def _check_contact(role: str, theme: str | None) -> None:
        if role not in CONTACT_ROLES:
            raise invalid(f"Rôle de contact inconnu « {role} » (valeurs possibles : {', '.join(CONTACT_ROLES)}).", "role")
        if theme and theme not in kinds.THEMES:
            raise invalid(f"Thème inconnu « {theme} ».", "theme")

    def _contacts(
        self, territory: str, condition: str, values: Sequence[str], as_of: str | None, known_at: str | None, include_past: bool
    ) -> list[ContactOut]:
        """Contacts matching ``condition`` (its ``?`` take ``values``), as known at ``known_at``."""
        k = known_at or CURRENT  # as known now: the open rows
        where = [condition, "c.territory = ?", "c.recorded_from <= ?", "c.recorded_to > ?"]
        params: list[Any] = [*values, territory, k, k]
        if not include_past:
            at = as_of or clock.now()
            where.append("c.since <= ? AND c.until > ?")
            params += [at, at]
        with self.db.read() as cur:
            rows = cur.execute(
                "SELECT c.contact_id, c.structure_id, c.role, c.theme, c.title, c.since, c.until, p.person_id, p.full_name, p.email, "
                "p.phone, p.version, p.erased FROM annuaire_contacts c JOIN annuaire_people p ON p.person_id = c.person_id "
                f"WHERE {' AND '.join(where)} ORDER BY c.since, c.contact_id",
                params,
            ).fetchall()
            # As of a date (or known at a time), each person's details then: her 2010 number in 2010.
            past = as_of is not None or known_at is not None
            details = _details_at(cur, sorted({r["person_id"] for r in rows}), as_of, known_at) if past and rows else {}
        out = [_contact_out(r) for r in rows]
        if not details:
            return out
        return [msgspec.structs.replace(c, person=_with_details(c.person, details.get(c.person.id))) for c in out]

    def _history(self, parts: Sequence[tuple[str, str, list[Any]]], direction: str, limit: int, offset: int) -> list[HistoryEntry]:
        columns = "position, subject_id, structure_id, person_id, event, label, author, recorded_at, effective, reason, changes"
        union = " UNION ALL ".join(f"SELECT {columns} FROM {table} WHERE {where}" for table, where, _ in parts)
        params = [p for _, _, ps in parts for p in ps]
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT h.*, a.email AS author_email FROM ({union}) h LEFT JOIN accounts a ON a.account_id = h.author "
                f"ORDER BY h.position {direction} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            names = _person_names(cur, {r["person_id"] for r in rows if r["person_id"]})
        out = []
        for r in rows:
            changes = []
            for field, before, after in _load(r["changes"]):
                if field == "person":
                    after = names.get(after, ERASED_NAME)
                changes.append(FieldChange(field, before, after))
            out.append(
                HistoryEntry(
                    position=r["position"],
                    event=r["event"],
                    label=r["label"],
                    author=r["author"],
                    author_email=r["author_email"],
                    recorded_at=r["recorded_at"],
                    effective=r["effective"],
                    reason=r["reason"],
                    changes=changes,
                    subject_id=r["subject_id"],
                    structure_id=r["structure_id"],
                    person_id=r["person_id"],
                )
            )
        return out


def _details_at(cur: Cursor, person_ids: Sequence[str], as_of: str | None, known_at: str | None) -> dict[str, dict[str, Any]]:
    """person id -> details (name, e-mail, phone) at ``as_of`` as known at ``known_at``, one query per 500."""
    out: dict[str, dict[str, Any]] = {}
    at = as_of or clock.now()
    for start in range(0, len(person_ids), 500):
        chunk = list(person_ids[start : start + 500])
        rows = cur.execute(
            f"SELECT entity_id, state FROM {PEOPLE_DETAILS.name} WHERE entity_id IN ({','.join('?' * len(chunk))}) "
            f"AND {PEOPLE_DETAILS.where_sql()}",
            (*chunk, *PEOPLE_DETAILS.where_params(at, known_at)),
        ).fetchall()
        out.update({r["entity_id"]: _load(r["state"]) for r in rows})
    return out


def _with_details(person: PersonOut, state: dict[str, Any] | None) -> PersonOut:
    """The person with the details of ``state`` (a version of them); as is without one, or once erased."""
    if state is None or person.erased or not state.get("exists"):
        return person
    name, email, phone = (state.get(k) for k in PERSONAL)
    return msgspec.structs.replace(person, name=name or person.name, email=email, phone=phone)


def _person_names(cur: Cursor, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    wanted = sorted(ids)
    marks = ",".join("?" * len(wanted))
    rows = cur.execute(f"SELECT person_id, full_name FROM annuaire_people WHERE person_id IN ({marks})", wanted).fetchall()
    return {r["person_id"]: r["full_name"] or ERASED_NAME for r in rows}


def _structure_out(structure_id: str, version: int, state: dict[str, Any]) -> StructureOut:
    kind = kinds.kind_by_code(state.get("kind") or "")
    fields: dict[str, Any] = {f: state.get(f) for f in _SHEET_FIELDS if state.get(f) is not None}
    return StructureOut(
        id=structure_id,
        version=version,
        kind_label=kind.label if kind else None,
        former_names=list(state.get("former_names", [])),
        joined=state.get("joined"),
        confirmed_at=state.get("confirmed_at"),
        merged_into=state.get("merged_into"),
        absorbed=list(state.get("absorbed", [])),
        **fields,
    )


class Listed(msgspec.Struct, kw_only=True):
    """A structure as the directory page lists it: the few fields it shows, decoded from the
    stored state in one call (the sheet's other fields are skipped, not built)."""

    name: str = ""
    acronym: str | None = None
    kind: str | None = None
    email: str | None = None
    phone: str | None = None
    communes: list[str] | None = None
    former_names: list[str] | None = None
    id: str = ""
    kind_label: str | None = None


_listed_state = msgspec.json.Decoder(Listed)


def listed(structure_id: str, state: str | bytes) -> Listed:
    """A row of :meth:`Directory.browse` as the directory page shows it."""
    out = _listed_state.decode(state)
    out.id = structure_id
    out.kind_label = _kind_label(out.kind or "")
    out.communes = out.communes or []
    out.former_names = out.former_names or []
    return out


@functools.lru_cache(maxsize=256)
def _kind_label(code: str) -> str | None:
    kind = kinds.kind_by_code(code)
    return kind.label if kind else None


def _position(row: tuple[Any, ...]) -> Position:
    return Position(sort_name=row[1], entity_id=row[2], score=row[3])


def _contact_out(r: Any) -> ContactOut:
    return ContactOut(
        id=r["contact_id"],
        structure_id=r["structure_id"],
        person=_person_out(r),
        role=r["role"],
        role_label=CONTACT_ROLES.get(r["role"], r["role"]),
        theme=r["theme"],
        since=clock.day_of(r["since"]),
        until=None if r["until"] == FOREVER else clock.day_of(r["until"]),
        title=r["title"],
    )


def _person_out(row: Any) -> PersonOut:
    erased = bool(row["erased"])
    return PersonOut(
        id=row["person_id"],
        version=row["version"],
        name=None if erased else row["full_name"],
        email=row["email"],
        phone=row["phone"],
        erased=erased,
    )


def _check_email(email: str | None) -> None:
    if email and ("@" not in email or " " in email.strip()):
        raise invalid(f"« {email} » n'est pas une adresse e-mail valide.", "email")


def _like(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
