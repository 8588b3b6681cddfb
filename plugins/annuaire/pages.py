"""The directory's pages: search, structure sheet, edit forms (with conflicts shown side by side),
contacts, people, erasure and the territory-wide audit. Server-rendered, usable without JavaScript.

Every read takes ``as_of`` (valid time) and ``known_at`` (transaction time) from the query string,
so a view of the past is a shareable URL. Writes redirect (303) to the page they change.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from markupsafe import Markup

from core import clock
from core.application import Trame
from core.clock import FOREVER
from core.plugins import PageSection
from core.store import Conflict
from core.territories import NotFound
from core.text import fold
from core.web.access import access_of, author_of
from core.web.errors import UserError
from core.web.forms import Form, many, one
from core.web.rendering import memo_fragment, render
from plugins.annuaire import kinds
from plugins.annuaire.schemas import (
    ContactEnd,
    ContactIn,
    ContactOut,
    ContactPatch,
    HistoryEntry,
    PersonIn,
    PersonOut,
    PersonPatch,
    StructureIn,
    StructureOut,
    StructurePatch,
)
from plugins.annuaire.service import CONTACT_ROLES, ERASED_NAME, DirectoryError, Position, directory, listed, when

Req = Request[Any, Any, Any]

P = "/t/{territory:str}/annuaire"
S = P + "/structures/{structure_id:str}"
# "plugin" is set again here so that these routes answer 404 where the directory is off even when
# they are mounted by another (test) plugin.
READ = {"role": "member", "plugin": "annuaire"}
EDIT = {"role": "referent", "plugin": "annuaire"}
COORD = {"role": "coordinator", "plugin": "annuaire"}
PAGE_SIZE = 50
PARIS = ZoneInfo("Europe/Paris")

# -- the identity sheet as a form ------------------------------------------------------------
TEXT_FIELDS = ("name", "acronym", "email", "phone", "website", "address", "opening_hours", "missions")
LIST_FIELDS = ("communes", "publics")
CHOICE_FIELDS = ("roles", "themes")
SHEET_FIELDS = (*TEXT_FIELDS, "kind", "public", *LIST_FIELDS, *CHOICE_FIELDS, "relays")

LABELS: dict[str, str] = {
    "name": "Nom",
    "acronym": "Sigle",
    "kind": "Type de structure",
    "public": "Statut",
    "roles": "Rôles de partenaire",
    "email": "E-mail générique",
    "phone": "Téléphone",
    "website": "Site web",
    "address": "Adresse",
    "opening_hours": "Horaires d'ouverture",
    "communes": "Communes couvertes",
    "missions": "Missions",
    "publics": "Publics accueillis",
    "themes": "Thèmes",
    "relays": "Structures relais",
    "exists": "Dans le réseau",
    "merged_into": "Fusionnée dans",
    "absorbed": "Structure absorbée",
    "person": "Personne",
    "role": "Rôle",
    "theme": "Thème",
    "title": "Fonction",
    "since": "Depuis le",
    "until": "Jusqu'au",
    "full_name": "Nom",
    "effective": "Date d'effet",
    "reason": "Motif",
    "into": "Structure d'accueil",
    "as_of": "Date de consultation",
    "known_at": "Tel qu'enregistré au",
    "person_id": "Personne",
    "person_name": "Nom et prénom",
    "person_email": "E-mail professionnel",
    "person_phone": "Téléphone professionnel",
    "person_full_name": "Nom",
    "relay_add": "Ajouter un relais",
}
MAX_LEN = {"missions": 4000}






def split_list(text: str, *, commas: bool) -> list[str]:
    parts = text.replace("\r", "").split("\n")
    if commas:
        parts = [p for line in parts for p in line.split(",")]
    out: list[str] = []
    for part in parts:
        item = part.strip()
        if item and item not in out:
            out.append(item)
    return out


def sheet_of(s: StructureOut) -> dict[str, Any]:
    """The editable fields of a sheet, normalised like a submitted form."""
    return {
        **{f: getattr(s, f) or None for f in TEXT_FIELDS},
        "kind": s.kind or None,
        "public": s.public,
        **{f: list(getattr(s, f)) for f in (*LIST_FIELDS, *CHOICE_FIELDS, "relays")},
    }


def sheet_from_form(data: dict[str, Any]) -> dict[str, Any]:
    public = one(data, "public")
    return {
        **{f: one(data, f) or None for f in TEXT_FIELDS},
        "kind": one(data, "kind") or None,
        "public": True if public == "public" else False if public == "prive" else None,
        "communes": split_list(one(data, "communes"), commas=True),
        "publics": split_list(one(data, "publics"), commas=False),
        "roles": many(data, "roles"),
        "themes": many(data, "themes"),
        "relays": many(data, "relays"),
    }


def check_sheet(values: dict[str, Any], errors: dict[str, str]) -> None:
    """What a person can fix field by field, before the service's own checks."""
    if not values.get("name"):
        errors["name"] = "Indiquez le nom de la structure."
    email = values.get("email")
    if email and ("@" not in email or " " in email):
        errors["email"] = f"« {email} » n'est pas une adresse e-mail valide (exemple : accueil@structure.fr)."
    for field in TEXT_FIELDS:
        value = values.get(field) or ""
        limit = MAX_LEN.get(field, 300)
        if len(value) > limit and field not in errors:
            errors[field] = f"{limit} caractères au plus (vous en avez saisi {len(value)})."
    for field in (*LIST_FIELDS, *CHOICE_FIELDS):
        if len(values.get(field) or []) > 200:
            errors[field] = "200 éléments au plus."
        elif any(len(v) > 300 for v in values.get(field) or []):
            errors[field] = "Chaque élément fait 300 caractères au plus."
    if values.get("kind") and kinds.kind_by_code(values["kind"]) is None:
        errors["kind"] = "Choisissez un type dans la liste."


_ERROR_FIELDS = (
    ("Date d'effet", "effective"),
    ("Date de début", "since"),
    ("Date de fin", "until"),
    ("La date de fin", "until"),
    ("Le nom de la structure", "name"),
    ("Le nom de la personne", "person_name"),
    ("Type de structure", "kind"),
    ("Rôle de partenaire", "roles"),
    ("Thème", "themes"),
    ("Structure relais", "relays"),
    ("Une structure ne peut pas être son propre relais", "relays"),
    ("Rôle de contact", "role"),
    ("La structure d'accueil", "into"),
    ("Une structure ne peut pas fusionner", "into"),
)


def field_of_error(message: str, default: str = "_form") -> str:
    """Attach a service message to the field it is about (an error summary lists the others)."""
    for prefix, field in _ERROR_FIELDS:
        if message.startswith(prefix):
            return field
    if "adresse e-mail" in message:
        return "email"
    if "cette date" in message or "à cette date" in message:
        return "effective"
    return default


def field_error(message: str, default: str = "_form") -> tuple[str, str]:
    """(field, message) for a service message: the leading "Label : " goes, since the page
    shows the field's own label beside it (in the summary and above the field)."""
    field = field_of_error(message, default)
    head, sep, rest = message.partition(" : ")
    if field != "_form" and sep and len(head) <= 40 and "«" not in head:
        return field, rest[:1].upper() + rest[1:]
    return field, message


def validation_message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """(field, French message) for a msgspec validation error of a form."""
    text = str(exc)
    field = text.rsplit("$.", 1)[-1].split("[")[0].strip("`") if "$." in text else "_form"
    if "length <=" in text:
        return field, "Texte trop long."
    if "length >=" in text:
        return field, "Ce champ est obligatoire."
    return field, f"Valeur refusée ({text})."


