"""Getting a directory in and out: spreadsheet CSV, vCard (data·inclusion is ``datainclusion.py``).

Imports validate every line first and write nothing while an error remains; a dry
run stops after validation. Spreadsheets come as people have them (Excel's French CSV:
Windows-1252, ``;``, title rows above the header): the header is the line whose cells are
known titles, each column's field is suggested from its title and may be changed (the
choice is remembered per territory, ``import_columns.py``), postcode, town and contact
columns are read, phones are checked as French numbers, and a line that is probably a
structure already in the directory waits for the coordinator's "merge into / create
anyway" (``import_checks.py``). Line numbers are those a spreadsheet shows. Exports read
the directory ``as_of`` a date (and ``known_at`` a time), through the directory service only.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as default
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import msgspec
import vobject

from core import clock, spreadsheet
from core.commands import run
from core.events import Event
from core.refusals import Refused
from core.store import Context
from core.text import fold, words
from plugins.annuaire import import_columns, kinds
from plugins.annuaire.events import ContactStarted, PersonRegistered, Sheet, SheetChanges, StructureChanged, StructureJoined
from plugins.annuaire.import_checks import Existing, Likely, french_phone
from plugins.annuaire.schemas import StructureIn, StructureOut
from plugins.annuaire.service import CONTACT_ROLES, directory

if TYPE_CHECKING:
    from core.application import Trame

# == shapes ==================================================================================


class Problem(msgspec.Struct, kw_only=True):
    """One error or warning of an import, located as a person finds it."""

    line: int  # spreadsheet line (header = 1) or position of the item in a JSON list (from 1)
    column: str | None
    message: str


class ImportedLine(msgspec.Struct, kw_only=True):
    line: int
    name: str
    id: str | None = None
    reason: str | None = None


class Column(msgspec.Struct, kw_only=True):
    """One column of a spreadsheet and the field it fills (None: ignored), with where that came from."""

    index: int
    title: str
    field: str | None
    source: str  # "titre" (suggested from the header), "mémorisé" (this territory's last choice), "choisi"


class Match(msgspec.Struct, kw_only=True):
    id: str
    name: str
    why: str  # « même téléphone, nom proche »


class Duplicate(msgspec.Struct, kw_only=True):
    """A line that is probably a structure already in the directory: merge into one, or create anyway."""

    line: int
    name: str
    matches: list[Match]
    choice: str | None = None  # CREATE, or the id of the structure to merge into


#: The choice of a likely duplicate that creates the structure anyway.
CREATE = "creer"


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import found and did: nothing is written while ``errors`` is not empty."""

    format: str  # "csv" or "datainclusion"
    dry_run: bool
    lines: int  # data lines read
    valid: int
    imported: bool
    created: list[ImportedLine] = msgspec.field(default_factory=list)
    skipped: list[ImportedLine] = msgspec.field(default_factory=list)
    errors: list[Problem] = msgspec.field(default_factory=list)
    warnings: list[Problem] = msgspec.field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None
    header_line: int = 1  # the spreadsheet line of the titles (title rows above it are skipped)
    columns: list[Column] = msgspec.field(default_factory=list)  # the mapping used, to check or change
    duplicates: list[Duplicate] = msgspec.field(default_factory=list)  # likely ones: the coordinator chooses
    merged: list[ImportedLine] = msgspec.field(default_factory=list)  # lines merged into an existing sheet
    contacts: int = 0  # contacts created (from « Nom du contact » / « Fonction »)

    @property
    def undecided(self) -> list[Duplicate]:
        return [d for d in self.duplicates if d.choice is None]


class UnreadableFile(Refused):
    """A file that cannot be read at all (HTTP 400)."""


# == vocabulary ==============================================================================

#: (field, CSV header) in export order; the import also reads the aliases below.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Nom"),
    ("acronym", "Sigle"),
    ("kind", "Type"),
    ("public", "Statut"),
    ("roles", "Rôles"),
    ("email", "E-mail"),
    ("phone", "Téléphone"),
    ("website", "Site web"),
    ("address", "Adresse"),
    ("opening_hours", "Horaires"),
    ("communes", "Communes"),
    ("missions", "Missions"),
    ("publics", "Publics"),
    ("themes", "Thèmes"),
)
#: Columns a spreadsheet has that the sheet holds elsewhere: postcode and town complete the
#: address (the town is also the commune served), the contact and job title make a contact.
EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("postcode", "Code postal"),
    ("town", "Ville"),
    ("contact_name", "Nom du contact"),
    ("contact_title", "Fonction du contact"),
    ("contact_email", "E-mail du contact"),
    ("contact_phone", "Téléphone du contact"),
)
LABELS = dict(COLUMNS) | dict(EXTRA_COLUMNS)
#: What a column may be mapped to in the dry run, in that order.
FIELD_CHOICES: tuple[tuple[str, str], ...] = COLUMNS + EXTRA_COLUMNS
LIST_FIELDS = ("roles", "communes", "publics", "themes")
ID_HEADER = "Identifiant"
MAX_SHORT, MAX_TEXT, MAX_ITEMS = 300, 4000, 200
#: The stated limits of one import, checked before anything is read: past them, split the file.
MAX_IMPORT_LINES = 100_000
MAX_IMPORT_BYTES = 32 * 1024 * 1024
#: Progress of an import: (what is being done, in French; done; total).
Progress = Callable[[str, int, int], None]


