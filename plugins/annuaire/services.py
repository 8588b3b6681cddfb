"""Services of the directory's structures: what each partner offers, in the data·inclusion v1 terms.

A structure offers services (a food parcel, a housing file, a job club): a name, a description,
a type, themes and publics (codes of the national referential, :mod:`plugins.annuaire.referential`),
fees, conditions of access, how it is reached (on site, remote, at home), who may refer to it, a
referral link or contact, the communes where one is eligible, opening hours.

One stream per service; every change is an event whose envelope's ``effective`` is the day it
takes effect, so the ``annuaire.services`` projection keeps each service in a
:class:`core.bitemporal.BitemporalTable` ("as of" and "known at") with its audit lines, as a
sheet's. A service stops and restarts (``exists``). "Qui peut aider ?" searches them by need,
commune and public at a date, and names the structure and the contact to call then.
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from core import clock
from core.bitemporal import BitemporalTable, insert_many
from core.commands import History, run
from core.database import Cursor
from core.events import Event, Recorded
from core.projection import Projection
from core.refusals import absent, conflict, invalid
from core.store import Context
from core.structures import require_structure
from core.text import words
from plugins.annuaire import referential as ref
from plugins.annuaire.service import directory

if TYPE_CHECKING:
    from core.application import Trame
    from plugins.annuaire.schemas import ContactOut, StructureOut

ServiceName = Annotated[str, msgspec.Meta(min_length=3, max_length=150)]
Description = Annotated[str, msgspec.Meta(min_length=5, max_length=10000)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Long = Annotated[str, msgspec.Meta(max_length=2000)]
Codes = Annotated[list[Annotated[str, msgspec.Meta(max_length=150)]], msgspec.Meta(max_length=100)]
Communes = Annotated[list[Short], msgspec.Meta(max_length=300)]
BUSY = "Ce service est modifié en ce moment par quelqu'un d'autre ; réessayez."
NOT_HERE = "Ce service n'existe pas sur ce territoire."


# == events =======================================================================================
class Offer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A service as it is offered (every field of it)."""

    name: ServiceName
    description: Description
    type: Short | None = None  # a code of referential.TYPES
    themes: Codes = []  # codes of referential.THEMATIQUES
    publics: Codes = []  # codes of referential.PUBLICS
    publics_details: Long | None = None
    fees: Short | None = None  # "gratuit" / "payant"
    fees_details: Long | None = None
    access_conditions: Long | None = None
    reception: Codes = []  # referential.RECEPTION: on site, remote, at home
    referral_modes: Codes = []  # referential.MODES_MOBILISATION
    referrers: Codes = []  # referential.MOBILISABLE_PAR: professionals, the person themself
    referral_details: Long | None = None
    referral_link: Short | None = None
    phone: Short | None = None  # the service's own line (generic), else the structure's
    email: Short | None = None
    communes: Communes = []  # eligibility zone; empty: the structure's communes
    opening_hours: Short | None = None  # French text, as on a sheet


class OfferChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Fields of a service that change; absent ones stay as they are."""

    name: ServiceName | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    type: Short | UnsetType | None = UNSET
    themes: Codes | UnsetType = UNSET
    publics: Codes | UnsetType = UNSET
    publics_details: Long | UnsetType | None = UNSET
    fees: Short | UnsetType | None = UNSET
    fees_details: Long | UnsetType | None = UNSET
    access_conditions: Long | UnsetType | None = UNSET
    reception: Codes | UnsetType = UNSET
    referral_modes: Codes | UnsetType = UNSET
    referrers: Codes | UnsetType = UNSET
    referral_details: Long | UnsetType | None = UNSET
    referral_link: Short | UnsetType | None = UNSET
    phone: Short | UnsetType | None = UNSET
    email: Short | UnsetType | None = UNSET
    communes: Communes | UnsetType = UNSET
    opening_hours: Short | UnsetType | None = UNSET


OFFER_FIELDS: tuple[str, ...] = Offer.__struct_fields__


class ServiceOffered(Event, frozen=True):
    name = "annuaire.ServiceOffered"
    journal_label = "Service proposé par une structure"
    service_id: str
    structure_id: str
    offer: Offer


class ServiceChanged(Event, frozen=True):
    name = "annuaire.ServiceChanged"
    journal_label = "Service modifié"
    service_id: str
    structure_id: str
    changes: OfferChanges


class ServiceStopped(Event, frozen=True):
    name = "annuaire.ServiceStopped"
    journal_label = "Service arrêté"
    service_id: str
    structure_id: str


class ServiceRestarted(Event, frozen=True):
    name = "annuaire.ServiceRestarted"
    journal_label = "Service repris"
    service_id: str
    structure_id: str


class ServiceConfirmed(Event, frozen=True):
    """The referent checked the service: "still correct" (update campaigns)."""

    name = "annuaire.ServiceConfirmed"
    journal_label = "Service confirmé"
    service_id: str
    structure_id: str


EVENTS: list[type[Event]] = [ServiceOffered, ServiceChanged, ServiceStopped, ServiceRestarted, ServiceConfirmed]


# == projection ===================================================================================
def normalize(text: str) -> str:
    """Folded words, one space apart: "Nanteuil-lès-Meaux" -> "nanteuil les meaux"."""
    return " ".join(words(text))


def _bars(values: Iterable[str] | None) -> str:
    return "|" + "|".join(normalize(v) for v in values or ()) + "|"


SERVICES = BitemporalTable(
    "annuaire_services",
    columns=(
        "structure_id",
        ("themes", lambda s: _bars(s.get("themes"))),
        ("categories", lambda s: _bars(dict.fromkeys(ref.category_of(t) for t in s.get("themes") or ()))),
        ("publics", lambda s: _bars(s.get("publics"))),
        ("communes", lambda s: _bars(s.get("communes"))),
    ),
)
HISTORY_TABLE = "annuaire_service_history"
_HISTORY = (
    "position", "territory", "service_id", "structure_id", "event", "label", "author", "recorded_at", "effective", "reason", "changes",
)  # fmt: skip
_HISTORY_TYPES = ("bigint", *("text" for _ in _HISTORY[1:]))
_STREAMS = ("service_id", "territory", "structure_id", "version", "offered_at", "confirmed_at")
_STREAM_TYPES = ("text", "text", "text", "bigint", "text", "text")


class ServicesProjection(Projection):
    """``annuaire.services``: services over valid and transaction time, their audit, their versions."""

    name = "annuaire.services"
    version = 1
    topics = tuple(e.name for e in EVENTS)
    tables = (*SERVICES.tables, HISTORY_TABLE, "annuaire_service_streams")

    def __init__(self) -> None:
        self.dialect = ""

    def schema(self, dialect: str) -> list[str]:
        self.dialect = dialect
        key = "INTEGER PRIMARY KEY" if dialect == "sqlite" else "BIGINT PRIMARY KEY"
        return [
            *SERVICES.schema(dialect),
            f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (position {key}, territory TEXT NOT NULL, service_id TEXT NOT NULL, "
            "structure_id TEXT NOT NULL, event TEXT NOT NULL, label TEXT NOT NULL, author TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "effective TEXT NOT NULL, reason TEXT, changes TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS annuaire_service_streams (service_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "structure_id TEXT NOT NULL, version BIGINT NOT NULL, offered_at TEXT NOT NULL, confirmed_at TEXT)",
        ]

    def indexes(self, dialect: str) -> list[str]:
        return [
            *SERVICES.indexes(),
            "CREATE INDEX IF NOT EXISTS annuaire_services_structure ON annuaire_services (structure_id, recorded_to, valid_from)",
            f"CREATE INDEX IF NOT EXISTS {HISTORY_TABLE}_service ON {HISTORY_TABLE} (service_id, position)",
            f"CREATE INDEX IF NOT EXISTS {HISTORY_TABLE}_territory ON {HISTORY_TABLE} (territory, event, effective)",
            "CREATE INDEX IF NOT EXISTS annuaire_service_streams_structure ON annuaire_service_streams (structure_id)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        batch = SERVICES.batch(cur, self.dialect)
        batch.prefetch((r.event.service_id, r.effective) for r in records)  # type: ignore[attr-defined]
        history: list[tuple[Any, ...]] = []
        streams: dict[str, list[Any]] = {}
        for rec in records:
            e: Any = rec.event
            before = batch.state_at(e.service_id, rec.effective)
            label, patch, changes = _patch(rec, before)
            batch.record(
                territory=rec.territory, entity_id=e.service_id, effective=rec.effective, recorded_at=rec.recorded_at,
                seq=rec.position, patch=patch,
            )  # fmt: skip
            history.append(
                (
                    rec.position, rec.territory, e.service_id, e.structure_id, rec.name, label, rec.author, rec.recorded_at,
                    rec.effective, rec.reason, msgspec.json.encode([list(c) for c in changes]).decode(),
                )
            )  # fmt: skip
            confirmed = rec.recorded_at if isinstance(e, ServiceConfirmed | ServiceOffered) else None
            stream = streams.get(e.service_id)
            if stream is None:
                streams[e.service_id] = [e.service_id, rec.territory, e.structure_id, rec.version, rec.recorded_at, confirmed]
            else:
                stream[3] = rec.version
                stream[5] = confirmed or stream[5]
        batch.flush()
        insert_many(
            cur, self.dialect, "annuaire_service_streams", _STREAMS, _STREAM_TYPES, list(streams.values()),
            " ON CONFLICT (service_id) DO UPDATE SET version = excluded.version, "
            "confirmed_at = COALESCE(excluded.confirmed_at, annuaire_service_streams.confirmed_at)",
        )  # fmt: skip
        insert_many(cur, self.dialect, HISTORY_TABLE, _HISTORY, _HISTORY_TYPES, history)


def _patch(rec: Recorded, before: dict[str, Any]) -> tuple[str, dict[str, Any], list[tuple[str, Any, Any]]]:
    """(audit label, patch of the state, field changes) of one event."""
    e = rec.event
    if isinstance(e, ServiceOffered):
        fields = msgspec.to_builtins(e.offer)
        patch = {"exists": True, "structure_id": e.structure_id, "offered": rec.effective, **fields}
        return "Nouveau service", patch, [(k, None, v) for k, v in fields.items() if v not in (None, [])]
    if isinstance(e, ServiceChanged):
        patch = msgspec.to_builtins({f: getattr(e.changes, f) for f in OFFER_FIELDS if getattr(e.changes, f) is not UNSET})
        return "Modification du service", patch, [(k, before.get(k), v) for k, v in patch.items() if before.get(k) != v]
    if isinstance(e, ServiceStopped):
        return "Arrêt du service", {"exists": False, "stopped": rec.effective}, [("exists", True, False)]
    if isinstance(e, ServiceRestarted):
        return "Reprise du service", {"exists": True, "stopped": None, "restarted": rec.effective}, [("exists", False, True)]
    if isinstance(e, ServiceConfirmed):
        return "Service confirmé", {"confirmed_at": rec.recorded_at}, []
    raise TypeError(f"unexpected event {rec.name}")


# == inputs and views =============================================================================
class ServiceIn(Offer, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new service (the API's body): the offer, the day it starts, why."""

    effective: str | None = None  # the day it starts (default: today)
    reason: Short | None = None