# -- time --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """The two instants a page is read at, and how to show and carry them."""

    as_of: str | None  # None: now
    known_at: str | None  # None: as known now
    as_of_text: str  # as typed, carried in links
    known_at_text: str

    @property
    def as_of_day(self) -> str:
        """The value of the date field (YYYY-MM-DD)."""
        return clock.day_of(self.as_of) if self.as_of else ""

    @property
    def known_at_day(self) -> str:
        return self._known_local.date().isoformat() if self.known_at else ""

    @property
    def known_at_time(self) -> str:
        """The time typed with the "known at" day (HH:MM, Paris), or "" for a whole day."""
        return self._known_local.strftime("%H:%M") if self.known_at and _PARIS_MINUTE.fullmatch(self.known_at_text) else ""

    @property
    def _known_local(self) -> datetime:
        assert self.known_at is not None
        if _PARIS_MINUTE.fullmatch(self.known_at_text):
            return clock.to_datetime(self.known_at).astimezone(PARIS)
        return clock.to_datetime(self.known_at)

    @property
    def past(self) -> bool:
        return self.as_of is not None and self.as_of < clock.now()

    @property
    def query(self) -> str:
        params = {k: v for k, v in (("as_of", self.as_of_text), ("known_at", self.known_at_text)) if v}
        return ("?" + urlencode(params)) if params else ""

    @property
    def notice(self) -> str | None:
        return self.notice_of("Annuaire")

    def notice_of(self, subject: str, feminine: bool = False) -> str | None:
        """E.g. "Annuaire tel qu'il était au 01/06/2010" or "Fiche telle qu'elle était au ..." (with the known-at part)."""
        parts = []
        if self.as_of is not None:
            tel, il = ("telle", "elle") if feminine else ("tel", "il")
            verb = "était" if self.past else "sera"
            parts.append(f"{tel} qu'{il} {verb} au {fr_day(self.as_of)}")
        if self.known_at is not None:
            at = f" à {self.known_at_time}" if self.known_at_time else ""
            parts.append(f"d'après ce qui était enregistré le {fr_day(self.known_at_day)}{at}")
        return f"{subject} " + ", ".join(parts) if parts else None


#: "2026-12-03T10:05" or "2026-12-03 10:05": a day and a minute, Paris time (no zone given).
_PARIS_MINUTE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})")


def with_time(day: str | None, at: str | None) -> str | None:
    """The "known at" of a form: its day, and its time when one was typed (a same-day correction)."""
    day, at = (day or "").strip(), (at or "").strip()
    if day and at and "T" not in day:
        try:
            return f"{clock.parse_day(day).isoformat()}T{at}"
        except clock.BadInstant:
            return day  # moment() reports the day's own error
    return day or None


_MOMENT_LABELS = {"as_of": "Date de consultation (as_of)", "known_at": "Tel qu'enregistré au (known_at)"}


def moment(as_of: str | None, known_at: str | None, errors: dict[str, str] | None = None) -> Moment:
    """Read the query's dates; a bad one is a 400 that names the parameter or, when the page
    passes ``errors``, is noted there (for its field) and read as "now"."""
    texts = {"as_of": (as_of or "").strip(), "known_at": (known_at or "").strip()}
    read: dict[str, str | None] = {}
    for name, text in texts.items():
        try:
            local = _PARIS_MINUTE.fullmatch(text)
            if local:  # a day and a time typed in France: to the end of that minute
                try:
                    moment_local = datetime.fromisoformat(f"{local[1]}T{local[2]}").replace(tzinfo=PARIS)
                except ValueError:
                    raise DirectoryError(f"{_MOMENT_LABELS[name]} : « {text} » n'est pas une date et une heure valides.") from None
                read[name] = clock.instant(moment_local + timedelta(minutes=1, microseconds=-1))
                continue
            read[name] = when(text, _MOMENT_LABELS[name], end_of_day=True)
        except DirectoryError as exc:
            if errors is None:
                raise
            errors[name] = field_error(str(exc), name)[1]
            read[name], texts[name] = None, ""
    return Moment(as_of=read["as_of"], known_at=read["known_at"], as_of_text=texts["as_of"], known_at_text=texts["known_at"])


def fr_day(value: str | None) -> str:
    """``01/06/2010`` from an instant or a ``YYYY-MM-DD`` day."""
    if not value or value == FOREVER:
        return "—"
    day = clock.day_of(value)
    return f"{day[8:10]}/{day[5:7]}/{day[0:4]}"


def fr_time(value: str | None) -> str:
    """A recorded instant in Paris time, to the minute."""
    if not value:
        return "—"
    try:
        local = clock.to_datetime(value).astimezone(PARIS)
    except ValueError:
        return value
    return local.strftime("%d/%m/%Y à %H:%M")


# -- display of values -----------------------------------------------------------------------
class Shower:
    """Turns stored values (codes, ids, instants) into what a person reads."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}

    def __call__(self, field: str, value: Any) -> str:
        if value is None or value == [] or value == "":
            return "—"
        if isinstance(value, list):
            return ", ".join(self(field, v) for v in value)
        if field == "kind":
            kind = kinds.kind_by_code(str(value))
            return kind.label if kind else str(value)
        if field == "public":
            return "public" if value else "privé"
        if field == "exists":
            return "oui" if value else "non"
        if field == "themes" or field == "theme":
            return kinds.THEMES.get(str(value), str(value))
        if field == "roles":
            return kinds.PARTNER_ROLES.get(str(value), str(value))
        if field == "role":
            return CONTACT_ROLES.get(str(value), str(value))
        if field in ("since", "until", "effective"):
            return fr_day(str(value))
        if field in ("relays", "merged_into", "absorbed", "into"):
            return self.names.get(str(value), "structure " + str(value)[:8])
        return str(value)


def ids_in(entries: list[HistoryEntry]) -> set[str]:
    found: set[str] = set()
    for e in entries:
        for c in e.changes:
            if c.field in ("relays", "merged_into", "absorbed"):
                for v in (c.before, c.after):
                    if isinstance(v, list):
                        found.update(str(x) for x in v)
                    elif v:
                        found.add(str(v))
    return found


def names_of(trame: Trame, territory: str, ids: set[str], m: Moment | None = None) -> dict[str, str]:
    """Structure names for ids, as of the page's date when possible, else now, else their last name."""
    svc = directory(trame)
    out: dict[str, str] = {}
    if m is not None and (m.as_of or m.known_at):
        out.update({i: s.name for i, s in svc.structures(territory, ids, m.as_of, m.known_at).items()})
    missing = ids - out.keys()
    if missing:
        out.update({i: s.name for i, s in svc.structures(territory, missing).items() if i not in out})
    for sid in ids - out.keys():  # gone (left or merged): the name it had last
        try:
            name = last_name(svc.history(territory, structure_id=sid))
        except NotFound:
            continue
        if name:
            out[sid] = name
    return out


def last_name(entries: list[HistoryEntry]) -> str | None:
    name = None
    for e in entries:
        for c in e.changes:
            if c.field == "name" and c.after and e.structure_id == e.subject_id:
                name = str(c.after)
    return name


def known(entries: list[HistoryEntry], m: Moment) -> list[HistoryEntry]:
    """A timeline as it was known at ``known_at``, in the order of effective dates."""
    kept = [e for e in entries if m.known_at is None or e.recorded_at <= m.known_at]
    return sorted(kept, key=lambda e: (e.effective, e.position))


