"""Partnerships: the commands (through ``core.commands.run``) and the queries pages, API and demo call.

No HTTP here: a command says no with :class:`core.refusals.Refused`. Every query takes the
territory and the two instants (``as_of`` valid time, ``known_at`` transaction time); partner
names are those the directory gave them at ``as_of``, and a partner merged into another
structure since is shown as its successor (lineage), so an old convention reads right.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, get_args
from uuid import UUID

import msgspec

from core import clock
from core.bitemporal import CURRENT
from core.commands import History, run
from core.events import Event
from core.refusals import absent, conflict, invalid
from core.store import Context
from core.structures import require_structures
from plugins.annuaire import public as annuaire
from plugins.partenariats import events as ev
from plugins.partenariats.projection import GRID_FIELDS, PARTNERSHIPS

if TYPE_CHECKING:
    from core.application import Trame

KINDS = {
    "convention": "Convention",
    "financement": "Financement",
    "prescription": "Prescription",
    "relais": "Relais",
    "reseau": "Réseau informel",
}
FORMS = {
    "initiative": "Partenariat d'initiative (ou spontané)",
    "palliatif": "Partenariat palliatif (ou de ressource)",
    "impose": "Partenariat imposé (par une politique publique)",
}
#: The four quadrants of the seed 002 « carte mentale des partenaires de la structure », in reading order.
ROLES = {
    "interne": "Partenaires internes",
    "financeur": "Financeurs / commanditaires",
    "terrain": "Acteurs de terrain",
    "prescripteur": "Prescripteurs",
}
#: The values the events accept, each with its label above.
_KINDS: tuple[ev.Kind, ...] = get_args(ev.Kind)
_FORMS: tuple[ev.Form, ...] = get_args(ev.Form)
_ROLES: tuple[ev.Role, ...] = get_args(ev.Role)
assert set(KINDS) == set(_KINDS) and set(FORMS) == set(_FORMS) and set(ROLES) == set(_ROLES)
#: The seed 002 grid of a partnership's analysis: field -> French heading.
GRID = {
    "what_works": "Ce qui fonctionne dans le partenariat, et pourquoi",
    "obstacles": "Limites, freins, points bloquants, difficultés rencontrées",
    "steering": "Coordination et pilotage du partenariat (est-il équitable pour l'ensemble des acteurs ?)",
    "communication": "Communication",
    "public_feedback": "Retour du public",
    "evolution": "Évolution envisagée du partenariat",
}
assert tuple(GRID) == GRID_FIELDS
ENDING_WITHIN = 90  # days: a convention ending this soon is a reminder
EVALUATE_EVERY = 365  # days without an evaluation before a reminder
BUSY = "Ce partenariat est modifié en ce moment par quelqu'un d'autre ; réessayez."


# == inputs (also the API's bodies) ================================================================
class PartnerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    role: str


class TermsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: str
    kind: str
    form: str
    partners: list[PartnerIn]
    ends_on: str | None = None
    convention_ref: str | None = None
    renewal_on: str | None = None
    description: str = ""
    reason: str | None = None


class PartnershipIn(TermsIn, kw_only=True, forbid_unknown_fields=True):
    starts_on: str


class AmendmentIn(TermsIn, kw_only=True, forbid_unknown_fields=True):
    effective: str  # the day the new terms take effect


class EndIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ended_on: str
    reason: str | None = None


class EvaluationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    evaluated_on: str
    what_works: str = ""
    obstacles: str = ""
    steering: str = ""
    communication: str = ""
    public_feedback: str = ""
    evolution: str = ""


# == what queries answer ==========================================================================
@dataclass(frozen=True)
class PartnerView:
    structure_id: str  # after lineage: the structure that carries the partnership at the date
    name: str  # its name at the date
    role: str
    recorded_id: str  # the structure named when the partnership was recorded
    former_name: str | None = None  # the merged structure's name, when lineage replaced it

    @property
    def role_label(self) -> str:
        return ROLES[self.role]


@dataclass(frozen=True)
class Partnership:
    id: str
    title: str
    kind: str
    form: str
    partners: list[PartnerView]
    starts_on: str
    ends_on: str | None
    convention_ref: str | None
    renewal_on: str | None
    description: str
    ended: bool
    end_reason: str | None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def form_label(self) -> str:
        return FORMS[self.form]

    def running_on(self, day: str) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def partner_ids(self) -> set[str]:
        return {p.structure_id for p in self.partners}


@dataclass(frozen=True)
class HistoryLine:
    event: str
    label: str
    effective: str
    recorded_at: str
    author: str
    reason: str | None


@dataclass(frozen=True)
class Evaluation:
    id: str
    partnership_id: str
    evaluated_on: str
    texts: dict[str, str]
    author: str
    recorded_at: str


@dataclass(frozen=True)
class MapEntry:
    """One partner on a structure's map: in the quadrant of its role, with the partnerships it shares."""

    structure_id: str
    name: str
    role: str
    former_name: str | None
    partnerships: list[Partnership]