class ServicePatch(OfferChanges, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    effective: str | None = None  # the day the change takes effect (default: today)
    reason: Short | None = None


class ServiceOut(msgspec.Struct, kw_only=True):
    """A service at a date, with the labels of its codes (for pages, the API, other plugins)."""

    id: str
    structure_id: str
    version: int
    name: str
    description: str
    type: str | None
    type_label: str | None
    themes: list[str]
    theme_labels: list[str]
    publics: list[str]
    public_labels: list[str]
    publics_details: str | None
    fees: str | None
    fees_label: str | None
    fees_details: str | None
    access_conditions: str | None
    reception: list[str]
    reception_labels: list[str]
    referral_modes: list[str]
    referral_mode_labels: list[str]
    referrers: list[str]
    referrer_labels: list[str]
    referral_details: str | None
    referral_link: str | None
    phone: str | None
    email: str | None
    communes: list[str]
    opening_hours: str | None
    offered: str | None  # the day it was first offered
    stopped: str | None = None  # the day it stopped (when read at a date it no longer ran)
    confirmed_at: str | None = None


class HistoryLine(msgspec.Struct, kw_only=True):
    position: int
    event: str
    label: str
    author: str
    recorded_at: str
    effective: str
    reason: str | None
    changes: list[tuple[str, Any, Any]]


@dataclass(frozen=True)
class Answer:
    """One answer of "qui peut aider ?": the service, its structure then, and whom to call then."""

    service: ServiceOut
    structure: StructureOut
    contacts: list[ContactOut]
    score: int

    @property
    def contact(self) -> ContactOut | None:
        return self.contacts[0] if self.contacts else None

    @property
    def phone(self) -> str | None:
        return self.service.phone or self.structure.phone

    @property
    def email(self) -> str | None:
        return self.service.email or self.structure.email


@dataclass(frozen=True)
class Question:
    """What "qui peut aider ?" was asked, once read: a need in words, a theme, a commune, a public."""

    text: str = ""
    theme: str | None = None  # a category or a theme code
    commune: str | None = None
    public: str | None = None
    terms: list[str] = field(default_factory=list)  # normalized words left of the text


def labels(codes: Iterable[str], table: Mapping[str, str]) -> list[str]:
    return [table.get(c, c) for c in codes]


def service_out(service_id: str, state: dict[str, Any], version: int = 0, confirmed_at: str | None = None) -> ServiceOut:
    themes = list(state.get("themes") or [])
    publics = list(state.get("publics") or [])
    reception = list(state.get("reception") or [])
    modes = list(state.get("referral_modes") or [])
    referrers = list(state.get("referrers") or [])
    return ServiceOut(
        id=service_id,
        structure_id=state["structure_id"],
        version=version,
        name=state["name"],
        description=state["description"],
        type=state.get("type"),
        type_label=ref.TYPES.get(state.get("type") or ""),
        themes=themes,
        theme_labels=[ref.theme_label(t) for t in themes],
        publics=publics,
        public_labels=labels(publics, ref.PUBLICS),
        publics_details=state.get("publics_details"),
        fees=state.get("fees"),
        fees_label=ref.FRAIS.get(state.get("fees") or ""),
        fees_details=state.get("fees_details"),
        access_conditions=state.get("access_conditions"),
        reception=reception,
        reception_labels=labels(reception, ref.RECEPTION),
        referral_modes=modes,
        referral_mode_labels=labels(modes, ref.MODES_MOBILISATION),
        referrers=referrers,
        referrer_labels=labels(referrers, ref.MOBILISABLE_PAR),
        referral_details=state.get("referral_details"),
        referral_link=state.get("referral_link"),
        phone=state.get("phone"),
        email=state.get("email"),
        communes=list(state.get("communes") or []),
        opening_hours=state.get("opening_hours"),
        offered=(state.get("restarted") or state.get("offered") or "")[:10] or None,
        stopped=(state.get("stopped") or "")[:10] or None,
        confirmed_at=confirmed_at,
    )


_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_URL = re.compile(r"https?://[^\s]+\.[^\s]+")
#: Our directory themes (kinds.THEMES) -> the v1 categories they cover, to prefer the contact
#: whose theme is the service's need.
CATEGORY_OF_THEME: dict[str, tuple[str, ...]] = {
    "logement": ("logement-hebergement",),
    "sante": ("sante",),
    "emploi-insertion": ("trouver-un-emploi", "preparer-sa-candidature", "choisir-un-metier", "se-former", "remobilisation"),
    "famille": ("famille",),
    "alimentation": ("equipement-et-alimentation",),
    "mobilite": ("mobilite",),
    "budget": ("difficultes-financieres",),
    "acces-aux-droits": ("difficultes-administratives-ou-juridiques",),
}
#: Whom to call first among a structure's contacts (CONTACT_ROLES codes).
ROLE_ORDER = ("personne-ressource", "referent", "accueil", "direction")


def check_offer(fields: Mapping[str, Any]) -> None:
    """Refuse a code outside the referential, a contradiction, or a malformed address, naming the field."""
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if len(name) < 3:
            raise invalid("Donnez au service un nom d'au moins 3 caractères (par exemple « Aide alimentaire d'urgence »).", "name")
        if name.endswith(".") and not name.endswith("etc."):
            raise invalid("Le nom du service ne se termine pas par un point.", "name")
    if "description" in fields and len((fields["description"] or "").strip()) < 5:
        raise invalid("Décrivez le service en quelques mots (5 caractères au moins).", "description")
    single = {"type": ref.TYPES, "fees": ref.FRAIS}
    for name, table in single.items():
        value = fields.get(name)
        if value and value not in table:
            raise invalid(f"Code inconnu « {value} » : choisissez parmi {', '.join(table)}.", name)
    lists = {
        "themes": ref.THEMATIQUES,
        "publics": ref.PUBLICS,
        "reception": ref.RECEPTION,
        "referral_modes": ref.MODES_MOBILISATION,
        "referrers": ref.MOBILISABLE_PAR,
    }
    for name, table in lists.items():
        for code in fields.get(name) or ():
            if code not in table:
                raise invalid(f"Code inconnu « {code} » : il n'est pas dans le référentiel data·inclusion.", name)
    publics = fields.get("publics") or []
    if ref.TOUS_PUBLICS in publics and len(publics) > 1:
        raise invalid("« Tous publics » ne se combine pas avec d'autres publics.", "publics")
    email = fields.get("email")
    if email and not _EMAIL.fullmatch(email):
        raise invalid(f"« {email} » n'est pas une adresse e-mail valide.", "email")
    link = fields.get("referral_link")
    if link and not _URL.fullmatch(link):
        raise invalid("Le lien d'orientation commence par https:// (ou http://).", "referral_link")


def _day(value: str | None, name: str = "effective") -> str:
    if value is None or not str(value).strip():
        return clock.parse(clock.paris_today())
    try:
        return clock.parse(str(value))
    except clock.BadInstant as exc:
        raise invalid(f"{exc}.", name, label="Date d'effet") from None


def _stream(service_id: str) -> UUID:
    try:
        return UUID(service_id)
    except ValueError:
        raise absent(NOT_HERE) from None


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or None
        elif isinstance(value, list):
            value = list(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))
        out[key] = value
    return out