def sections(trame: Trame, territory: str, structure_id: str, m: Moment) -> list[PageSection]:
    """Sections other plugins add to the structure page; only from plugins on in the territory."""
    enabled = trame.territories.enabled_plugins(territory)
    off = [p for p in trame.pm.get_plugins() if p.plugin_info().name not in enabled]
    caller = trame.pm.subset_hook_caller("page_sections", remove_plugins=off)
    found: list[PageSection] = []
    for contributed in caller(
        trame=trame,
        page="annuaire.structure",
        territory=territory,
        subject_id=structure_id,
        as_of=m.as_of or clock.now(),
        known_at=m.known_at,
    ):
        found.extend(contributed or [])
    return sorted(found, key=lambda s: s.order)


def may_edit(request: Req, structure_id: str) -> None:
    if not access_of(request).may_edit_structure(structure_id):
        raise UserError(403, "Seuls la coordination et le ou la référent·e de cette structure peuvent modifier sa fiche.")


def done(territory: str, structure_id: str, what: str) -> Redirect:
    return Redirect(f"/t/{territory}/annuaire/structures/{structure_id}?fait={what}", status_code=303)


DONE = {
    "creee": "La structure a été ajoutée à l'annuaire.",
    "modifiee": "La fiche a été enregistrée.",
    "confirmee": "Merci : la fiche est confirmée comme toujours exacte.",
    "sortie": "Le départ du réseau a été enregistré.",
    "retour": "Le retour dans le réseau a été enregistré.",
    "fusion": "La fusion a été enregistrée.",
    "contact": "Le contact a été enregistré.",
    "fin": "La fin du contact a été enregistrée.",
    "correction": "La correction du contact a été enregistrée.",
}


def common(m: Moment | None = None) -> dict[str, Any]:
    return {
        "labels": LABELS,
        "kinds": kinds.KINDS,
        "themes": kinds.THEMES,
        "partner_roles": kinds.PARTNER_ROLES,
        "contact_roles": CONTACT_ROLES,
        "fr_day": fr_day,
        "fr_time": fr_time,
        "erased_name": ERASED_NAME,
        "person_label": person_label,
        "of_person": of_person,
        "safe_html": safe_html,
        "m": m,
    }


# == directory ==================================================================================
@get(f"{P}/", opt=READ, sync_to_thread=False)
def index(
    request: Req,
    trame: Trame,
    territory: str,
    q: str | None = None,
    kind: str | None = None,
    theme: str | None = None,
    commune: str | None = None,
    role: str | None = None,
    as_of: str | None = None,
    known_at: str | None = None,
    apres: str | None = None,
    avant: str | None = None,
    page: str | None = None,
) -> Template:
    # A date the person mistyped: the directory of today, the filters kept, the reason beside the field.
    date_errors: dict[str, str] = {}
    m = moment(as_of, known_at, date_errors)
    after, before = position_of(apres, "apres"), position_of(avant, "avant")
    try:  # only a label carried by the links: the page itself is found by apres / avant
        number = max(1, int(page or 1)) if after or before else 1
    except ValueError:
        raise UserError(400, f"Numéro de page (page) : « {page} » n'est pas un nombre.") from None
    filters = {"q": (q or "").strip(), "kind": kind or "", "theme": theme or "", "commune": (commune or "").strip(), "role": role or ""}
    found = directory(trame).browse(
        territory, filters["q"] or None, kind=filters["kind"] or None, commune=filters["commune"] or None,
        theme=filters["theme"] or None, role=filters["role"] or None, as_of=m.as_of, known_at=m.known_at,
        after=after, before=before, limit=PAGE_SIZE,
    )  # fmt: skip
    if found.previous is None:
        number = 1
    kept = [(k, v) for k, v in (*filters.items(), ("as_of", m.as_of_text), ("known_at", m.known_at_text)) if v]

    def page_url(key: str, at: Position, n: int) -> str:
        return "?" + urlencode([*kept, (key, cursor_text(at)), ("page", n)])

    pages = None if found.capped else max(1, -(-found.count // PAGE_SIZE))
    here, at = f"/t/{territory}/annuaire/", m.query

    def row_context(row: tuple[str, str]) -> Callable[[], dict[str, Any]]:
        return lambda: {"s": listed(*row), "here": here, "at": at}

    # Each row is rendered once per (stored state, links) and kept: a page joins 50 fragments.
    rows_html = Markup(  # noqa: S704 - a join of fragments rendered by the autoescaping environment
        "".join(memo_fragment(trame, "annuaire/_directory_row.html", (row, here, at), row_context(row)) for row in found.rows)
    )
    options = {name: filter_options(trame, name, filters[name]) for name in _CHOICES}
    return render(
        request, "annuaire/index.html", rows_html=rows_html, options=options, filters=filters,
        count_text=count_text(found.count, found.capped), page=number, pages=pages if pages is None or pages >= number else number,
        prev_url=page_url("avant", found.previous, number - 1) if found.previous else None,
        next_url=page_url("apres", found.next, number + 1) if found.next else None,
        first_url="?" + urlencode(kept) if after or before else None,
        filtered=any(filters.values()), may_create=access_of(request).at_least("coordinator"), date_errors=date_errors,
        departed=departed(trame, territory, filters["q"]) if filters["q"] and not m.as_of and not (after or before) else [],
        status_code=400 if date_errors else 200, **common(m),
    )  # fmt: skip


@dataclass(frozen=True)
class Departed:
    """A structure that matched a search before it left the network (or merged into another)."""

    structure_id: str
    name: str
    left_on: str  # the effective instant it left or merged
    before: str  # an instant just before, to open its sheet as it was
    merged_into: str | None
    merged_into_name: str | None


def departed(trame: Trame, territory: str, q: str) -> list[Departed]:
    """Structures out of the network today whose name, acronym or former names matched ``q``
    just before they left: read from the sheets' history (who left or merged, when), then each
    sheet as of that moment, so that « DDJS » today says where it went."""
    wanted = fold(q.strip())
    if not wanted:
        return []
    last: dict[str, tuple[str, str | None]] = {}  # structure -> (when it left, what it merged into)
    with trame.db.read() as cur:
        for r in cur.execute(
            "SELECT structure_id, effective, changes FROM annuaire_structure_history WHERE territory = ? "
            "AND event IN ('annuaire.StructureLeft', 'annuaire.StructureMerged') ORDER BY position",
            (territory,),
        ).fetchall():
            into = next((c[2] for c in json.loads(r["changes"] or "[]") if c[0] == "merged_into"), None)
            last[r["structure_id"]] = (r["effective"], into)
    svc = directory(trame)
    today = svc.structures(territory, list(last))
    out: list[Departed] = []
    for sid, (left_on, into) in last.items():
        if sid in today:
            continue  # back in the network: today's results show it
        before = clock.instant(clock.to_datetime(left_on) - timedelta(seconds=1))
        s = svc.get_structure(territory, sid, as_of=before)
        if s is None or not any(wanted in fold(text) for text in (s.name, s.acronym or "", *s.former_names)):
            continue
        successor = svc.structures(territory, [into]).get(into) if into else None
        out.append(Departed(sid, s.name, left_on, before, into, successor.name if successor else None))
    return sorted(out, key=lambda d: d.left_on, reverse=True)


_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "kind": tuple((k.code, k.label) for k in kinds.KINDS),
    "theme": tuple(kinds.THEMES.items()),
    "role": tuple(kinds.PARTNER_ROLES.items()),
}


def filter_options(trame: Trame, name: str, selected: str) -> Markup:
    """The <option>s of a filter of the directory, rendered once per selected value."""
    choices = _CHOICES[name]
    key = (name, selected if any(selected == value for value, _ in choices) else "")
    return memo_fragment(trame, "annuaire/_filter_options.html", key, lambda: {"choices": choices, "selected": key[1]})


def count_text(count: int, capped: bool) -> str:
    """The heading: « Aucune structure », « 1 structure », « 1 234 structures », « Plus de 1 000 structures »."""
    number = f"{count:,}".replace(",", "\u00a0")  # French thousands, never split across lines
    if capped:
        return f"Plus de {number} structures"
    return "Aucune structure" if count == 0 else "1 structure" if count == 1 else f"{number} structures"


def cursor_text(at: Position) -> str:
    """A page boundary in a link: URL-safe, opaque, read back by :func:`position_of`."""
    fields = [at.sort_name, at.entity_id] if at.score is None else [at.sort_name, at.entity_id, at.score]
    return base64.urlsafe_b64encode(msgspec.json.encode(fields)).rstrip(b"=").decode()


def position_of(text: str | None, name: str) -> Position | None:
    if not text:
        return None
    """The boundary given by ``apres`` / ``avant``; a mangled one is a 400 that says where to go."""
    try:
        fields = msgspec.json.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), type=list[str | float])
        sort_name, entity_id, *rest = fields
        if not isinstance(sort_name, str) or not isinstance(entity_id, str) or len(rest) > 1 or not all(isinstance(x, float) for x in rest):
            raise ValueError(text)
    except (ValueError, msgspec.DecodeError):
        raise UserError(400, f"Lien de page ({name}) illisible : repartez de la première page de l'annuaire.") from None
    return Position(sort_name=sort_name, entity_id=entity_id, score=float(rest[0]) if rest else None)