def check_limits(raw: bytes) -> None:
    """Refuse, up front and in French, a file past the stated limits (nothing is read nor written)."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise UnreadableFile(
            f"Fichier trop volumineux ({len(raw) / 1024 / 1024:.1f} Mo) : un import lit au plus "
            f"{MAX_IMPORT_BYTES // (1024 * 1024)} Mo. Découpez-le en plusieurs fichiers."
        )
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1) - 1  # without the header line
    if lines > MAX_IMPORT_LINES:
        raise UnreadableFile(
            f"Trop de lignes ({lines:,} structures) : un import en compte au plus {MAX_IMPORT_LINES:,}. "
            "Découpez le fichier en plusieurs parties.".replace(",", "\u202f")
        )


def normalize(text: str) -> str:
    """Lower case, accents and punctuation dropped: "E-mail générique" -> "e mail generique"."""
    return " ".join(words(text))


_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("nom", "nom de la structure", "structure", "raison sociale", "organisme", "nom structure"),
    "acronym": ("sigle", "acronyme", "abreviation"),
    "kind": ("type", "type de structure", "typologie", "categorie", "nature"),
    "public": ("statut", "public prive", "public ou prive", "secteur"),
    "roles": ("roles", "role", "role partenaire", "roles partenaire", "type de partenaire"),
    "email": ("e mail", "email", "mail", "courriel", "adresse e mail", "adresse mail", "e mail generique", "email generique", "mel"),
    "phone": ("telephone", "tel", "standard", "numero de telephone"),
    "website": ("site web", "site", "site internet", "web", "url"),
    "address": ("adresse", "adresse postale", "lieu"),
    "opening_hours": ("horaires", "horaires d ouverture", "heures d ouverture", "permanences"),
    "communes": ("communes", "commune", "communes couvertes", "zone d intervention", "territoire", "secteur d intervention"),
    "missions": ("missions", "mission", "presentation", "description", "activites"),
    "publics": ("publics", "public", "public accueilli", "publics accueillis", "public vise"),
    "themes": ("themes", "theme", "thematiques", "thematique"),
    "postcode": ("cp", "code postal", "c p", "code post"),
    "town": ("ville", "localite", "commune de la structure"),
    "contact_name": ("nom du contact", "contact", "interlocuteur", "personne a contacter", "nom contact", "referent", "nom du referent"),
    "contact_title": ("fonction", "fonction du contact", "poste", "qualite"),
    "contact_email": ("e mail du contact", "mail du contact", "courriel du contact", "email contact"),
    "contact_phone": ("telephone du contact", "tel du contact", "portable", "tel contact"),
}
_HEADERS = {alias: field for field, aliases in _HEADER_ALIASES.items() for alias in aliases}
_IGNORED_HEADERS = {"identifiant", "id"}


def _kind_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for kind in kinds.KINDS:  # codes and labels first: they are unambiguous
        table.setdefault(normalize(kind.code), kind.code)
        table.setdefault(normalize(kind.label), kind.code)
        table.setdefault(normalize(kind.label.split(" (")[0]), kind.code)
    for kind in kinds.KINDS:
        table.setdefault(normalize(kind.acronym), kind.code)
    for alias, code in {"pole emploi": "france-travail", "anpe": "france-travail", "assedic": "france-travail"}.items():
        table.setdefault(alias, code)
    return table


_KINDS = _kind_lookup()


def kind_of(text: str) -> str | None:
    """A kind code for what a spreadsheet says ("CCAS", "Mission locale", "ML", "ccas")."""
    found = _KINDS.get(normalize(text))
    if found is None:
        by_typologie = kinds.kind_by_typologie(text)
        found = by_typologie.code if by_typologie else None
    return found


def _label_aliases(vocabulary: dict[str, str]) -> dict[str, str]:
    """Codes, labels and each part of a label ("Logement, hébergement" -> "logement", "hebergement")."""
    table: dict[str, str] = {}
    for code, label in vocabulary.items():
        table.setdefault(normalize(code), code)
        table.setdefault(normalize(label), code)
    for code, label in vocabulary.items():
        for part in re.split(r",|/", label):
            if normalize(part):
                table.setdefault(normalize(part), code)
        table.setdefault(normalize(label).split(" ")[0], code)
    return table


_THEMES = _label_aliases(kinds.THEMES)
_ROLES = _label_aliases(kinds.PARTNER_ROLES)
_PUBLIC = {"public": True, "publique": True, "oui": True, "prive": False, "privee": False, "non": False}


def split_items(text: str, *, commas: bool = True) -> list[str]:
    """Items of a list cell, separated by "|", ";", line breaks (and commas)."""
    parts = re.split(r"[|;\n]" if not commas else r"[|;\n,]", text)
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def _codes(text: str, table: dict[str, str]) -> tuple[list[str], list[str]]:
    """(codes found, unknown items) for a cell of themes or roles."""
    codes: list[str] = []
    unknown: list[str] = []
    for item in split_items(text, commas=False):
        whole = table.get(normalize(item))
        for piece, code in [(item, whole)] if whole else [(p, table.get(normalize(p))) for p in split_items(item)]:
            if code is None:
                unknown.append(piece)
            elif code not in codes:
                codes.append(code)
    return codes, unknown


# == reading files ===========================================================================


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else Windows-1252 (Excel's French default)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


#: Title rows a spreadsheet may have above its header ("Annuaire des partenaires – 2012").
HEADER_SEARCH = 10


def _recognised(cells: list[str], remembered: dict[str, str]) -> int:
    return sum(1 for c in cells if normalize(c) in _HEADERS or remembered.get(normalize(c)))


def find_header(text: str, remembered: dict[str, str] | None = None) -> tuple[str, int]:
    """(delimiter, index of the header line among the first lines): the line and delimiter whose
    cells are most often known titles, so that a title row above the header, or cells full of
    commas below it, fool neither. With no known title, the first line and the sniffer decide."""
    known = remembered or {}
    lines = text.splitlines()[:HEADER_SEARCH]
    best = (0, 0, ";")
    for index, line in enumerate(lines):
        for delimiter in ";,\t":
            score = _recognised(next(csv.reader([line], delimiter=delimiter), []), known)
            if score > best[0]:
                best = (score, index, delimiter)
    if best[0]:
        return best[2], best[1]
    return sniff_delimiter(text), 0


def sniff_delimiter(text: str) -> str:
    """The first line decides when one delimiter clearly wins there; else Python's sniffer."""
    first = text.splitlines()[0] if text else ""
    counts = sorted(((first.count(d), d) for d in ";,\t"), reverse=True)
    if counts[0][0] and counts[0][0] > counts[1][0]:
        return counts[0][1]
    head = "\n".join(text.splitlines()[:5])
    try:
        return csv.Sniffer().sniff(head, delimiters=";,\t").delimiter
    except csv.Error:
        return ";"