# == the service ==================================================================================
class Services:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # -- commands ----------------------------------------------------------------------------------
    def offer(self, territory: str, structure_id: str, data: ServiceIn, *, author: str) -> str:
        """A structure of the territory offers a service from ``data.effective``; returns its id."""
        require_structure(self.trame, territory, structure_id)
        fields = _clean({f: getattr(data, f) for f in OFFER_FIELDS})
        check_offer(fields)
        effective = _day(data.effective)
        if data.effective is None or not str(data.effective).strip():
            # "From today" for a structure that joined earlier today starts when it joined.
            now = directory(self.trame).get_structure(territory, structure_id)
            if now is not None and now.joined and now.joined > effective:
                effective = now.joined
        if directory(self.trame).get_structure(territory, structure_id, as_of=effective) is None:
            raise conflict("Cette structure n'est pas dans le réseau à cette date : elle ne peut pas y proposer de service.", "effective")
        service_id = str(uuid.uuid4())
        stream = UUID(service_id)
        event = ServiceOffered(service_id=service_id, structure_id=structure_id, offer=msgspec.convert(fields, Offer))
        ctx = Context(author=author, territory=territory, effective=effective, reason=(data.reason or "").strip() or None)
        run(self.trame, ctx, [stream], lambda h: {stream: [event]}, busy=BUSY)
        return service_id

    def _state(self, history: History, stream: UUID, territory: str, at: str | None = None) -> dict[str, Any]:
        """The service as its stream says at ``at`` (the last fact effective by then), not a read model."""
        records = history.of(stream)
        if not records or records[0].territory != territory:
            raise absent(NOT_HERE)
        state: dict[str, Any] = {}
        for rec in sorted(records, key=lambda r: (r.effective, r.position)):
            if at is not None and rec.effective > at:
                break
            state.update(_patch(rec, state)[1])
        state.setdefault("structure_id", records[0].event.structure_id)  # type: ignore[attr-defined]
        return state

    def change(self, territory: str, service_id: str, data: ServicePatch, *, author: str, expected_version: int | None = None) -> int:
        """New values from ``data.effective`` on; returns the stream's new version."""
        stream = _stream(service_id)
        fields = _clean({f: getattr(data, f) for f in OFFER_FIELDS if getattr(data, f) is not UNSET})
        for required in ("name", "description"):
            if required in fields and not fields[required]:
                raise invalid("Ce champ est obligatoire.", required)
        check_offer(fields)
        effective = _day(data.effective)

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._state(history, stream, territory, effective)
            if expected_version is not None and history.version(stream) != expected_version:
                raise conflict("Ce service a été modifié entre-temps : rechargez la page pour voir ses changements.")
            if not state.get("exists"):
                raise conflict("Ce service n'est pas proposé à cette date : reprenez-le avant de le modifier.", "effective")
            changed = {k: v for k, v in fields.items() if state.get(k) != v}
            if not changed:
                raise invalid("Aucun champ n'a changé : rien n'a été enregistré.")
            changes = msgspec.convert(changed, OfferChanges)
            event = ServiceChanged(service_id=service_id, structure_id=state["structure_id"], changes=changes)
            return {stream: [event]}

        ctx = Context(author=author, territory=territory, effective=effective, reason=(data.reason or "").strip() or None)
        return run(self.trame, ctx, [stream], decide, busy=BUSY)[-1].version

    def stop(self, territory: str, service_id: str, *, author: str, effective: str | None = None, reason: str | None = None) -> None:
        self._toggle(territory, service_id, False, author=author, effective=effective, reason=reason)

    def restart(self, territory: str, service_id: str, *, author: str, effective: str | None = None, reason: str | None = None) -> None:
        self._toggle(territory, service_id, True, author=author, effective=effective, reason=reason)

    def _toggle(self, territory: str, service_id: str, on: bool, *, author: str, effective: str | None, reason: str | None) -> None:
        stream = _stream(service_id)
        at = _day(effective)

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            state = self._state(history, stream, territory, at)
            if not state:
                raise invalid("Le service n'était pas encore proposé à cette date.", "effective")
            if bool(state.get("exists")) == on:
                raise conflict("Ce service est déjà proposé à cette date." if on else "Ce service est déjà arrêté à cette date.")
            cls = ServiceRestarted if on else ServiceStopped
            return {stream: [cls(service_id=service_id, structure_id=state["structure_id"])]}

        ctx = Context(author=author, territory=territory, effective=at, reason=(reason or "").strip() or None)
        run(self.trame, ctx, [stream], decide, busy=BUSY)

    def confirm(self, territory: str, structure_id: str, *, author: str, reason: str | None = None) -> int:
        """The referent confirms every service the structure offers today; returns how many."""
        offered = self.of_structure(territory, structure_id)
        for s in offered:
            stream = UUID(s.id)

            def decide(history: History, s: ServiceOut = s, stream: UUID = stream) -> Mapping[UUID, Sequence[Event]]:
                self._state(history, stream, territory)
                return {stream: [ServiceConfirmed(service_id=s.id, structure_id=s.structure_id)]}

            run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decide, busy=BUSY)
        return len(offered)

    # -- queries -----------------------------------------------------------------------------------
    def _versions(self, cur: Cursor, ids: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        out: dict[str, tuple[int, str | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = cur.execute(
                "SELECT service_id, version, confirmed_at FROM annuaire_service_streams "
                f"WHERE service_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            out.update({r["service_id"]: (r["version"], r["confirmed_at"]) for r in rows})
        return out

    def get(self, territory: str, service_id: str, *, as_of: str | None = None, known_at: str | None = None) -> ServiceOut | None:
        """The service at ``as_of`` as known at ``known_at``; None when it did not run then."""
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT territory FROM annuaire_service_streams WHERE service_id = ?", (service_id,)).fetchone()
            if row is None or row["territory"] != territory:
                raise absent(NOT_HERE)
            state = SERVICES.get(cur, service_id, as_of=as_of or clock.now(), known_at=known_at)
            version, confirmed = self._versions(cur, [service_id]).get(service_id, (0, None))
        return None if state is None else service_out(service_id, state, version, confirmed)

    def last_known(self, territory: str, service_id: str) -> ServiceOut:
        """The service as it last ran (for the page of a stopped one)."""
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT territory FROM annuaire_service_streams WHERE service_id = ?", (service_id,)).fetchone()
            if row is None or row["territory"] != territory:
                raise absent(NOT_HERE)
            found = cur.execute(
                "SELECT state FROM annuaire_services WHERE entity_id = ? AND recorded_to = ? AND present = 1 "
                "ORDER BY valid_from DESC LIMIT 1",
                (service_id, clock.FOREVER),
            ).fetchone()
            version, confirmed = self._versions(cur, [service_id]).get(service_id, (0, None))
        assert found is not None
        return service_out(service_id, msgspec.json.decode(found["state"]), version, confirmed)

    def all_at(self, territory: str, *, as_of: str | None = None, known_at: str | None = None) -> list[ServiceOut]:
        """Every service running at ``as_of`` in the territory, by structure then name."""
        with self.trame.db.read() as cur:
            rows = SERVICES.all_at(cur, territory, as_of=as_of or clock.now(), known_at=known_at)
            versions = self._versions(cur, [sid for sid, _ in rows])
        out = [service_out(sid, state, *versions.get(sid, (0, None))) for sid, state in rows]
        return sorted(out, key=lambda s: (s.structure_id, normalize(s.name), s.id))

    def of_structure(self, territory: str, structure_id: str, *, as_of: str | None = None, known_at: str | None = None) -> list[ServiceOut]:
        """The services a structure offers at ``as_of``, by name."""
        at = as_of or clock.now()
        with self.trame.db.read() as cur:
            rows = cur.execute(
                f"SELECT entity_id, state FROM annuaire_services WHERE structure_id = ? AND territory = ? AND present = 1 "
                f"AND {SERVICES.where_sql()}",
                (structure_id, territory, *SERVICES.where_params(at, known_at)),
            ).fetchall()
            versions = self._versions(cur, [r["entity_id"] for r in rows])
        out = [service_out(r["entity_id"], msgspec.json.decode(r["state"]), *versions.get(r["entity_id"], (0, None))) for r in rows]
        return sorted(out, key=lambda s: normalize(s.name))

    def stopped_of_structure(self, territory: str, structure_id: str, *, as_of: str | None = None) -> list[ServiceOut]:
        """Services of the structure that ran once and do not at ``as_of`` (to restart them)."""
        at = as_of or clock.now()
        running = {s.id for s in self.of_structure(territory, structure_id, as_of=at)}
        with self.trame.db.read() as cur:
            ids = [
                r["service_id"]
                for r in cur.execute(
                    "SELECT service_id FROM annuaire_service_streams WHERE structure_id = ? AND territory = ?", (structure_id, territory)
                ).fetchall()
            ]
        return [self.last_known(territory, i) for i in ids if i not in running]

    def history(self, territory: str, service_id: str) -> list[HistoryLine]:
        """Who changed what of the service, when it was recorded and from when it took effect."""
        with self.trame.db.read() as cur:
            rows = cur.execute(
                f"SELECT * FROM {HISTORY_TABLE} WHERE service_id = ? AND territory = ? ORDER BY position", (service_id, territory)
            ).fetchall()
        return [
            HistoryLine(
                position=r["position"], event=r["event"], label=r["label"], author=r["author"], recorded_at=r["recorded_at"],
                effective=r["effective"], reason=r["reason"], changes=[tuple(c) for c in msgspec.json.decode(r["changes"])],
            )
            for r in rows
        ]  # fmt: skip

    def offered_between(self, territory: str, since: str | None, until: str) -> list[ServiceOut]:
        """Services that started (or restarted) in ``(since, until]``, as they were at ``until``: news."""
        with self.trame.db.read() as cur:
            rows = cur.execute(
                f"SELECT DISTINCT service_id FROM {HISTORY_TABLE} WHERE territory = ? AND event IN (?, ?) AND effective <= ? "
                "AND effective > ?",
                (territory, ServiceOffered.name, ServiceRestarted.name, until, since or clock.BEGINNING),
            ).fetchall()
        found = [self.get(territory, r["service_id"], as_of=until) for r in rows]
        return sorted((s for s in found if s is not None), key=lambda s: normalize(s.name))

    # -- "qui peut aider ?" --------------------------------------------------------------------------
    def read_question(self, territory: str, text: str = "", *, theme: str | None = None, commune: str | None = None,
                      public: str | None = None, as_of: str | None = None) -> Question:  # fmt: skip
        """Read "aide alimentaire à Fumel": a commune of the territory named in the text becomes the
        commune asked (unless one is given); the other words are the need."""
        norm = normalize(text or "")
        if commune is None and norm:
            for name in sorted(self.communes(territory, as_of=as_of), key=len, reverse=True):
                key = normalize(name)
                if key and re.search(rf"(^| ){re.escape(key)}( |$)", norm):
                    commune = name
                    norm = re.sub(rf"(^| )(a |au |aux |sur |de |en )?{re.escape(key)}( |$)", " ", norm)
                    break
        terms = [w for w in words(norm) if w not in _STOP]
        return Question(text=text or "", theme=theme or None, commune=commune or None, public=public or None, terms=terms)

    def communes(self, territory: str, *, as_of: str | None = None) -> list[str]:
        """Communes named by the territory's services and structures at ``as_of``, by name."""
        names = {c for s in self.all_at(territory, as_of=as_of) for c in s.communes}
        for s in _structures_at(self.trame, territory, as_of):
            names.update(s.communes)
        return sorted(names, key=normalize)

    def who_can_help(self, territory: str, question: Question, *, as_of: str | None = None, known_at: str | None = None) -> list[Answer]:
        """Services running at ``as_of`` that meet the need, in the commune, for the public, with their
        structure then and its contacts then (the one to call first). Accents and case are ignored."""
        at = as_of or clock.now()
        services = self.all_at(territory, as_of=at, known_at=known_at)
        svc = directory(self.trame)
        structures = svc.structures(territory, {s.structure_id for s in services}, as_of=at, known_at=known_at)
        commune = normalize(question.commune) if question.commune else None
        answers: list[tuple[ServiceOut, StructureOut, int]] = []
        for s in services:
            st = structures.get(s.structure_id)
            if st is None:  # its structure is not in the network then
                continue
            if question.theme and not any(t == question.theme or ref.category_of(t) == question.theme for t in s.themes):
                continue
            if question.public and question.public not in s.publics and ref.TOUS_PUBLICS not in s.publics:
                continue
            zone = s.communes or st.communes
            if commune and commune not in {normalize(c) for c in zone}:
                continue
            score = _score(question.terms, s, st)
            if question.terms and score == 0:
                continue
            answers.append((s, st, score))
        contacts = svc.contacts_of_structures(territory, {st.id for _, st, _ in answers}, as_of=at, known_at=known_at)
        out = [Answer(s, st, _to_call(contacts.get(st.id, []), s), score) for s, st, score in answers]
        return sorted(out, key=lambda a: (-a.score, normalize(a.structure.name), normalize(a.service.name)))


_STOP = {"a", "au", "aux", "de", "des", "du", "d", "l", "la", "le", "les", "en", "et", "pour", "sur", "un", "une", "dans", "qui", "aide"}


def _stem(word: str) -> str:
    """Words compared on their first six letters: « alimentaire » meets « alimentation »."""
    return word[:6]


def _score(terms: list[str], s: ServiceOut, st: StructureOut) -> int:
    """How many of the need's words the service (name, description, themes, publics, type) or its
    structure (name, acronym, missions) holds; names count double."""
    if not terms:
        return 1
    name = {_stem(w) for w in words(f"{s.name} {' '.join(s.theme_labels)} {s.type_label or ''}")}
    body = {_stem(w) for w in words(f"{s.description} {' '.join(s.public_labels)} {st.name} {st.acronym or ''} {st.missions or ''}")}
    score = 0
    for term in terms:
        stem = _stem(term)
        if stem in name:
            score += 2
        elif stem in body:
            score += 1
        else:
            return 0  # every word of the need must be met
    return score


def _to_call(contacts: list[ContactOut], s: ServiceOut) -> list[ContactOut]:
    """The structure's contacts then, the one to call first: whose theme is the service's need, then by role."""
    wanted = {ref.category_of(t) for t in s.themes}
    people = [c for c in contacts if not c.person.erased]

    def rank(c: ContactOut) -> tuple[int, int]:
        matches = bool(c.theme and wanted & set(CATEGORY_OF_THEME.get(c.theme, ())))
        role = ROLE_ORDER.index(c.role) if c.role in ROLE_ORDER else len(ROLE_ORDER)
        return (0 if matches else 1, role)

    return sorted(people, key=rank)


def _structures_at(trame: Trame, territory: str, as_of: str | None) -> list[StructureOut]:
    from plugins.annuaire.exchange import current_structures

    return current_structures(trame, territory, as_of)


_services: weakref.WeakKeyDictionary[Trame, Services] = weakref.WeakKeyDictionary()


def services(trame: Trame) -> Services:
    """The directory's services of this application (one per Trame)."""
    found = _services.get(trame)
    if found is None:
        found = _services[trame] = Services(trame)
    return found