# == one structure ==============================================================================
@get(S, opt=READ, sync_to_thread=False)
def structure_page(
    request: Req, trame: Trame, territory: str, structure_id: str, as_of: str | None = None, known_at: str | None = None,
    fait: str | None = None, known_time: str | None = None,
) -> Template:  # fmt: skip
    m = moment(as_of, with_time(known_at, known_time))
    svc = directory(trame)
    svc.version(territory, structure_id)  # 404 if it never existed here
    access = access_of(request)
    s = svc.get_structure(territory, structure_id, m.as_of, m.known_at)
    if s is None:
        return _absent_page(request, trame, territory, structure_id, known(svc.history(territory, structure_id=structure_id), m), m)
    # The latest changes only, so that a sheet costs the same whatever its age; the whole
    # history is on its own paged page.
    timeline = recent_changes(trame, territory, structure_id, m, RECENT_CHANGES + 1)
    more_history = len(timeline) > RECENT_CHANGES
    timeline = timeline[:RECENT_CHANGES]
    [s] = svc.with_present_relays(territory, [s], m.as_of, m.known_at)  # relays that were partners at that date only
    at = m.as_of or clock.now()
    current = svc.contacts(territory, structure_id, m.as_of, m.known_at)
    everyone = svc.contacts(territory, structure_id, m.as_of, m.known_at, include_past=True)
    shown = {c.id for c in current}
    former = [c for c in everyone if c.id not in shown and (c.until is not None and clock.parse(c.until) <= at)]
    future = [c for c in everyone if c.id not in shown and c not in former]
    names = names_of(trame, territory, {*s.relays, *s.absorbed, *([s.merged_into] if s.merged_into else []), *ids_in(timeline)}, m)
    today = m.as_of is None and m.known_at is None
    return render(
        request, "annuaire/structure.html", s=s, current=current, former=former, future=future, timeline=timeline,
        show=Shower(names), names=names, sections=sections(trame, territory, structure_id, m),
        # Changes are made to today's sheet (with their effective date): a past view offers none,
        # and its forms would not exist for a structure that has since merged or left.
        may_edit=today and access.may_edit_structure(structure_id), is_coordinator=today and access.at_least("coordinator"),
        edits_today=not today and (access.may_edit_structure(structure_id) or access.at_least("coordinator")),
        done=DONE.get(fait or ""), more_history=more_history, **common(m),
    )  # fmt: skip


#: Changes shown on a sheet, newest first; the rest on its history page.
RECENT_CHANGES = 15
#: Changes per page of a sheet's whole history.
HISTORY_PAGE = 100


def recent_changes(trame: Trame, territory: str, structure_id: str, m: Moment, limit: int, offset: int = 0) -> list[HistoryEntry]:
    """A sheet's changes as known at the page's moment, newest recorded first, one page of them."""
    until = None if m.known_at is None else clock.instant(clock.to_datetime(m.known_at) + timedelta(microseconds=1))
    return directory(trame).audit(territory, structure_id=structure_id, until=until, limit=limit, offset=offset)


@get(f"{S}/historique", opt=READ, sync_to_thread=False)
def history_page(
    request: Req, trame: Trame, territory: str, structure_id: str, page: str | None = None, known_at: str | None = None,
    known_time: str | None = None,
) -> Template:  # fmt: skip
    """Every change of a sheet, newest first, 100 per page."""
    m = moment(None, with_time(known_at, known_time))
    svc = directory(trame)
    svc.version(territory, structure_id)  # 404 if it never existed here
    try:
        number = max(1, int(page or 1))
    except ValueError:
        raise UserError(400, f"Numéro de page (page) : « {page} » n'est pas un nombre.") from None
    entries = recent_changes(trame, territory, structure_id, m, HISTORY_PAGE + 1, (number - 1) * HISTORY_PAGE)
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    s = svc.get_structure(territory, structure_id)
    name = s.name if s else (last_name(svc.history(territory, structure_id=structure_id)) or "Structure")
    names = names_of(trame, territory, ids_in(entries))
    extra = {"known_at": m.known_at_text} if m.known_at_text else {}

    def page_url(n: int) -> str:
        return "?" + urlencode({**extra, "page": n})

    return render(
        request, "annuaire/history.html", structure_id=structure_id, name=name, entries=entries, show=Shower(names), page=number,
        prev_url=page_url(number - 1) if number > 1 else None, next_url=page_url(number + 1) if more else None, **common(m),
    )  # fmt: skip


def _absent_page(request: Req, trame: Trame, territory: str, structure_id: str, timeline: list[HistoryEntry], m: Moment) -> Template:
    """The page of a structure out of the network at the date asked: why, since when, where it went.

    A structure that merged or left answers 200, not 404 or 410: old links, bookmarks and printed
    livrets point at it, and this page is its record (where it went, its history, its sheet before
    the date through the date picker); that state can also be undone by a rejoin, so it is not
    "gone" for good. Only a date before it ever joined keeps 404: there was nothing to show then.
    """
    svc = directory(trame)
    names = names_of(trame, territory, ids_in(timeline))
    gone = svc.departure(territory, structure_id, m.as_of, m.known_at)
    into: dict[str, str | None] | None = None
    before_day = None
    if gone is not None:
        left = str(gone["left"])
        before_day = (clock.to_datetime(left).date() - timedelta(days=1)).isoformat()
        if gone["merged_into"]:
            target = str(gone["merged_into"])
            then = svc.get_structure(territory, target, left, m.known_at)
            now = svc.get_structure(territory, target)
            name_then = then.name if then else names_of(trame, territory, {target}).get(target, "une autre structure")
            into = {"id": target, "name": name_then, "now": now.name if now and now.name != name_then else None}
    return render(
        request, "annuaire/absente.html", status_code=200 if gone else 404, structure_id=structure_id,
        name=(gone or {}).get("name") or last_name(timeline), gone=gone, into=into, before_day=before_day,
        french_date=clock.french_long_date, timeline=timeline, show=Shower(names), may_rejoin=access_of(request).at_least("coordinator"),
        **common(m),
    )  # fmt: skip