class Table(msgspec.Struct, kw_only=True):
    """A spreadsheet read: its rows as (line, field -> cell), and how it was read."""

    rows: list[tuple[int, dict[str, str]]]
    errors: list[Problem]
    warnings: list[Problem]
    delimiter: str
    encoding: str
    header_line: int
    columns: list[Column]

    @property
    def column_of(self) -> dict[str, str]:
        """field -> the title of its column (for locating a problem)."""
        return {c.field: c.title for c in self.columns if c.field}


def map_columns(header: list[str], chosen: dict[int, str] | None, remembered: dict[str, str]) -> list[Column]:
    """Each column's field: the coordinator's choice (``""`` ignores it), else this territory's
    last choice for that title, else the one its title suggests."""
    out: list[Column] = []
    for index, title in enumerate(header):
        key = normalize(title)
        if chosen is not None and index in chosen:
            field, source = chosen[index] or None, "choisi"
        elif key in remembered:
            field, source = remembered[key] or None, "mémorisé"
        else:
            field, source = _HEADERS.get(key), "titre"
        out.append(Column(index=index, title=title, field=field if field in LABELS else None, source=source))
    return out


def _header_problems(columns: list[Column]) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a mapping: two columns for one field, no name, titles not understood."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    seen: dict[str, str] = {}
    for column in columns:
        key = normalize(column.title)
        if column.field is None:
            if key and key not in _IGNORED_HEADERS and column.source == "titre":
                warnings.append(
                    Problem(line=1, column=column.title, message=f"Colonne « {column.title} » non reconnue : elle est ignorée.")
                )
        elif column.field in seen:
            message = f"Colonne en double : « {column.title} » et « {seen[column.field]} » désignent la même information."
            errors.append(Problem(line=1, column=column.title, message=message))
            column.field = None
        else:
            seen[column.field] = column.title
    contact = [seen[f] for f in ("contact_title", "contact_email", "contact_phone") if f in seen]
    if contact and "contact_name" not in seen:
        message = f"Sans colonne « Nom du contact », les contacts (« {contact[0]} ») ne sont pas importés : choisissez-la ci-dessous."
        warnings.append(Problem(line=1, column=contact[0], message=message))
    if "name" not in seen:
        message = "Colonne « Nom » introuvable : la première ligne doit donner les titres des colonnes (Nom;Sigle;Type;E-mail;…)."
        errors.append(Problem(line=1, column=None, message=message))
    return errors, warnings


def read_csv(raw: bytes, chosen: dict[int, str] | None = None, remembered: dict[str, str] | None = None) -> Table:
    """The spreadsheet's rows, its header found below any title rows, its columns mapped
    (``chosen``: column index -> field, from the dry run's mapping step)."""
    text, encoding = decode(raw)
    if not text.strip():
        raise UnreadableFile("Le fichier est vide.")
    delimiter, skip = find_header(text, remembered)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[skip:]
    header = records[0]
    columns = map_columns(header, chosen, remembered or {})
    errors, warnings = _header_problems(columns)
    header_line = skip + 1
    for p in errors + warnings:
        p.line = header_line
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=header_line + 1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
            message = "Cette ligne a plus de cellules que de titres de colonnes : les cellules en trop sont ignorées."
            warnings.append(Problem(line=number, column=None, message=message))
        cells = {c.field: _clean(record[c.index]) for c in columns if c.field is not None and c.index < len(record)}
        rows.append((number, cells))
    return Table(
        rows=rows, errors=errors, warnings=warnings, delimiter=delimiter, encoding=encoding, header_line=header_line, columns=columns
    )