@dataclass(frozen=True)
class PartnerMap:
    structure_id: str
    name: str
    day: str
    quadrants: dict[str, list[MapEntry]]  # role -> entries, every role present

    @property
    def empty(self) -> bool:
        return not any(self.quadrants.values())

    def entries(self) -> list[MapEntry]:
        return [e for role in ROLES for e in self.quadrants[role]]


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    acronym: str | None
    degree: int

    @property
    def isolated(self) -> bool:
        return self.degree == 0


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    partnerships: list[Partnership]

    @property
    def kinds(self) -> list[str]:
        return sorted({p.kind for p in self.partnerships})


@dataclass(frozen=True)
class Network:
    day: str
    kind: str | None
    nodes: list[Node]
    edges: list[Edge]
    names: dict[str, str] = field(default_factory=dict)

    @property
    def isolated(self) -> list[Node]:
        return [n for n in self.nodes if n.isolated]


@dataclass(frozen=True)
class Reminder:
    partnership: Partnership
    what: str  # "fin", "renouvellement", "evaluation"
    day: str | None  # the end or renewal day; the last evaluation for "evaluation" (None: never)
    text: str


# == helpers ======================================================================================
def stream_of(partnership_id: str) -> UUID:
    try:
        return UUID(partnership_id)
    except ValueError:
        raise absent("Ce partenariat n'existe pas sur ce territoire.") from None


def _day(value: str | None, field_name: str, label: str, *, required: bool = False) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise invalid(f"{label} : indiquez une date (par exemple 15/03/2010).", field_name)
        return None
    try:
        return clock.parse_day(str(value)).isoformat()
    except clock.BadInstant as exc:
        raise invalid(f"{label} : {exc}.", field_name) from None


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def day_of_instant(instant: str | None) -> str:
    return instant[:10] if instant else clock.paris_today()


class _Terms(TypedDict):
    """A partnership's terms, checked: what both its recording and its amendments carry."""

    title: str
    kind: ev.Kind
    form: ev.Form
    partners: list[ev.Partner]
    ends_on: str | None
    convention_ref: str | None
    renewal_on: str | None
    description: str


@dataclass
class _Standing:
    """What the commands decide on: when the partnership began and whether it has ended."""

    starts_on: str
    ended: bool = False