# == create and edit ============================================================================
def resolve_relay(trame: Trame, territory: str, text: str, structure_id: str | None, errors: dict[str, str]) -> str | None:
    """A relay typed by name or acronym: exactly one current structure must match."""
    if not text:
        return None
    items, _ = directory(trame).list_structures(territory, text, limit=6)
    items = [s for s in items if s.id != structure_id]
    exact = [s for s in items if text.lower() in (s.name.lower(), (s.acronym or "").lower())]
    if len(exact) == 1:
        return exact[0].id
    if len(items) == 1:
        return items[0].id
    if not items:
        errors["relay_add"] = f"Aucune structure de l'annuaire ne correspond à « {text} »."
    else:
        found = " ; ".join(s.name for s in items[:5])
        errors["relay_add"] = f"Plusieurs structures correspondent à « {text} » ({found}) : précisez le nom."
    return None


def _form_page(
    request: Req, trame: Trame, territory: str, *, template: str, values: dict[str, Any], errors: dict[str, str] | None = None,
    status_code: int = 200, **context: Any,
) -> Template:  # fmt: skip
    relay_ids = set(values.get("relays") or [])
    return render(
        request, template, status_code=status_code, values=values, errors=errors or {},
        relay_names=names_of(trame, territory, relay_ids), **common(), **context,
    )  # fmt: skip


@get(f"{P}/nouvelle", opt=COORD, sync_to_thread=False)
def new_form(request: Req, trame: Trame, territory: str) -> Template:
    values: dict[str, Any] = {**{f: None for f in SHEET_FIELDS}, **{f: [] for f in (*LIST_FIELDS, *CHOICE_FIELDS, "relays")}}
    values.update(effective="", reason="", relay_add="")
    return _form_page(request, trame, territory, template="annuaire/new.html", values=values)


@post(f"{P}/nouvelle", opt=COORD, sync_to_thread=True)
def new_save(request: Req, trame: Trame, territory: str, data: Form) -> Response[Any]:
    values = sheet_from_form(data)
    values.update(effective=one(data, "effective"), reason=one(data, "reason"), relay_add=one(data, "relay_add"))
    errors: dict[str, str] = {}
    check_sheet(values, errors)
    relay = resolve_relay(trame, territory, values["relay_add"], None, errors)
    if relay and relay not in values["relays"]:
        values["relays"].append(relay)
        values["relay_add"] = ""
    _check_date(values["effective"], "effective", errors)
    if not errors:
        try:
            payload = {k: values[k] for k in SHEET_FIELDS} | {"effective": values["effective"] or None, "reason": values["reason"] or None}
            data_in = msgspec.convert(payload, StructureIn)
            sid, _ = directory(trame).create_structure(territory, data_in, author_of(request))
            return done(territory, sid, "creee")
        except msgspec.ValidationError as exc:
            field, message = validation_message(exc)
            errors[field] = message
        except DirectoryError as exc:
            field, message = field_error(str(exc))
            errors[field] = message
    return _form_page(request, trame, territory, template="annuaire/new.html", values=values, errors=errors, status_code=400)


def _check_date(text: str, field: str, errors: dict[str, str], *, required: bool = False) -> str | None:
    if not text:
        if required:
            errors[field] = "Indiquez une date."
        return None
    try:
        return when(text, LABELS.get(field, field))
    except DirectoryError as exc:
        errors[field] = field_error(str(exc), field)[1]
        return None


def _current(trame: Trame, territory: str, structure_id: str) -> StructureOut:
    s = directory(trame).get_structure(territory, structure_id)
    if s is None:
        directory(trame).version(territory, structure_id)  # 404 if unknown
        raise UserError(404, "Cette structure ne fait plus partie du réseau : sa fiche ne peut plus être modifiée.")
    return s


@get(f"{S}/modifier", opt=EDIT, sync_to_thread=False)
def edit_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    values = sheet_of(s) | {"effective": "", "reason": "", "relay_add": ""}
    return _form_page(
        request, trame, territory, template="annuaire/edit.html", values=values, s=s, version=s.version,
        base=json.dumps(sheet_of(s), ensure_ascii=False), conflict=None,
    )  # fmt: skip


@post(f"{S}/modifier", opt=EDIT, sync_to_thread=True)
def edit_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    svc = directory(trame)
    s = _current(trame, territory, structure_id)
    values = sheet_from_form(data)
    values.update(effective=one(data, "effective"), reason=one(data, "reason"), relay_add=one(data, "relay_add"))
    try:
        version = int(one(data, "version"))
    except ValueError:
        raise UserError(400, "Le formulaire est incomplet (version de la fiche manquante) : rechargez la page.") from None
    try:
        base = json.loads(one(data, "base") or "null")
    except ValueError:
        base = None
    errors: dict[str, str] = {}
    check_sheet(values, errors)
    relay = resolve_relay(trame, territory, values["relay_add"], structure_id, errors)
    if relay and relay not in values["relays"]:
        values["relays"].append(relay)
        values["relay_add"] = ""
    _check_date(values["effective"], "effective", errors)

    def again(status: int) -> Template:
        return _form_page(
            request, trame, territory, template="annuaire/edit.html", values=values, errors=errors, status_code=status, s=s,
            version=version, base=json.dumps(base, ensure_ascii=False) if base is not None else "", conflict=None,
        )  # fmt: skip

    if errors:
        return again(400)
    if s.version != version:
        return _conflict(request, trame, territory, s, values, base)
    theirs = sheet_of(s)
    changes = {k: values[k] for k in SHEET_FIELDS if values[k] != theirs[k]}
    if not changes:
        errors["_form"] = "Vous n'avez modifié aucun champ : rien n'a été enregistré."
        return again(400)
    try:
        payload = changes | {"effective": values["effective"] or None, "reason": values["reason"] or None}
        svc.update_structure(territory, structure_id, msgspec.convert(payload, StructurePatch), version, author_of(request))
    except Conflict:
        return _conflict(request, trame, territory, _current(trame, territory, structure_id), values, base)
    except msgspec.ValidationError as exc:
        field, message = validation_message(exc)
        errors[field] = message
        return again(400)
    except DirectoryError as exc:
        field, message = field_error(str(exc))
        errors[field] = message
        return again(400)
    return done(territory, structure_id, "modifiee")


def _conflict(request: Req, trame: Trame, territory: str, s: StructureOut, yours: dict[str, Any], base: dict[str, Any] | None) -> Template:
    """Someone saved meanwhile: show their version and yours, and offer yours on top of theirs."""
    theirs = sheet_of(s)
    merged = dict(theirs)
    rows = []
    for field in SHEET_FIELDS:
        mine = yours[field]
        you_changed = base is None or mine != base.get(field)
        they_changed = base is not None and theirs[field] != base.get(field)
        if you_changed:
            merged[field] = mine
        if mine == theirs[field] and not they_changed:
            continue
        if you_changed and they_changed and mine != theirs[field]:
            status = "modifié des deux côtés : votre saisie est reprise ci-dessous, vérifiez-la"
        elif they_changed:
            status = "modifié entre-temps : leur valeur est gardée"
        elif you_changed:
            status = "modifié par vous : votre saisie est reprise"
        else:
            status = "différent"
        rows.append({"field": field, "theirs": theirs[field], "yours": mine, "status": status})
    timeline = directory(trame).history(territory, structure_id=s.id)
    last = timeline[-1] if timeline else None
    values = merged | {"effective": yours.get("effective", ""), "reason": yours.get("reason", ""), "relay_add": yours.get("relay_add", "")}
    names = names_of(trame, territory, {*theirs["relays"], *yours["relays"]})
    return _form_page(
        request, trame, territory, template="annuaire/edit.html", status_code=409, values=values, s=s, version=s.version,
        base=json.dumps(theirs, ensure_ascii=False), conflict={"rows": rows, "last": last}, show=Shower(names),
    )  # fmt: skip