def _clean(cell: str) -> str:
    """A cell's text as typed (an exported formula-like cell loses its guarding apostrophe), with the
    line breaks a spreadsheet puts in quoted cells made plain."""
    return spreadsheet.restore(cell).replace("\r\n", "\n").replace("\r", "\n").strip()


class _Line:
    """The problems of one spreadsheet line, located by the title of their column."""

    def __init__(self, line: int, column_of: dict[str, str]) -> None:
        self.line, self.column_of = line, column_of
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(Problem(line=self.line, column=self.column_of.get(field, LABELS.get(field)), message=message))

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(Problem(line=self.line, column=self.column_of.get(field, LABELS.get(field)), message=message))


def _kind(value: str, at: _Line) -> str:
    code = kind_of(value)
    if code is None:
        at.warn("kind", f"Type de structure inconnu « {value} » : la structure est importée comme « Autre structure ».")
        return "autre"
    return code


def _phone(field: str, value: str, at: _Line) -> str:
    phone = french_phone(value)
    if phone.message:
        (at.error if phone.error else at.warn)(field, phone.message)
    return phone.text


def _postcode(value: str, at: _Line) -> str:
    digits = value.replace(" ", "")
    if re.fullmatch(r"\d{4}", digits):  # 01000 read as a number
        at.warn("postcode", f"Le code postal « {value} » a perdu son 0 initial : importé comme « 0{digits} ».")
        return "0" + digits
    if not re.fullmatch(r"\d{5}", digits):
        at.error("postcode", f"« {value} » n'est pas un code postal (5 chiffres).")
    return digits


def _field(field: str, value: str, at: _Line) -> Any:
    """One cell's value for the sheet (or its contact), its problems noted on ``at``."""
    if field == "kind":
        return _kind(value, at)
    if field == "public":
        flag = _PUBLIC.get(normalize(value))
        if flag is None:
            at.error(field, f"Statut « {value} » non reconnu : écrivez « public » ou « privé ».")
        return flag
    if field in ("themes", "roles"):
        codes, unknown = _codes(value, _THEMES if field == "themes" else _ROLES)
        if unknown:
            known = ", ".join((kinds.THEMES if field == "themes" else kinds.PARTNER_ROLES).values())
            what = "Thème inconnu" if field == "themes" else "Rôle de partenaire inconnu"
            at.error(field, f"{what} : « {unknown[0]} » (valeurs possibles : {known}).")
        return codes
    if field in LIST_FIELDS:
        items = split_items(value)
        if len(items) > MAX_ITEMS:
            at.error(field, f"Trop d'éléments ({len(items)}, au plus {MAX_ITEMS}).")
        long = [i for i in items if len(i) > MAX_SHORT]
        if long:
            at.error(field, f"Élément trop long ({len(long[0])} caractères, au plus {MAX_SHORT}).")
        return items
    if field in ("phone", "contact_phone"):
        return _phone(field, value, at)
    if field == "postcode":
        return _postcode(value, at)
    limit = MAX_TEXT if field == "missions" else MAX_SHORT
    if len(value) > limit:
        at.error(field, f"Texte trop long ({len(value)} caractères, au plus {limit}).")
    return value


def _place(out: dict[str, Any]) -> None:
    """Postcode and town into the address ("2 place de l'Hôtel de ville, 77100 Meaux"), and the
    town as the commune served when the line names none."""
    postcode, town = out.pop("postcode", None), out.pop("town", None)
    city = " ".join(p for p in (postcode, town) if p)
    if city and city not in (out.get("address") or ""):
        out["address"] = ", ".join(p for p in (out.get("address"), city) if p)
    if town and not out.get("communes"):
        out["communes"] = [town]