class Partnerships:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # == commands ==================================================================================
    def _terms(self, territory: str, data: TermsIn, starts_on: str) -> _Terms:
        title = data.title.strip()
        if not title:
            raise invalid("Donnez un intitulé au partenariat (par exemple : « Convention d'accompagnement RSA »).", "title")
        if data.kind not in _KINDS:
            raise invalid("Choisissez le type de partenariat : " + ", ".join(k.lower() for k in KINDS.values()) + ".", "kind")
        if data.form not in _FORMS:
            raise invalid("Choisissez la forme du partenariat : d'initiative, palliatif (ou de ressource) ou imposé.", "form")
        partners: list[ev.Partner] = []
        for p in data.partners:
            if not p.structure_id.strip():
                continue
            if p.role not in _ROLES:
                raise invalid(
                    "Choisissez le rôle de chaque partenaire : interne, acteur de terrain, financeur ou prescripteur.", "partners"
                )
            if any(x.structure_id == p.structure_id for x in partners):
                raise invalid("Une structure n'est qu'une fois partenaire d'un même partenariat.", "partners")
            partners.append(ev.Partner(structure_id=p.structure_id.strip(), role=p.role))
        if len(partners) < 2:
            raise invalid("Un partenariat réunit au moins deux structures de l'annuaire.", "partners")
        require_structures(self.trame, territory, [p.structure_id for p in partners])  # another territory's id: 404
        ends_on = _day(data.ends_on, "ends_on", "Date de fin")
        if ends_on and ends_on < starts_on:
            raise invalid("La date de fin ne peut pas précéder le début du partenariat.", "ends_on")
        renewal_on = _day(data.renewal_on, "renewal_on", "Date de renouvellement")
        if renewal_on and renewal_on < starts_on:
            raise invalid("Le renouvellement ne peut pas précéder le début du partenariat.", "renewal_on")
        if len(data.description) > 20000:
            raise invalid("La description est trop longue (20 000 caractères au plus).", "description")
        if data.convention_ref and len(data.convention_ref) > 300:
            raise invalid("La référence est trop longue (300 caractères au plus).", "convention_ref")
        return _Terms(
            title=title[:300],
            kind=data.kind,
            form=data.form,
            partners=partners,
            ends_on=ends_on,
            convention_ref=_clean(data.convention_ref),
            renewal_on=renewal_on,
            description=data.description.strip(),
        )

    def record(self, territory: str, data: PartnershipIn, *, author: str) -> str:
        """Record a partnership, effective from its start; returns its id."""
        starts_on = _day(data.starts_on, "starts_on", "Date de début", required=True)
        assert starts_on is not None
        terms = self._terms(territory, data, starts_on)
        partnership_id = str(uuid.uuid4())
        stream = UUID(partnership_id)
        event = ev.PartnershipRecorded(partnership_id=partnership_id, starts_on=starts_on, **terms)
        ctx = Context(author=author, territory=territory, effective=clock.parse(starts_on), reason=_clean(data.reason))
        run(self.trame, ctx, [stream], lambda h: {stream: [event]}, busy=BUSY)
        return partnership_id

    def _state(self, history: History, stream: UUID, territory: str) -> _Standing:
        """The partnership as its stream says (not a read model that may lag)."""
        records = history.of(stream)
        if not records or records[0].territory != territory:
            raise absent("Ce partenariat n'existe pas sur ce territoire.")
        state: _Standing | None = None
        for rec in records:
            e = rec.event
            if isinstance(e, ev.PartnershipRecorded):
                state = _Standing(e.starts_on)
            elif isinstance(e, ev.PartnershipEnded) and state is not None:
                state.ended = True
        if state is None:
            raise absent("Ce partenariat n'existe pas sur ce territoire.")
        return state

    def amend(self, territory: str, partnership_id: str, data: AmendmentIn, *, author: str) -> None:
        """New terms from ``data.effective`` on; earlier days keep the earlier terms."""
        stream = stream_of(partnership_id)
        effective = _day(data.effective, "effective", "À compter du", required=True)
        assert effective is not None

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._state(history, stream, territory)
            if state.ended:
                raise conflict("Ce partenariat est terminé : ses termes ne changent plus (enregistrez-en un nouveau).")
            if effective < state.starts_on:
                raise invalid("Une modification ne peut pas précéder le début du partenariat.", "effective")
            terms = self._terms(territory, data, state.starts_on)
            return {stream: [ev.PartnershipAmended(partnership_id=partnership_id, **terms)]}

        ctx = Context(author=author, territory=territory, effective=clock.parse(effective), reason=_clean(data.reason))
        run(self.trame, ctx, [stream], decide, busy=BUSY)

    def end(self, territory: str, partnership_id: str, data: EndIn, *, author: str) -> None:
        stream = stream_of(partnership_id)
        ended_on = _day(data.ended_on, "ended_on", "Dernier jour", required=True)
        assert ended_on is not None

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._state(history, stream, territory)
            if state.ended:
                raise conflict("Ce partenariat est déjà terminé.")
            if ended_on < state.starts_on:
                raise invalid("Un partenariat ne peut pas finir avant d'avoir commencé.", "ended_on")
            return {stream: [ev.PartnershipEnded(partnership_id=partnership_id, ended_on=ended_on, reason=_clean(data.reason))]}

        ctx = Context(author=author, territory=territory, effective=clock.parse(ended_on), reason=_clean(data.reason))
        run(self.trame, ctx, [stream], decide, busy=BUSY)

    def evaluate(self, territory: str, partnership_id: str, data: EvaluationIn, *, author: str) -> str:
        stream = stream_of(partnership_id)
        on = _day(data.evaluated_on, "evaluated_on", "Date de l'évaluation", required=True)
        assert on is not None
        if on > clock.paris_today():
            raise invalid("Une évaluation porte sur ce qui a eu lieu : sa date ne peut pas être dans le futur.", "evaluated_on")
        texts = {f: getattr(data, f).strip() for f in GRID}
        if not any(texts.values()):
            raise invalid("Répondez à au moins une question de la grille d'évaluation.", "what_works")
        evaluation_id = str(uuid.uuid4())

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._state(history, stream, territory)
            if on < state.starts_on:
                raise invalid("Une évaluation ne peut pas précéder le début du partenariat.", "evaluated_on")
            return {stream: [ev.PartnershipEvaluated(partnership_id=partnership_id, evaluation_id=evaluation_id, evaluated_on=on, **texts)]}

        run(self.trame, Context(author=author, territory=territory, effective=clock.parse(on)), [stream], decide, busy=BUSY)
        return evaluation_id

    # == queries ===================================================================================
    def _states(self, territory: str, as_of: str, known_at: str | None) -> list[tuple[str, dict[str, Any]]]:
        with self.trame.db.read() as cur:
            return PARTNERSHIPS.all_at(cur, territory, as_of=as_of, known_at=known_at)

    def _lineage(self, territory: str, ids: Iterable[str], as_of: str, known_at: str | None) -> dict[str, tuple[str, str, str | None]]:
        """id -> (the structure carrying it at ``as_of``, its name then, the merged one's name or None)."""
        svc = annuaire.directory(self.trame)
        wanted = set(ids)
        present = svc.structures(territory, wanted, as_of, known_at)
        out: dict[str, tuple[str, str, str | None]] = {sid: (sid, s.name, None) for sid, s in present.items()}
        for sid in wanted - present.keys():
            current, former, hops = sid, None, 0
            while hops < 10:  # ANPE -> Pôle emploi -> ...: a short chain, never a loop
                gone = svc.departure(territory, current, as_of, known_at)
                if not gone or not gone.get("merged_into"):
                    break
                former = former or gone.get("name")
                current, hops = str(gone["merged_into"]), hops + 1
            if current != sid and (found := svc.structures(territory, [current], as_of, known_at).get(current)) is not None:
                out[sid] = (current, found.name, former)
            else:
                out[sid] = (sid, annuaire.names(self.trame, territory, [sid]).get(sid, annuaire.GONE), None)
        return out

    def _build(self, territory: str, rows: list[tuple[str, dict[str, Any]]], as_of: str, known_at: str | None) -> list[Partnership]:
        ids = {p["structure_id"] for _, s in rows for p in s["partners"]}
        lineage = self._lineage(territory, ids, as_of, known_at) if ids else {}
        out = []
        for pid, s in rows:
            partners: list[PartnerView] = []
            for p in s["partners"]:
                carrier, name, former = lineage[p["structure_id"]]
                if any(x.structure_id == carrier for x in partners):
                    continue  # two partners merged into one: it is one partner now
                partners.append(PartnerView(carrier, name, p["role"], p["structure_id"], former))
            out.append(
                Partnership(
                    id=pid,
                    title=s["title"],
                    kind=s["kind"],
                    form=s["form"],
                    partners=sorted(partners, key=lambda x: x.name.casefold()),
                    starts_on=s["starts_on"],
                    ends_on=s.get("ends_on"),
                    convention_ref=s.get("convention_ref"),
                    renewal_on=s.get("renewal_on"),
                    description=s.get("description", ""),
                    ended=bool(s.get("ended")),
                    end_reason=s.get("end_reason"),
                )
            )
        return sorted(out, key=lambda p: (p.starts_on, p.title.casefold(), p.id))

    def at(
        self, territory: str, *, as_of: str | None = None, known_at: str | None = None, kind: str | None = None, running: bool = True
    ) -> list[Partnership]:
        """The partnerships at ``as_of`` (default now) as known at ``known_at``; ``running``: only
        those between their first and last day then (else also those recorded and ended)."""
        at = as_of or clock.now()
        day = day_of_instant(as_of)
        rows = [(pid, s) for pid, s in self._states(territory, at, known_at) if kind is None or s["kind"] == kind]
        items = self._build(territory, rows, at, known_at)
        return [p for p in items if p.running_on(day)] if running else items

    def get(self, territory: str, partnership_id: str, *, as_of: str | None = None, known_at: str | None = None) -> Partnership | None:
        """Its terms at ``as_of`` (default now); asked before its start, its latest terms."""
        at = as_of or clock.now()
        with self.trame.db.read() as cur:
            owner = cur.scalar("SELECT territory FROM partenariats_partnerships WHERE entity_id = ? LIMIT 1", (partnership_id,))
            if owner != territory:
                return None
            state = PARTNERSHIPS.get(cur, partnership_id, as_of=at, known_at=known_at) or PARTNERSHIPS.get(
                cur, partnership_id, as_of=CURRENT, known_at=known_at
            )
        if state is None:
            return None
        return self._build(territory, [(partnership_id, state)], at, known_at)[0]

    def require(self, territory: str, partnership_id: str, **at: str | None) -> Partnership:
        found = self.get(territory, partnership_id, **at)
        if found is None:
            raise absent("Ce partenariat n'existe pas sur ce territoire.")
        return found

    def history(self, territory: str, partnership_id: str) -> list[HistoryLine]:
        labels = {e.name: e.journal_label for e in ev.EVENTS}
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT event, effective, recorded_at, author, reason FROM partenariats_history WHERE territory = ? AND partnership_id = ? "
                "ORDER BY position",
                (territory, partnership_id),
            ).fetchall()
        return [
            HistoryLine(r["event"], labels.get(r["event"], r["event"]), r["effective"], r["recorded_at"], r["author"], r["reason"])
            for r in rows
        ]

    def evaluations(self, territory: str, partnership_id: str) -> list[Evaluation]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM partenariats_evaluations WHERE territory = ? AND partnership_id = ? "
                "ORDER BY evaluated_on DESC, recorded_at DESC",
                (territory, partnership_id),
            ).fetchall()
        return [
            Evaluation(r["evaluation_id"], r["partnership_id"], r["evaluated_on"], {f: r[f] for f in GRID}, r["author"], r["recorded_at"])
            for r in rows
        ]

    def last_evaluations(self, territory: str) -> dict[str, str]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT partnership_id, MAX(evaluated_on) AS last FROM partenariats_evaluations WHERE territory = ? "
                "GROUP BY partnership_id",
                (territory,),
            ).fetchall()
        return {r["partnership_id"]: r["last"] for r in rows}

    def partner_map(self, territory: str, structure_id: str, *, as_of: str | None = None, known_at: str | None = None) -> PartnerMap:
        """The structure in the centre, its partners at ``as_of`` in the four quadrants of their role."""
        at = as_of or clock.now()
        mine = [p for p in self.at(territory, as_of=at, known_at=known_at) if structure_id in p.partner_ids()]
        entries: dict[tuple[str, str], tuple[PartnerView, list[Partnership]]] = {}
        for p in mine:
            for partner in p.partners:
                if partner.structure_id == structure_id:
                    continue
                key = (partner.role, partner.structure_id)
                entries.setdefault(key, (partner, []))[1].append(p)
        quadrants: dict[str, list[MapEntry]] = {role: [] for role in ROLES}
        for (role, sid), (partner, shared) in entries.items():
            quadrants[role].append(MapEntry(sid, partner.name, role, partner.former_name, shared))
        for items in quadrants.values():
            items.sort(key=lambda e: e.name.casefold())
        name = self._lineage(territory, [structure_id], at, known_at)[structure_id][1]
        return PartnerMap(structure_id, name, day_of_instant(as_of), quadrants)

    def network(self, territory: str, *, as_of: str | None = None, known_at: str | None = None, kind: str | None = None) -> Network:
        """Who works with whom at ``as_of``: every structure in the network then, linked by each pair
        of partners of a running partnership (of ``kind``); structures with no link are isolated."""
        at = as_of or clock.now()
        listed = {s.id: s for s in annuaire.structures(self.trame, territory, as_of=at)}
        structures = listed if known_at is None else annuaire.directory(self.trame).structures(territory, listed, at, known_at)
        pairs: dict[tuple[str, str], list[Partnership]] = {}
        for p in self.at(territory, as_of=at, known_at=known_at, kind=kind):
            ids = sorted(i for i in p.partner_ids() if i in structures)
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    pairs.setdefault((a, b), []).append(p)
        degree: dict[str, int] = dict.fromkeys(structures, 0)
        for a, b in pairs:
            degree[a] += 1
            degree[b] += 1
        nodes = sorted(
            (Node(sid, s.name, s.acronym, degree[sid]) for sid, s in structures.items()), key=lambda n: (n.name.casefold(), n.id)
        )
        edges = [Edge(a, b, ps) for (a, b), ps in sorted(pairs.items())]
        return Network(day_of_instant(as_of), kind, nodes, edges, {n.id: n.name for n in nodes})

    def reminders(self, territory: str, today: str | None = None) -> list[Reminder]:
        """Conventions whose end or renewal comes within 90 days; running partnerships not evaluated for a year."""
        day = today or clock.paris_today()
        horizon = (date.fromisoformat(day) + timedelta(days=ENDING_WITHIN)).isoformat()
        stale = (date.fromisoformat(day) - timedelta(days=EVALUATE_EVERY)).isoformat()
        last = self.last_evaluations(territory)
        out: list[Reminder] = []
        for p in self.at(territory, as_of=clock.parse(day, end_of_day=True)):
            if p.ends_on and day <= p.ends_on <= horizon:
                out.append(Reminder(p, "fin", p.ends_on, f"prend fin le {clock.french_long_date(p.ends_on)}"))
            if p.renewal_on and day <= p.renewal_on <= horizon and p.renewal_on != p.ends_on:
                out.append(Reminder(p, "renouvellement", p.renewal_on, f"à renouveler le {clock.french_long_date(p.renewal_on)}"))
            evaluated = last.get(p.id)
            if (evaluated or p.starts_on) < stale:
                text = f"dernière évaluation le {clock.french_long_date(evaluated)}" if evaluated else "jamais évalué depuis son début"
                out.append(Reminder(p, "evaluation", evaluated, text))
        order = {"fin": 0, "renouvellement": 1, "evaluation": 2}
        return sorted(out, key=lambda r: (order[r.what], r.day or "", r.partnership.title.casefold()))

    def end_dates(self, territory: str) -> list[Partnership]:
        """Partnerships with a known last day or renewal, as known now (for the calendar feed)."""
        items = self.at(territory, as_of=clock.now(), running=False)
        return [p for p in items if p.ends_on or p.renewal_on]


def partnerships(trame: Trame) -> Partnerships:
    return Partnerships(trame)
