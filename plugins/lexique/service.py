"""The shared glossary of a territory: add, amend and withdraw terms, adopt the starter list,
import and export it as CSV, and read it (cached, since every page of the territory uses it).

Every change goes through :func:`core.commands.run`: it is decided on the term's stored
history and appended at its version, with the author and the reason in its envelope.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5
from weakref import WeakKeyDictionary

import msgspec

from core.commands import History, run
from core.database import Row
from core.events import Event, Recorded
from core.glossary import GlossaryTerm
from core.refusals import absent, conflict, invalid
from core.spreadsheet import restore, writer
from core.store import Context
from core.structures import require_structures
from core.text import fold
from plugins.annuaire import public as annuaire
from plugins.lexique import events as ev
from plugins.lexique.starter import STARTER, VERSION

if TYPE_CHECKING:
    from core.application import Trame

#: Seconds another worker may show a glossary older than a change (the writer's worker sees it at once).
CACHE_SECONDS = 2.0
CSV_COLUMNS = ("terme", "signification", "definition", "portee", "structure_id")
MAX_IMPORT_ROWS = 2000
FIELD_LABELS = {
    "term": "Terme",
    "expansion": "Signification",
    "definition": "Définition",
    "structure_id": "Structure",
    "national": "Portée",
    "reason": "Motif",
    "file": "Fichier",
}
STARTER_REASON = "Adoption de la liste nationale de départ"


class TermIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    term: Annotated[str, msgspec.Meta(max_length=60, description="Le sigle ou le terme, tel qu'il s'écrit (« MDS »)")]
    expansion: Annotated[str, msgspec.Meta(max_length=300, description="Ce que le sigle veut dire, en toutes lettres")] = ""
    definition: Annotated[str, msgspec.Meta(max_length=2000, description="En français simple, pour qui arrive dans le métier")] = ""
    structure_id: str | None = None
    national: bool = False
    reason: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class TermChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    expansion: Annotated[str, msgspec.Meta(max_length=300)] = ""
    definition: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    structure_id: str | None = None
    national: bool = False
    reason: Annotated[str, msgspec.Meta(max_length=300, description="Pourquoi ce changement (obligatoire)")]
    expected_version: int | None = None


class TermOut(msgspec.Struct):
    id: str
    term: str
    expansion: str
    definition: str
    structure_id: str | None
    structure_name: str | None
    national: bool
    active: bool
    version: int
    updated_at: str


class ChangeOut(msgspec.Struct):
    field: str
    label: str
    before: Any
    after: Any


class HistoryOut(msgspec.Struct):
    event: str
    label: str
    author: str
    author_email: str | None
    recorded_at: str
    reason: str | None
    changes: list[ChangeOut]


class AdoptionOut(msgspec.Struct):
    list_version: str
    added: int
    author_email: str | None
    recorded_at: str
    reason: str | None


class ImportReport(msgspec.Struct):
    added: list[str]
    amended: list[str]
    unchanged: int


def term_stream(territory: str, term: str) -> UUID:
    """One stream per term and territory: a second « MDS » is the same term, refused as such."""
    return uuid5(NAMESPACE_URL, f"trame:lexique:{territory}:{fold(term.strip())}")


def adoption_stream(territory: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:lexique:{territory}:liste-de-depart")


@dataclass(frozen=True)
class Wording:
    """What a term says beside the term itself: what an amendment sets, compared as a whole."""

    expansion: str
    definition: str
    structure_id: str | None
    national: bool

    @classmethod
    def of(cls, e: ev.TermAdded | ev.TermAmended) -> Wording:
        return cls(e.expansion, e.definition, e.structure_id, e.national)

    def added(self, term_id: str, term: str) -> ev.TermAdded:
        return ev.TermAdded(
            term_id=term_id,
            term=term,
            expansion=self.expansion,
            definition=self.definition,
            structure_id=self.structure_id,
            national=self.national,
        )

    def amended(self, term_id: str) -> ev.TermAmended:
        return ev.TermAmended(
            term_id=term_id, expansion=self.expansion, definition=self.definition, structure_id=self.structure_id, national=self.national
        )


@dataclass
class TermState:
    """The term as its stream tells it."""

    term: str
    wording: Wording
    active: bool = True


@dataclass(frozen=True)
class CsvTerm:
    """One line of an imported glossary file, checked."""

    term: str
    wording: Wording


def state_of(records: Sequence[Recorded]) -> TermState | None:
    """The term as its stream tells it (None: never added)."""
    state: TermState | None = None
    for r in records:
        e = r.event
        if isinstance(e, ev.TermAdded):
            state = TermState(e.term, Wording.of(e))
        elif isinstance(e, ev.TermAmended) and state is not None:
            state.wording = Wording.of(e)
        elif isinstance(e, ev.TermWithdrawn) and state is not None:
            state.active = False
    return state


def _clean(term: str | None, expansion: str | None, definition: str | None) -> tuple[str, str, str]:
    t, x, d = (term or "").strip(), " ".join((expansion or "").split()), (definition or "").strip()
    return t, x, d


def _check(term: str, expansion: str, definition: str) -> None:
    if not term:
        raise invalid("Écrivez le sigle ou le terme.", field="term")
    if not any(c.isalnum() for c in term):
        raise invalid("Un terme contient au moins une lettre ou un chiffre.", field="term")
    if len(term) > 60:
        raise invalid("Un terme tient en 60 caractères au plus.", field="term")
    if not expansion and not definition:
        raise invalid("Donnez la signification du sigle ou une définition.", field="expansion")
    if len(expansion) > 300:
        raise invalid("La signification tient en 300 caractères au plus.", field="expansion")
    if len(definition) > 2000:
        raise invalid("La définition tient en 2 000 caractères au plus.", field="definition")


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise invalid("Dites en quelques mots pourquoi (ce motif reste dans l'historique du terme).", field="reason")
    return text


_glossaries: WeakKeyDictionary[Trame, dict[str, tuple[float, tuple[GlossaryTerm, ...]]]] = WeakKeyDictionary()


class Lexique:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame
        self.db = trame.db

    # == commands ===============================================================================
    def add(self, territory: str, data: TermIn, *, author: str) -> str:
        term, expansion, definition = _clean(data.term, data.expansion, data.definition)
        _check(term, expansion, definition)
        structure_id = (data.structure_id or "").strip() or None
        require_structures(self.trame, territory, [structure_id])
        stream = term_stream(territory, term)

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = state_of(history.of(stream))
            if state is not None and state.active:
                raise conflict(f"« {state.term} » est déjà dans le lexique : modifiez-le plutôt.", field="term")
            return {stream: [Wording(expansion, definition, structure_id, data.national).added(str(stream), term)]}

        reason = (data.reason or "").strip() or None
        run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decide)
        self._changed(territory)
        return str(stream)

    def amend(self, territory: str, term_id: str, data: TermChange, *, author: str) -> int:
        stream = self._stream(term_id)
        _term, expansion, definition = _clean("x", data.expansion, data.definition)
        reason = _reason(data.reason)
        structure_id = (data.structure_id or "").strip() or None
        require_structures(self.trame, territory, [structure_id])

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._active(territory, history, stream)
            if data.expected_version is not None and history.version(stream) != data.expected_version:
                raise conflict("Ce terme a été modifié entre-temps : rechargez-le, puis recommencez.")
            _check(state.term, expansion, definition)
            new = Wording(expansion, definition, structure_id, data.national)
            if state.wording == new:
                return {}
            return {stream: [new.amended(term_id)]}

        written = run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decide)
        self._changed(territory)
        return written[-1].version if written else len(self.trame.store.stream(stream))

    def withdraw(self, territory: str, term_id: str, *, author: str, reason: str | None) -> None:
        stream = self._stream(term_id)
        why = _reason(reason)

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            self._active(territory, history, stream)
            return {stream: [ev.TermWithdrawn(term_id=term_id)]}

        run(self.trame, Context(author=author, territory=territory, reason=why), [stream], decide)
        self._changed(territory)

    def adopt_starter(self, territory: str, *, author: str, reason: str | None = None) -> int:
        """The national starter list in one command; terms already in the glossary stay as they are."""
        adoption = adoption_stream(territory)
        streams = {term_stream(territory, s.term): s for s in STARTER}

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            if history.exists(adoption):
                raise conflict("La liste de départ a déjà été adoptée sur ce territoire : complétez ou modifiez ses termes.")
            out: dict[UUID, list[Event]] = {}
            for stream, s in streams.items():
                state = state_of(history.of(stream))
                if state is None or not state.active:
                    out[stream] = [
                        ev.TermAdded(term_id=str(stream), term=s.term, expansion=s.expansion, definition=s.definition, national=True)
                    ]
            out[adoption] = [ev.StarterListAdopted(list_version=VERSION, added=len(out))]
            return out

        ctx = Context(author=author, territory=territory, reason=(reason or "").strip() or STARTER_REASON)
        written = run(self.trame, ctx, [adoption, *streams], decide)
        self._changed(territory)
        return sum(1 for r in written if isinstance(r.event, ev.TermAdded))

    def import_csv(self, territory: str, text: str, *, author: str, reason: str | None = None) -> ImportReport:
        """Add the new terms and amend the changed ones, all or nothing: one wrong line refuses the file."""
        rows = parse_csv(text)
        require_structures(
            self.trame, territory, [r.wording.structure_id for r in rows], "Une structure du fichier n'existe pas sur ce territoire."
        )
        streams = {term_stream(territory, r.term): r for r in rows}
        report = ImportReport(added=[], amended=[], unchanged=0)

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            report.added.clear()
            report.amended.clear()
            report.unchanged = 0
            out: dict[UUID, list[Event]] = {}
            for stream, r in streams.items():
                state = state_of(history.of(stream))
                if state is None or not state.active:
                    out[stream] = [r.wording.added(str(stream), r.term)]
                    report.added.append(r.term)
                elif state.wording != r.wording:
                    out[stream] = [r.wording.amended(str(stream))]
                    report.amended.append(state.term)
                else:
                    report.unchanged += 1
            return out

        ctx = Context(author=author, territory=territory, reason=(reason or "").strip() or "Import d'un fichier CSV")
        run(self.trame, ctx, list(streams), decide)
        self._changed(territory)
        return report

    # == queries ================================================================================
    def terms(self, territory: str, q: str | None = None, *, national: bool | None = None) -> list[TermOut]:
        """The glossary in French alphabetical order; ``q`` searches terms, expansions and definitions."""
        where = ["territory = ?", "active = 1"]
        params: list[str | int] = [territory]
        for word in fold(q or "").split():
            where.append("search_text LIKE ? ESCAPE '!'")
            params.append("%" + word.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%")
        if national is not None:
            where.append("national = ?")
            params.append(int(national))
        with self.db.read() as cur:
            rows = cur.execute(f"SELECT * FROM lexique_terms WHERE {' AND '.join(where)} ORDER BY sort_key, term", params).fetchall()
        return self._out(territory, rows)

    def get(self, territory: str, term_id: str) -> TermOut:
        """A term (withdrawn ones too: their page keeps the history); absent if not of this territory."""
        with self.db.read() as cur:
            row = cur.execute("SELECT * FROM lexique_terms WHERE term_id = ? AND territory = ?", (term_id, territory)).fetchone()
        if row is None:
            raise absent("Ce terme n'existe pas dans le lexique de ce territoire.")
        return self._out(territory, [row])[0]

    def history(self, territory: str, term_id: str) -> list[HistoryOut]:
        self.get(territory, term_id)
        with self.db.read() as cur:
            rows = cur.execute(
                "SELECT h.*, a.email AS author_email FROM lexique_history h LEFT JOIN accounts a ON a.account_id = h.author "
                "WHERE h.term_id = ? AND h.territory = ? ORDER BY h.position",
                (term_id, territory),
            ).fetchall()
        decoded = [(r, msgspec.json.decode(r["changes"])) for r in rows]
        linked = {str(v) for _r, changes in decoded for f, b, a in changes if f == "structure_id" for v in (b, a) if v}
        names = annuaire.names(self.trame, territory, linked) if linked else {}
        out = []
        for r, stored in decoded:
            changes = []
            for field, before, after in stored:
                if field == "structure_id":
                    before, after = names.get(before, before) if before else None, names.get(after, after) if after else None
                if field == "national":
                    before = None if before is None else ("national" if before else "local")
                    after = "national" if after else "local"
                changes.append(ChangeOut(field=field, label=FIELD_LABELS.get(field, field), before=before, after=after))
            out.append(
                HistoryOut(
                    event=r["event"],
                    label=r["label"],
                    author=r["author"],
                    author_email=r["author_email"],
                    recorded_at=r["recorded_at"],
                    reason=r["reason"],
                    changes=changes,
                )
            )
        return out

    def adoption(self, territory: str) -> AdoptionOut | None:
        with self.db.read() as cur:
            row = cur.execute(
                "SELECT d.*, a.email AS author_email FROM lexique_adoptions d LEFT JOIN accounts a ON a.account_id = d.author "
                "WHERE d.territory = ? ORDER BY d.position LIMIT 1",
                (territory,),
            ).fetchone()
        if row is None:
            return None
        return AdoptionOut(
            list_version=row["list_version"],
            added=row["added"],
            author_email=row["author_email"],
            recorded_at=row["recorded_at"],
            reason=row["reason"],
        )

    def export_csv(self, territory: str) -> str:
        out = io.StringIO()
        w = writer(out)
        w.writerow(CSV_COLUMNS)
        for t in self.terms(territory):
            w.writerow((t.term, t.expansion, t.definition, "national" if t.national else "local", t.structure_id or ""))
        return out.getvalue()

    def glossary(self, territory: str) -> tuple[GlossaryTerm, ...]:
        """What every page of the territory reads: from memory, read again after a change here
        or after :data:`CACHE_SECONDS` (a change made through another worker)."""
        kept = _glossaries.setdefault(self.trame, {})
        now = time.monotonic()
        found = kept.get(territory)
        if found is not None and found[0] > now:
            return found[1]
        with self.db.read() as cur:
            rows = cur.execute(
                "SELECT term, expansion, definition FROM lexique_terms WHERE territory = ? AND active = 1 ORDER BY sort_key, term",
                (territory,),
            ).fetchall()
        terms = tuple(GlossaryTerm(r["term"], r["expansion"], r["definition"]) for r in rows)
        kept[territory] = (now + CACHE_SECONDS, terms)
        return terms

    # == inside =================================================================================
    def _changed(self, territory: str) -> None:
        _glossaries.get(self.trame, {}).pop(territory, None)

    @staticmethod
    def _stream(term_id: str) -> UUID:
        try:
            return UUID(term_id)
        except ValueError:
            raise absent("Ce terme n'existe pas dans le lexique de ce territoire.") from None

    @staticmethod
    def _active(territory: str, history: History, stream: UUID) -> TermState:
        records = history.of(stream)
        state = state_of(records)
        if state is None or records[0].territory != territory:
            raise absent("Ce terme n'existe pas dans le lexique de ce territoire.")
        if not state.active:
            raise conflict("Ce terme a été retiré du lexique ; ajoutez-le à nouveau pour le modifier.")
        return state

    def _out(self, territory: str, rows: Sequence[Row]) -> list[TermOut]:
        names = annuaire.names(self.trame, territory, {r["structure_id"] for r in rows if r["structure_id"]})
        return [
            TermOut(
                id=r["term_id"],
                term=r["term"],
                expansion=r["expansion"],
                definition=r["definition"],
                structure_id=r["structure_id"],
                structure_name=names.get(r["structure_id"]) if r["structure_id"] else None,
                national=bool(r["national"]),
                active=bool(r["active"]),
                version=int(r["version"]),
                updated_at=r["updated_at"],
            )
            for r in rows
        ]


def parse_csv(text: str) -> list[CsvTerm]:
    """The rows of an exported (or hand-made) glossary file, checked; refused with the line at fault."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        raise invalid("Le fichier est vide.", field="file")
    head = lines[0]
    delimiter = ";" if head.count(";") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [fold(c.strip()) for c in next(reader)]
    if "terme" not in header:
        raise invalid("La première ligne nomme les colonnes : terme, signification, definition, portee, structure_id.", field="file")
    at = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    rows: list[CsvTerm] = []
    seen: set[str] = set()
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise invalid(f"Un fichier compte au plus {MAX_IMPORT_ROWS} termes.", field="file")

        def cell(name: str, cells: list[str] = cells) -> str:
            i = at.get(name)
            return restore(cells[i]).strip() if i is not None and i < len(cells) else ""

        term, expansion, definition = _clean(cell("terme"), cell("signification"), cell("definition"))
        try:
            _check(term, expansion, definition)
        except Exception as exc:
            raise invalid(f"Ligne {line} : {exc}", field="file") from None
        scope = fold(cell("portee"))
        if scope not in ("", "national", "local"):
            raise invalid(f"Ligne {line} : la portée est « national » ou « local ».", field="file")
        if fold(term) in seen:
            raise invalid(f"Ligne {line} : « {term} » figure deux fois dans le fichier.", field="file")
        seen.add(fold(term))
        rows.append(CsvTerm(term, Wording(expansion, definition, cell("structure_id") or None, scope == "national")))
    if not rows:
        raise invalid("Le fichier ne contient aucun terme.", field="file")
    return rows


def lexique(trame: Trame) -> Lexique:
    return Lexique(trame)