# == confirm, leave, rejoin, merge ==============================================================
@post(f"{S}/confirmer", opt=EDIT, sync_to_thread=True)
def confirm(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    directory(trame).confirm_structure(territory, structure_id, author_of(request), one(data, "reason") or None)
    return done(territory, structure_id, "confirmee")


def _lifecycle_page(
    request: Req, trame: Trame, territory: str, structure_id: str, mode: str, values: dict[str, str],
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    svc = directory(trame)
    svc.version(territory, structure_id)
    name = last_name(svc.history(territory, structure_id=structure_id)) or structure_id
    targets: list[StructureOut] = []
    if mode == "fusion":
        items, _ = svc.list_structures(territory, limit=500)
        targets = [t for t in items if t.id != structure_id]
    return render(
        request, "annuaire/lifecycle.html", status_code=status_code, mode=mode, structure_id=structure_id, name=name,
        values=values, errors=errors or {}, targets=targets, **common(),
    )  # fmt: skip


@get(f"{S}/sortie", opt=COORD, sync_to_thread=False)
def leave_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    return _lifecycle_page(request, trame, territory, structure_id, "sortie", {"effective": clock.paris_today(), "reason": ""})


@get(f"{S}/retour", opt=COORD, sync_to_thread=False)
def rejoin_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    return _lifecycle_page(request, trame, territory, structure_id, "retour", {"effective": clock.paris_today(), "reason": ""})


@get(f"{S}/fusion", opt=COORD, sync_to_thread=False)
def merge_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    return _lifecycle_page(request, trame, territory, structure_id, "fusion", {"effective": clock.paris_today(), "reason": "", "into": ""})


def _lifecycle_save(request: Req, trame: Trame, territory: str, structure_id: str, mode: str, data: dict[str, Any]) -> Response[Any]:
    values = {"effective": one(data, "effective"), "reason": one(data, "reason"), "into": one(data, "into")}
    errors: dict[str, str] = {}
    _check_date(values["effective"], "effective", errors, required=True)
    if mode == "fusion" and not values["into"]:
        errors["into"] = "Choisissez la structure qui l'absorbe."
    if not errors:
        svc, author, reason = directory(trame), author_of(request), values["reason"] or None
        try:
            if mode == "sortie":
                svc.leave_structure(territory, structure_id, values["effective"], author, reason)
                target = structure_id
            elif mode == "retour":
                svc.rejoin_structure(territory, structure_id, values["effective"], author, reason)
                target = structure_id
            else:
                svc.merge_structure(territory, structure_id, values["into"], values["effective"], author, reason)
                target = values["into"]
            return done(territory, target, mode)
        except DirectoryError as exc:
            field, message = field_error(str(exc), "effective")
            errors[field] = message
    return _lifecycle_page(request, trame, territory, structure_id, mode, values, errors, 400)


@post(f"{S}/sortie", opt=COORD, sync_to_thread=True)
def leave_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    return _lifecycle_save(request, trame, territory, structure_id, "sortie", data)


@post(f"{S}/retour", opt=COORD, sync_to_thread=True)
def rejoin_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    return _lifecycle_save(request, trame, territory, structure_id, "retour", data)


@post(f"{S}/fusion", opt=COORD, sync_to_thread=True)
def merge_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    return _lifecycle_save(request, trame, territory, structure_id, "fusion", data)


# == contacts ===================================================================================
def _contact_page(
    request: Req, trame: Trame, territory: str, s: StructureOut, mode: str, values: dict[str, str],
    errors: dict[str, str] | None = None, status_code: int = 200, contact: ContactOut | None = None,
    people: list[Any] | None = None, cherche: str = "",
) -> Template:  # fmt: skip
    return render(
        request, "annuaire/contact.html", status_code=status_code, s=s, mode=mode, values=values, errors=errors or {},
        contact=contact, people=people or [], cherche=cherche, **common(),
    )  # fmt: skip


def _contact(trame: Trame, territory: str, structure_id: str, contact_id: str) -> ContactOut:
    for c in directory(trame).contacts(territory, structure_id, include_past=True):
        if c.id == contact_id:
            return c
    raise UserError(404, "Ce contact n'existe pas pour cette structure.")


@get(f"{S}/contacts/nouveau", opt=EDIT, sync_to_thread=False)
def contact_new_form(request: Req, trame: Trame, territory: str, structure_id: str, cherche: str | None = None) -> Template:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    text = (cherche or "").strip()
    people = directory(trame).search_people(territory, text) if text else []
    values = {"person_id": "nouvelle", "person_name": "", "person_email": "", "person_phone": "", "role": "referent", "theme": "",
              "title": "", "since": clock.paris_today(), "reason": ""}  # fmt: skip
    return _contact_page(request, trame, territory, s, "nouveau", values, people=people, cherche=text)


@post(f"{S}/contacts/nouveau", opt=EDIT, sync_to_thread=True)
def contact_new_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    svc = directory(trame)
    s = _current(trame, territory, structure_id)
    keys = ("person_id", "person_name", "person_email", "person_phone", "role", "theme", "title", "since", "reason", "cherche")
    values = {k: one(data, k) for k in keys}
    values["person_id"] = values["person_id"] or "nouvelle"
    errors: dict[str, str] = {}
    new_person = values["person_id"] == "nouvelle"
    if new_person:
        if not values["person_name"]:
            errors["person_name"] = "Indiquez le nom de la personne, ou choisissez une personne déjà connue."
        email = values["person_email"]
        if email and ("@" not in email or " " in email):
            errors["person_email"] = f"« {email} » n'est pas une adresse e-mail valide."
    elif svc.person(territory, values["person_id"]) is None:
        errors["person_id"] = "Cette personne n'existe pas sur ce territoire."
    if values["role"] not in CONTACT_ROLES:
        errors["role"] = "Choisissez un rôle dans la liste."
    if values["theme"] and values["theme"] not in kinds.THEMES:
        errors["theme"] = "Choisissez un thème dans la liste."
    _check_date(values["since"], "since", errors)
    if not errors:
        author = author_of(request)
        try:
            if new_person:
                person_in = msgspec.convert(
                    {"name": values["person_name"], "email": values["person_email"] or None, "phone": values["person_phone"] or None,
                     "reason": values["reason"] or None}, PersonIn)  # fmt: skip
                values["person_id"], _ = svc.create_person(territory, person_in, author)
            contact_in = msgspec.convert(
                {"person_id": values["person_id"], "role": values["role"], "theme": values["theme"] or None,
                 "title": values["title"] or None, "since": values["since"] or None, "reason": values["reason"] or None}, ContactIn,
            )  # fmt: skip
            svc.start_contact(territory, structure_id, contact_in, author)
            return done(territory, structure_id, "contact")
        except msgspec.ValidationError as exc:
            field, message = validation_message(exc)
            errors["person_" + field if field in ("name", "email", "phone") else field] = message
        except DirectoryError as exc:
            message = str(exc)
            errors["person_email" if "adresse e-mail" in message else field_error(message)[0]] = field_error(message)[1]
    people = svc.search_people(territory, values["cherche"]) if values["cherche"] else []
    return _contact_page(request, trame, territory, s, "nouveau", values, errors, 400, people=people, cherche=values["cherche"])


@get(f"{S}/contacts/{{contact_id:str}}/fin", opt=EDIT, sync_to_thread=False)
def contact_end_form(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str) -> Template:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    return _contact_page(request, trame, territory, s, "fin", {"until": clock.paris_today(), "reason": ""}, contact=c)


@post(f"{S}/contacts/{{contact_id:str}}/fin", opt=EDIT, sync_to_thread=True)
def contact_end_save(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {"until": one(data, "until"), "reason": one(data, "reason")}
    errors: dict[str, str] = {}
    _check_date(values["until"], "until", errors, required=True)
    if not errors:
        try:
            end = ContactEnd(until=values["until"], reason=values["reason"] or None)
            directory(trame).end_contact(territory, structure_id, contact_id, end, author_of(request))
            return done(territory, structure_id, "fin")
        except DirectoryError as exc:
            field, message = field_error(str(exc), "until")
            errors[field] = message
    return _contact_page(request, trame, territory, s, "fin", values, errors, 400, contact=c)


@get(f"{S}/contacts/{{contact_id:str}}/corriger", opt=EDIT, sync_to_thread=False)
def contact_fix_form(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str) -> Template:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {"role": c.role, "theme": c.theme or "", "title": c.title or "", "since": c.since, "until": c.until or "", "reason": ""}
    return _contact_page(request, trame, territory, s, "corriger", values, contact=c)


@post(f"{S}/contacts/{{contact_id:str}}/corriger", opt=EDIT, sync_to_thread=True)
def contact_fix_save(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    s = _current(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {k: one(data, k) for k in ("role", "theme", "title", "since", "until", "reason")}
    errors: dict[str, str] = {}
    if values["role"] not in CONTACT_ROLES:
        errors["role"] = "Choisissez un rôle dans la liste."
    if values["theme"] and values["theme"] not in kinds.THEMES:
        errors["theme"] = "Choisissez un thème dans la liste."
    _check_date(values["since"], "since", errors, required=True)
    _check_date(values["until"], "until", errors)
    changes: dict[str, Any] = {}
    if values["role"] != c.role:
        changes["role"] = values["role"]
    if (values["theme"] or None) != c.theme:
        changes["theme"] = values["theme"] or None
    if (values["title"].strip() or None) != c.title:
        changes["title"] = values["title"].strip() or None
    if values["since"] and clock.day_of(values["since"]) != c.since:
        changes["since"] = values["since"]
    if (values["until"] or None) != c.until and clock.day_of(values["until"] or "") != (c.until or ""):
        if not values["until"] and c.until:
            errors["until"] = "Une date de fin ne peut pas être retirée : corrigez-la, ou enregistrez un nouveau contact."
        else:
            changes["until"] = values["until"] or None
    if not errors and not changes:
        errors["_form"] = "Vous n'avez rien corrigé : rien n'a été enregistré."
    if not errors:
        try:
            patch = msgspec.convert(changes | {"reason": values["reason"] or None}, ContactPatch)
            directory(trame).correct_contact(territory, structure_id, contact_id, patch, author_of(request))
            return done(territory, structure_id, "correction")
        except msgspec.ValidationError as exc:
            field, message = validation_message(exc)
            errors[field] = message
        except DirectoryError as exc:
            field, message = field_error(str(exc))
            errors[field] = message
    return _contact_page(request, trame, territory, s, "corriger", values, errors, 400, contact=c)


# == people =====================================================================================
@get(f"{P}/personnes/{{person_id:str}}", opt=READ, sync_to_thread=False)
def person_page(
    request: Req, trame: Trame, territory: str, person_id: str, as_of: str | None = None, known_at: str | None = None,
    fait: str | None = None,
) -> Template:  # fmt: skip
    m = moment(as_of, known_at)
    svc = directory(trame)
    person = svc.person(territory, person_id, as_of=m.as_of, known_at=m.known_at)  # her details then
    if person is None:
        raise UserError(404, "Cette personne n'existe pas sur ce territoire.")
    roles = svc.contacts_of_person(territory, person_id, known_at=m.known_at)
    timeline = known(svc.history(territory, person_id=person_id), m)
    names = names_of(trame, territory, {c.structure_id for c in roles} | ids_in(timeline), m)
    access = access_of(request)
    return render(
        request, "annuaire/person.html", person=person, roles=roles, timeline=timeline, names=names, show=Shower(names),
        may_erase=access.at_least("coordinator") and not person.erased,
        may_edit=not person.erased and may_edit_person(request, trame, territory, person_id), done=PERSON_DONE.get(fait or ""),
        **common(m),
    )  # fmt: skip


PERSON_DONE = {"modifiee": "Les coordonnées de la personne ont été enregistrées."}
PERSON_FIELDS = ("person_name", "person_email", "person_phone")


def may_edit_person(request: Req, trame: Trame, territory: str, person_id: str) -> bool:
    """Coordinators edit anyone's details; a referent only those of people whose roles (not
    ended) are all at the referent's own structure (see ``Directory.answers_only_to``)."""
    access = access_of(request)
    if access.at_least("coordinator"):
        return True
    return (
        access.role == "referent"
        and access.structure_id is not None
        and directory(trame).answers_only_to(territory, person_id, access.structure_id)
    )


def _editable_person(request: Req, trame: Trame, territory: str, person_id: str) -> PersonOut:
    """The person whose details the form changes: 404 if unknown, 403 without the right, 410 if erased."""
    person = directory(trame).person(territory, person_id)
    if person is None:
        raise UserError(404, "Cette personne n'existe pas sur ce territoire.")
    if not may_edit_person(request, trame, territory, person_id):
        raise UserError(
            403,
            "Seuls la coordination et le ou la référent·e d'une structure où cette personne est contact peuvent modifier ses coordonnées.",
        )
    if person.erased:
        raise UserError(410, "Les données de cette personne ont été effacées : elles ne peuvent plus être modifiées.")
    return person


def _person_values(person: PersonOut) -> dict[str, str]:
    return {"person_name": person.name or "", "person_email": person.email or "", "person_phone": person.phone or ""}


def _person_form(
    request: Req, person: PersonOut, values: dict[str, str], version: int, base: dict[str, str] | None,
    errors: dict[str, str] | None = None, status_code: int = 200, conflict: list[dict[str, str]] | None = None,
) -> Template:  # fmt: skip
    """``base``: the details as they were when the form was loaded, to merge a conflict field by field."""
    return render(
        request, "annuaire/person_edit.html", status_code=status_code, person=person, values=values, version=version,
        base=json.dumps(base, ensure_ascii=False) if base is not None else "", errors=errors or {}, conflict=conflict, **common(),
    )  # fmt: skip


@get(f"{P}/personnes/{{person_id:str}}/modifier", opt=EDIT, sync_to_thread=False)
def person_edit_form(request: Req, trame: Trame, territory: str, person_id: str) -> Template:
    person = _editable_person(request, trame, territory, person_id)
    return _person_form(request, person, _person_values(person) | {"reason": "", "effective": ""}, person.version, _person_values(person))


@post(f"{P}/personnes/{{person_id:str}}/modifier", opt=EDIT, sync_to_thread=True)
def person_edit_save(request: Req, trame: Trame, territory: str, person_id: str, data: Form) -> Response[Any]:
    """Name, professional e-mail and phone (PersonChanged); a refused value comes back with its message."""
    person = _editable_person(request, trame, territory, person_id)
    values = {k: one(data, k) for k in (*PERSON_FIELDS, "reason", "effective")}
    try:
        version = int(one(data, "version"))
    except ValueError:
        raise UserError(400, "Le formulaire est incomplet (version manquante) : rechargez la page.") from None
    try:
        loaded = json.loads(one(data, "base") or "null")
    except ValueError:
        loaded = None
    base = {k: str(loaded.get(k) or "") for k in PERSON_FIELDS} if isinstance(loaded, dict) else None
    errors: dict[str, str] = {}
    if not values["person_name"]:
        errors["person_name"] = "Indiquez le nom et le prénom de la personne."
    email = values["person_email"]
    if email and ("@" not in email or " " in email):
        errors["person_email"] = f"« {email} » n'est pas une adresse e-mail valide (exemple : prenom.nom@structure.fr)."
    for field in (*PERSON_FIELDS, "reason"):
        if len(values[field]) > 300 and field not in errors:
            errors[field] = f"300 caractères au plus (vous en avez saisi {len(values[field])})."
    if errors:
        return _person_form(request, person, values, version, base, errors, 400)
    saved = _person_values(person)
    if person.version != version:
        return _person_conflict(request, person, values, base)
    changes = {k.removeprefix("person_"): values[k] or None for k in PERSON_FIELDS if values[k] != saved[k]}
    if not changes:
        errors["_form"] = "Vous n'avez modifié aucun champ : rien n'a été enregistré."
        return _person_form(request, person, values, version, base, errors, 400)
    try:
        dated = {"effective": values["effective"]} if values["effective"] else {}
        patch = msgspec.convert(changes | dated | {"reason": values["reason"] or None}, PersonPatch)
        directory(trame).update_person(territory, person_id, patch, author_of(request), version)
    except Conflict:
        return _person_conflict(request, _editable_person(request, trame, territory, person_id), values, base)
    except msgspec.ValidationError as exc:
        field, message = validation_message(exc)
        errors["person_" + field if field in ("name", "email", "phone") else field] = message
        return _person_form(request, person, values, version, base, errors, 400)
    except DirectoryError as exc:
        message = str(exc)
        errors["person_email" if "adresse e-mail" in message else field_error(message)[0]] = field_error(message)[1]
        return _person_form(request, person, values, version, base, errors, 400)
    return Redirect(f"/t/{territory}/annuaire/personnes/{person_id}?fait=modifiee", status_code=303)


def _person_conflict(request: Req, person: PersonOut, yours: dict[str, str], base: dict[str, str] | None) -> Template:
    """Someone saved this person meanwhile: show both versions; the form takes theirs plus the fields
    this person changed since loading it (all of their input when the loaded values are unknown)."""
    theirs = _person_values(person)
    merged = dict(theirs)
    rows = []
    for field in PERSON_FIELDS:
        you_changed = base is None or yours[field] != base[field]
        they_changed = base is not None and theirs[field] != base[field]
        if you_changed:
            merged[field] = yours[field]
        if yours[field] == theirs[field]:
            continue
        if you_changed and they_changed:
            status = "modifié des deux côtés : votre saisie est reprise ci-dessous, vérifiez-la"
        elif you_changed:
            status = "modifié par vous : votre saisie est reprise"
        else:
            status = "modifié entre-temps : leur valeur est gardée"
        rows.append({"field": field, "theirs": theirs[field], "yours": yours[field], "status": status})
    values = merged | {"reason": yours.get("reason", "")}
    return _person_form(request, person, values, person.version, theirs, status_code=409, conflict=rows)


@get(f"{P}/personnes/{{person_id:str}}/effacer", opt=COORD, sync_to_thread=False)
def erase_form(request: Req, trame: Trame, territory: str, person_id: str) -> Template:
    person = directory(trame).person(territory, person_id)
    if person is None:
        raise UserError(404, "Cette personne n'existe pas sur ce territoire.")
    return render(request, "annuaire/erase.html", person=person, errors={}, reason="", **common())


@post(f"{P}/personnes/{{person_id:str}}/effacer", opt=COORD, sync_to_thread=True)
def erase_save(request: Req, trame: Trame, territory: str, person_id: str, data: Form) -> Response[Any]:
    svc = directory(trame)
    person = svc.person(territory, person_id)
    if person is None:
        raise UserError(404, "Cette personne n'existe pas sur ce territoire.")
    if one(data, "confirmation") != "oui":
        errors = {"confirmation": "Cochez la case pour confirmer que vous comprenez que l'effacement est définitif."}
        return render(request, "annuaire/erase.html", status_code=400, person=person, errors=errors, reason=one(data, "reason"), **common())
    svc.erase_person(territory, person_id, author_of(request), one(data, "reason") or None)
    return Redirect(f"/t/{territory}/annuaire/personnes/{person_id}", status_code=303)


# == audit ======================================================================================
@get(f"{P}/journal", opt=COORD, sync_to_thread=False)
def audit_page(
    request: Req, trame: Trame, territory: str, auteur: str | None = None, structure: str | None = None, depuis: str | None = None,
    jusqu_au: str | None = None, page: str | None = None,
) -> Template:  # fmt: skip
    filters = {"auteur": (auteur or "").strip(), "structure": (structure or "").strip(), "depuis": (depuis or "").strip(),
               "jusqu_au": (jusqu_au or "").strip()}  # fmt: skip
    since = when(filters["depuis"], "Depuis le (depuis)")
    until = when(filters["jusqu_au"], "Jusqu'au (jusqu_au)", end_of_day=True)
    try:
        number = max(1, int(page or 1))
    except ValueError:
        raise UserError(400, f"Numéro de page (page) : « {page} » n'est pas un nombre.") from None
    size = 100
    entries = directory(trame).audit(
        territory, actor=filters["auteur"] or None, structure_id=filters["structure"] or None, since=since, until=until,
        limit=size + 1, offset=(number - 1) * size,
    )  # fmt: skip
    more = len(entries) > size
    entries = entries[:size]
    items, _ = directory(trame).list_structures(territory, limit=500)
    ids = {e.structure_id for e in entries if e.structure_id} | ids_in(entries)
    names = names_of(trame, territory, ids) | {s.id: s.name for s in items}
    people = {pid: directory(trame).person(territory, pid) for pid in {e.person_id for e in entries if e.person_id}}
    base = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return "?" + urlencode({**base, "page": n})

    return render(
        request, "annuaire/journal.html", entries=entries, filters=filters, structures=items, names=names, people=people,
        show=Shower(names), page=number, prev_url=page_url(number - 1) if number > 1 else None,
        next_url=page_url(number + 1) if more else None, **common(),
    )  # fmt: skip


def person_label(person: Any) -> str:
    if person is None or person.erased or not person.name:
        return ERASED_NAME
    return str(person.name)


def of_person(person: Any) -> str:
    """« de Marie Dupont », « d'Éric Lacoste »: French elides "de" before a vowel."""
    label = person_label(person)
    return f"d'{label}" if label[:1].lower() in "aeiouyàâéèêëîïôöûüœ" else f"de {label}"


def safe_html(section: PageSection) -> Markup:
    """Sections come from other plugins, which escape their own HTML (hook contract)."""
    return Markup(section.html)  # noqa: S704 - escaped by the contributing plugin


ROUTES = [
    index,
    structure_page,
    history_page,
    new_form,
    new_save,
    edit_form,
    edit_save,
    confirm,
    leave_form,
    leave_save,
    rejoin_form,
    rejoin_save,
    merge_form,
    merge_save,
    contact_new_form,
    contact_new_save,
    contact_end_form,
    contact_end_save,
    contact_fix_form,
    contact_fix_save,
    person_page,
    person_edit_form,
    person_edit_save,
    erase_form,
    erase_save,
    audit_page,
]