def sheet_from_cells(cells: dict[str, str], line: int, column_of: dict[str, str]) -> tuple[dict[str, Any], list[Problem], list[Problem]]:
    """(sheet fields, errors, warnings) of one spreadsheet line; a contact's cells are under "contact"."""
    at = _Line(line, column_of)
    out: dict[str, Any] = {field: _field(field, value, at) for field, value in cells.items() if value}
    _place(out)
    contact = {
        f.removeprefix("contact_"): out.pop(f) for f in ("contact_name", "contact_title", "contact_email", "contact_phone") if f in out
    }
    if contact.get("name"):
        out["contact"] = contact
    elif contact and "contact_name" in column_of:
        at.warn("contact_name", "Fonction ou coordonnées d'un contact sans son nom : ce contact n'est pas importé.")
    if not out.get("name"):
        at.error("name", "Le nom de la structure est obligatoire.")
    for field, email in (("email", out.get("email")), ("contact_email", contact.get("email"))):
        if email and not re.fullmatch(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+", email):
            at.error(field, f"« {email} » n'est pas une adresse e-mail valide.")
    return out, at.errors, at.warnings


# == importing ===============================================================================


def current_structures(trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None) -> list[StructureOut]:
    """Every structure in the network at ``as_of`` (as known at ``known_at``), by name."""
    out: list[StructureOut] = []
    service = directory(trame)
    while True:
        items, total = service.list_structures(territory, as_of=as_of, known_at=known_at, limit=500, offset=len(out))
        out.extend(items)
        if not items or len(out) >= total:
            return out


@dataclass
class _Plan:
    """What an import will write: new sheets (with their contact), and lines merged into existing ones."""

    new: list[tuple[int, StructureIn, dict[str, str] | None]] = default(default_factory=list)
    merges: list[tuple[int, StructureOut, dict[str, Any]]] = default(default_factory=list)


def _duplicate(report: ImportReport, line: int, fields: dict[str, Any], likely: list[Likely], choices: dict[int, str]) -> str | None:
    """Record a likely duplicate with the coordinator's choice, if it is one of those offered."""
    matches = [Match(id=m.structure.id, name=m.structure.name, why=m.why) for m in likely]
    choice = choices.get(line)
    if choice != CREATE and choice not in {m.id for m in matches}:
        choice = None
    report.duplicates.append(Duplicate(line=line, name=fields["name"], matches=matches, choice=choice))
    return choice


def _plan(
    trame: Trame, territory: str, report: ImportReport, candidates: list[tuple[int, dict[str, Any]]], choices: dict[int, str]
) -> _Plan:
    """Check names against the file and the directory: the same name is skipped, a likely
    duplicate waits for the coordinator's choice (merge into it, or create anyway)."""
    present = current_structures(trame, territory)
    existing = {normalize(s.name): s for s in present}
    index, by_id = Existing(present), {s.id: s for s in present}
    first_line: dict[str, int] = {}
    plan = _Plan()
    for line, fields in candidates:
        key = normalize(fields.get("name") or "")
        if key in first_line:
            message = f"Structure en double : « {fields['name']} » figure déjà ligne {first_line[key]}."
            report.errors.append(Problem(line=line, column=LABELS["name"], message=message))
            continue
        first_line[key] = line
        if key in existing:
            report.skipped.append(ImportedLine(line=line, name=fields["name"], id=existing[key].id, reason="déjà dans l'annuaire"))
            continue
        contact = fields.pop("contact", None)
        likely = index.likely(fields)
        choice = _duplicate(report, line, fields, likely, choices) if likely else CREATE
        if choice is not None and choice != CREATE:
            plan.merges.append((line, by_id[choice], {**fields, "contact": contact}))
            continue
        try:
            data = msgspec.convert({**fields, "effective": None}, StructureIn)
        except msgspec.ValidationError as exc:
            report.errors.append(Problem(line=line, column=None, message=f"Donnée invalide : {exc}"))
            continue
        if choice == CREATE:
            plan.new.append((line, data, contact))
    return plan


def _undecided(report: ImportReport) -> None:
    """An import cannot write while a likely duplicate has no choice: say which, by line."""
    for d in report.undecided:
        names = " ou ".join(f"« {m.name} » ({m.why})" for m in d.matches)
        message = f"Doublon probable de {names} : choisissez « fusionner avec » ou « créer quand même » dans la simulation."
        report.errors.append(Problem(line=d.line, column=LABELS["name"], message=message))


def _finish(
    trame: Trame,
    territory: str,
    report: ImportReport,
    candidates: list[tuple[int, dict[str, Any]]],
    *,
    author: str,
    effective: str | None,
    reason: str,
    choices: dict[int, str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Plan the import, then write it whole if nothing is wrong and every duplicate is decided."""
    plan = _plan(trame, territory, report, candidates, choices or {})
    report.valid = len(plan.new) + len(plan.merges)
    if not report.dry_run:
        _undecided(report)
    report.errors.sort(key=lambda p: (p.line, p.column or ""))
    if report.errors or report.dry_run:
        return report
    if progress is not None:
        progress("Enregistrement (en une seule fois)", 0, report.valid)
    created, contacts = write_import(trame, territory, plan, author=author, effective=effective, reason=reason)
    if progress is not None:
        progress("Enregistrement (en une seule fois)", report.valid, report.valid)
    report.created = [ImportedLine(line=line, name=data.name, id=sid) for (line, data, _), sid in zip(plan.new, created, strict=True)]
    report.merged = [ImportedLine(line=line, name=s.name, id=s.id, reason="fusionnée") for line, s, _ in plan.merges]
    report.contacts = contacts
    report.imported = True
    return report


def _filled(existing: StructureOut, fields: dict[str, Any]) -> dict[str, Any]:
    """What a merged line adds to an existing sheet: the fields it has and the sheet lacks (nothing is overwritten)."""
    return {f: v for f, v in fields.items() if f in SheetChanges.__struct_fields__ and v not in (None, "", []) and not getattr(existing, f)}


def _contact_events(
    structure_id: str, contact: dict[str, str], since: str
) -> tuple[tuple[UUID, PersonRegistered], tuple[UUID, ContactStarted]]:
    pid, cid = uuid4(), uuid4()
    person = PersonRegistered(
        person_id=str(pid), full_name=contact["name"], email=contact.get("email") or None, phone=contact.get("phone") or None
    )
    started = ContactStarted(
        contact_id=str(cid), person_id=str(pid), structure_id=structure_id, role="referent", since=since, title=contact.get("title") or None
    )
    return (pid, person), (cid, started)


def write_import(trame: Trame, territory: str, plan: _Plan, *, author: str, effective: str | None, reason: str) -> tuple[list[str], int]:
    """The whole import in ONE command (core.commands.run): one new stream per structure, the
    additions to merged sheets, each contact's person and role, in one atomic append, so that an
    import is written whole or not at all. (The new ids in the order of ``plan.new``, contacts made.)"""
    at = clock.parse(effective) if effective and effective.strip() else None
    since = at or clock.instant(clock.to_datetime(clock.now()).replace(hour=0, minute=0, second=0, microsecond=0))
    streams: dict[UUID, list[Event]] = {}
    named = {(s.id, fold(c.person.name or "")) for s in (m[1] for m in plan.merges) for c in directory(trame).contacts(territory, s.id)}
    ids: list[str] = []
    contacts: list[tuple[str, dict[str, str]]] = []
    for _line, data, contact in plan.new:
        sid = uuid4()
        sheet = msgspec.convert({f: getattr(data, f) for f in Sheet.__struct_fields__}, Sheet)
        streams[sid] = [StructureJoined(structure_id=str(sid), sheet=sheet)]
        ids.append(str(sid))
        contacts += [(str(sid), contact)] if contact else []
    for _line, existing, fields in plan.merges:
        if changes := _filled(existing, fields):
            completed = StructureChanged(structure_id=existing.id, changes=msgspec.convert(changes, SheetChanges))
            streams.setdefault(UUID(existing.id), []).append(completed)  # two lines may complete the same sheet
        if fields.get("contact") and (existing.id, fold(fields["contact"]["name"])) not in named:
            contacts.append((existing.id, fields["contact"]))
    for structure_id, contact in contacts:
        for stream, event in _contact_events(structure_id, contact, since):
            streams[stream] = [event]
    count = len(plan.new) + len(plan.merges)
    label = f"{reason} ({count} structure{'s' if count > 1 else ''})"[:MAX_SHORT]
    run(trame, Context(author=author, territory=territory, effective=at, reason=label), list(streams), lambda _history: streams)
    return ids, len(contacts)


def import_csv(
    trame: Trame,
    territory: str,
    raw: bytes,
    *,
    author: str,
    dry_run: bool = True,
    effective: str | None = None,
    filename: str | None = None,
    progress: Progress | None = None,
    columns: dict[int, str] | None = None,
    choices: dict[int, str] | None = None,
) -> ImportReport:
    """Import a spreadsheet directory: all lines are checked before any is written, then all are
    written in one command. ``columns`` maps column indexes to fields (the dry run's mapping
    step; this territory's last choices otherwise), ``choices`` decides the likely duplicates
    by line. ``progress`` hears how far it is (a page or the CLI shows it)."""
    check_limits(raw)
    table = read_csv(raw, columns, import_columns.remembered(trame, territory))
    report = ImportReport(
        format="csv", dry_run=dry_run, lines=len(table.rows), valid=0, imported=False, errors=table.errors, warnings=table.warnings,
        delimiter=table.delimiter, encoding=table.encoding, header_line=table.header_line, columns=table.columns,
    )  # fmt: skip
    candidates: list[tuple[int, dict[str, Any]]] = []
    for done, (line, cells) in enumerate(table.rows, start=1):
        if progress is not None and (done % 1000 == 0 or done == len(table.rows)):
            progress("Vérification des lignes", done, len(table.rows))
        fields, problems, warnings = sheet_from_cells(cells, line, table.column_of)
        report.errors.extend(problems)
        report.warnings.extend(warnings)
        if not problems:
            candidates.append((line, fields))
    if "name" not in table.column_of:
        return report
    label = f"Import CSV{f' « {filename} »' if filename else ''}"
    report = _finish(
        trame, territory, report, candidates, author=author, effective=effective, reason=label, choices=choices, progress=progress
    )
    if report.imported and columns is not None:
        import_columns.remember(trame, territory, _worth_remembering(trame, territory, table.columns), author)
    return report


def _worth_remembering(trame: Trame, territory: str, columns: list[Column]) -> dict[str, str]:
    """The coordinator's choices that the titles alone would not give again (folded title -> field)."""
    known = import_columns.remembered(trame, territory)
    out: dict[str, str] = {}
    for c in columns:
        key = normalize(c.title)
        if c.source == "choisi" and key and ((c.field or None) != _HEADERS.get(key) or key in known):
            out[key] = c.field or ""
    return out


# == data·inclusion (the v1 module reads addresses with this) =================================
_POSTCODE = re.compile(r"^(?P<street>.*?)[,\s]*\b(?P<cp>\d{5})\s+(?P<commune>[^,\d][^,]*)$")


def split_address(address: str | None) -> tuple[str | None, str | None, str | None]:
    """(street, postcode, commune) of "7 rue des Glycines, 47000 Agen"; the whole as street otherwise."""
    if not address:
        return None, None, None
    match = _POSTCODE.match(address.strip())
    if not match:
        return address.strip(), None, None
    return match["street"].strip(" ,") or None, match["cp"], match["commune"].strip()


# == CSV export ==============================================================================


def _cell(structure: StructureOut, field: str) -> str:
    value = getattr(structure, field)
    if field == "kind":
        kind = kinds.kind_by_code(value or "")
        return kind.label.split(" (")[0] if kind else ""
    if field == "public":
        return "" if value is None else ("public" if value else "privé")
    if field == "themes":
        return " | ".join(kinds.THEMES.get(v, v) for v in value)
    if field == "roles":
        return " | ".join(kinds.PARTNER_ROLES.get(v, v) for v in value)
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


def export_csv(trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None) -> str:
    """The directory as a spreadsheet (``;``, UTF-8 with BOM for Excel); it imports back as is."""
    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer, delimiter=";")  # formula cells neutralised (CSV injection)
    writer.writerow([label for _, label in COLUMNS] + [ID_HEADER])
    for structure in current_structures(trame, territory, as_of, known_at):
        writer.writerow([_cell(structure, field) for field, _ in COLUMNS] + [structure.id])
    return "\ufeff" + buffer.getvalue()


# == vCard ===================================================================================


def _name_parts(full: str) -> tuple[str, str]:
    """(given, family) of a full name; upper-case words are the family name ("Cathy CLERC")."""
    words = full.split()
    upper = [w for w in words if len(w) > 1 and w.isupper()]
    if upper and len(upper) < len(words):
        return " ".join(w for w in words if w not in upper), " ".join(upper)
    if len(words) == 1:
        return "", full
    return " ".join(words[:-1]), words[-1]


def export_vcards(trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None, version: str = "3.0") -> str:
    """The contacts holding a role at ``as_of``, one card per role, with the structure as ORG.

    Erased people have no card: their name and details are gone everywhere."""
    if version not in ("3.0", "4.0"):
        raise UnreadableFile("Version de vCard inconnue : choisissez 3.0 ou 4.0.")
    at = as_of or clock.now()
    service = directory(trame)
    cards: list[str] = []
    structures = current_structures(trame, territory, at, known_at)
    contacts = service.contacts_of_structures(territory, [s.id for s in structures], as_of=at, known_at=known_at)
    for structure in structures:
        for contact in contacts[structure.id]:
            person = contact.person
            if person.erased or not person.name:
                continue
            card = vobject.vCard()
            card.add("version").value = version
            card.add("uid").value = f"urn:uuid:{contact.id}" if version == "4.0" else contact.id
            card.add("fn").value = person.name
            given, family = _name_parts(person.name)
            card.add("n").value = vobject.vcard.Name(family=family, given=given)
            if version == "4.0":
                card.add("kind").value = "individual"
            card.add("org").value = [structure.name]
            role = CONTACT_ROLES.get(contact.role, contact.role)
            if contact.theme:
                role += f" ({kinds.THEMES.get(contact.theme, contact.theme)})"
            # RFC 6350: TITLE is the job title (« Conseillère en insertion »), ROLE the part played
            # (here, in the network); without a job title, the role is the best title there is.
            card.add("title").value = contact.title or role
            if contact.title:
                card.add("role").value = role
            work = "work" if version == "4.0" else "WORK"
            if person.email:
                email = card.add("email")
                email.value = person.email
                email.type_param = work
            if person.phone:
                tel = card.add("tel")
                tel.value = person.phone
                tel.type_param = work
            card.add("note").value = f"{role} à {structure.name} depuis le {contact.since}."
            cards.append(card.serialize())
    return "".join(cards)


# == the command line ========================================================================
def add_commands(subparsers: Any) -> None:
    """``trame import-structures TERRITOIRE FICHIER.csv``: the CSV import, with a progress bar."""
    p = subparsers.add_parser(
        "import-structures",
        help=f"importer les structures d'un tableur CSV dans l'annuaire d'un territoire (tout ou rien, {MAX_IMPORT_LINES} lignes au plus)",
    )
    p.add_argument("territory", help="identifiant du territoire (ex. agen)")
    p.add_argument("file", help="fichier CSV (titres Nom;Sigle;Type;E-mail;…)")
    p.add_argument("--simulation", action="store_true", help="vérifier sans rien enregistrer")
    p.add_argument("--date-effet", dest="effective", help="date d'entrée dans le réseau (AAAA-MM-JJ ; défaut : maintenant)")
    p.set_defaults(func=cmd_import_structures)


def _bar(stream: Any) -> Progress:
    """A progress line that rewrites itself on a terminal, one line per step otherwise."""
    tty = stream.isatty()
    last: list[str] = [""]

    def show(step: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        line = f"{step} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}"
        if tty:
            stream.write("\r" + line.ljust(len(last[0])))
            if done >= total:
                stream.write("\n")
        elif done >= total or step != last[0].split(" [")[0]:
            stream.write(line + "\n")
        stream.flush()
        last[0] = line

    return show


def cmd_import_structures(trame: Trame, args: Any) -> int:
    import sys
    import time
    from pathlib import Path

    from core.store import SYSTEM

    if trame.territories.get(args.territory) is None or not trame.territories.is_enabled(args.territory, "annuaire"):
        print(f"import refusé : pas d'annuaire sur le territoire « {args.territory} »", file=sys.stderr)
        return 1
    raw = Path(args.file).read_bytes()
    started = time.monotonic()
    try:
        effective = clock.parse(args.effective) if args.effective else None
        report = import_csv(
            trame, args.territory, raw, author=SYSTEM, dry_run=args.simulation, effective=effective,
            filename=Path(args.file).name, progress=_bar(sys.stderr),
        )  # fmt: skip
    except (UnreadableFile, clock.BadInstant) as exc:
        print(f"import refusé : {exc}", file=sys.stderr)
        return 1
    for problem in report.errors[:50]:
        print(f"ligne {problem.line}{f' ({problem.column})' if problem.column else ''} : {problem.message}", file=sys.stderr)
    elapsed = time.monotonic() - started
    if report.errors:
        print(f"{len(report.errors)} erreurs : rien n'a été importé ({report.lines} lignes lues, {elapsed:.1f} s)", file=sys.stderr)
        return 1
    what = "vérifiées (simulation)" if report.dry_run else "importées en une seule fois"
    print(
        f"{report.valid} structures {what}, {len(report.skipped)} déjà dans l'annuaire, en {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


# == big imports in the background, with a page that shows progress ===========================
#: From this many lines, the import page hands the file to a background job and answers at once
#: with a progress page (it refreshes itself, no JavaScript), instead of holding the request open.
BACKGROUND_LINES = 2000
_JOBS_DDL = (
    "CREATE TABLE IF NOT EXISTS import_jobs (job_id TEXT PRIMARY KEY, territory TEXT NOT NULL, author TEXT NOT NULL,"
    " filename TEXT, step TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL, report TEXT, created_at TEXT NOT NULL)"
)
_log = logging.getLogger(__name__)


class ImportJob(msgspec.Struct, kw_only=True):
    """An import running in the background (or finished: ``report`` is set)."""

    job_id: str
    territory: str
    filename: str | None
    step: str
    done: int
    total: int
    report: ImportReport | None = None

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def start_import_job(
    trame: Trame, territory: str, raw: bytes, *, author: str, dry_run: bool, effective: str | None, filename: str | None
) -> str:
    """Check the limits now (a refusal is immediate), record the job, run it in a thread: its id."""
    check_limits(raw)
    job_id = str(uuid4())
    with trame.db.write() as cur:
        cur.execute(_JOBS_DDL)
        cur.execute(
            "INSERT INTO import_jobs (job_id, territory, author, filename, step, done, total, report, created_at)"
            " VALUES (?, ?, ?, ?, ?, 0, ?, NULL, ?)",
            (job_id, territory, author, filename, "En attente", max(raw.count(b"\n") - 1, 1), clock.now()),
        )
    threading.Thread(
        target=_run_job,
        args=(trame, job_id, territory, raw, author, dry_run, effective, filename),
        name=f"import-{job_id[:8]}",
        daemon=True,
    ).start()
    return job_id


def _run_job(
    trame: Trame, job_id: str, territory: str, raw: bytes, author: str, dry_run: bool, effective: str | None, filename: str | None
) -> None:
    last = [0.0]

    def progress(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or done >= total:
            last[0] = now
            with trame.db.write() as cur:
                cur.execute("UPDATE import_jobs SET step = ?, done = ?, total = ? WHERE job_id = ?", (step, done, total, job_id))

    try:
        report = import_csv(
            trame, territory, raw, author=author, dry_run=dry_run, effective=effective, filename=filename, progress=progress
        )
    except UnreadableFile as exc:
        report = ImportReport(
            format="csv", dry_run=dry_run, lines=0, valid=0, imported=False, errors=[Problem(line=1, column=None, message=str(exc))]
        )
    except Exception:  # the one command did not commit: nothing was written
        _log.exception("import job %s failed", job_id)
        message = "L'import a échoué en cours d'enregistrement : rien n'a été enregistré. Réessayez ; si cela se reproduit, signalez-le."
        report = ImportReport(
            format="csv", dry_run=dry_run, lines=0, valid=0, imported=False, errors=[Problem(line=1, column=None, message=message)]
        )
    with trame.db.write() as cur:
        cur.execute(
            "UPDATE import_jobs SET step = ?, report = ? WHERE job_id = ?", ("Terminé", msgspec.json.encode(report).decode(), job_id)
        )


def import_job(trame: Trame, territory: str, job_id: str) -> ImportJob | None:
    """The job as it stands, if it is this territory's."""
    with trame.db.write() as cur:  # the table may not exist yet on this store
        cur.execute(_JOBS_DDL)
    with trame.db.read() as cur:
        row = cur.execute(
            "SELECT job_id, territory, filename, step, done, total, report FROM import_jobs WHERE job_id = ? AND territory = ?",
            (job_id, territory),
        ).fetchone()
    if row is None:
        return None
    report = msgspec.json.decode(row["report"], type=ImportReport) if row["report"] else None
    return ImportJob(
        job_id=row["job_id"], territory=row["territory"], filename=row["filename"], step=row["step"],
        done=int(row["done"]), total=int(row["total"]), report=report,
    )  # fmt: skip
