"""Getting a directory in and out: spreadsheet CSV, data·inclusion JSON, vCard.

Imports validate every line first and write nothing while an error remains; a dry
run stops after validation. Line numbers are those a spreadsheet shows (the header
is line 1). Exports read the directory ``as_of`` a date (and ``known_at`` a time),
through the directory service only.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import msgspec
import vobject

from core import clock, spreadsheet
from core.territories import TerritoryError
from core.text import words
from plugins.annuaire import kinds
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


class UnreadableFile(TerritoryError):
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
LABELS = dict(COLUMNS)
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


def sniff_delimiter(text: str) -> str:
    """The header line decides when one delimiter clearly wins there (titles hold none): cells
    full of commas, quotes or formulas below it must not fool the sniffer."""
    first = text.splitlines()[0] if text else ""
    counts = sorted(((first.count(d), d) for d in ";,\t"), reverse=True)
    if counts[0][0] and counts[0][0] > counts[1][0]:
        return counts[0][1]
    head = "\n".join(text.splitlines()[:5])
    try:
        return csv.Sniffer().sniff(head, delimiters=";,\t").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in ";,\t"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ";"


def read_csv(raw: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[Problem], list[Problem], str, str]:
    """(rows as (line, field -> cell), errors, warnings, delimiter, encoding)."""
    text, encoding = decode(raw)
    if not text.strip():
        raise UnreadableFile("Le fichier est vide.")
    delimiter = sniff_delimiter(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = records[0]
    errors: list[Problem] = []
    warnings: list[Problem] = []
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for title in header:
        field = _HEADERS.get(normalize(title))
        if field is None:
            if normalize(title) and normalize(title) not in _IGNORED_HEADERS:
                warnings.append(Problem(line=1, column=title, message=f"Colonne « {title} » non reconnue : elle est ignorée."))
        elif field in seen:
            errors.append(
                Problem(
                    line=1, column=title, message=f"Colonne en double : « {title} » et « {seen[field]} » désignent la même information."
                )
            )
            field = None
        else:
            seen[field] = title
        fields.append(field)
    if "name" not in seen:
        errors.append(
            Problem(
                line=1,
                column=None,
                message="Colonne « Nom » introuvable : la première ligne doit donner les titres des colonnes (Nom;Sigle;Type;E-mail;…).",
            )
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
            warnings.append(
                Problem(
                    line=number,
                    column=None,
                    message="Cette ligne a plus de cellules que de titres de colonnes : les cellules en trop sont ignorées.",
                )
            )
        cells = {f: _clean(record[i]) for i, f in enumerate(fields) if f is not None and i < len(record)}
        rows.append((number, cells))
    return rows, errors, warnings, delimiter, encoding


def _clean(cell: str) -> str:
    """A cell's text as typed (an exported formula-like cell loses its guarding apostrophe), with the
    line breaks a spreadsheet puts in quoted cells made plain."""
    return spreadsheet.restore(cell).replace("\r\n", "\n").replace("\r", "\n").strip()


def sheet_from_cells(cells: dict[str, str], line: int, column_of: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """The sheet fields of one spreadsheet line, and what is wrong with it."""
    problems: list[Problem] = []

    def problem(field: str, message: str) -> None:
        problems.append(Problem(line=line, column=column_of.get(field, LABELS.get(field)), message=message))

    out: dict[str, Any] = {}
    for field, value in cells.items():
        if not value:
            continue
        if field == "kind":
            code = kind_of(value)
            if code is None:
                problem(
                    field,
                    f"Type de structure inconnu « {value} » "
                    "(exemples reconnus : CCAS, MDS, Mission locale, CAF, Association, Centre social).",
                )
            out["kind"] = code
        elif field == "public":
            flag = _PUBLIC.get(normalize(value))
            if flag is None:
                problem(field, f"Statut « {value} » non reconnu : écrivez « public » ou « privé ».")
            out["public"] = flag
        elif field in ("themes", "roles"):
            codes, unknown = _codes(value, _THEMES if field == "themes" else _ROLES)
            if unknown:
                known = ", ".join((kinds.THEMES if field == "themes" else kinds.PARTNER_ROLES).values())
                what = "Thème inconnu" if field == "themes" else "Rôle de partenaire inconnu"
                problem(field, f"{what} : « {unknown[0]} » (valeurs possibles : {known}).")
            out[field] = codes
        elif field in LIST_FIELDS:
            items = split_items(value)
            if len(items) > MAX_ITEMS:
                problem(field, f"Trop d'éléments ({len(items)}, au plus {MAX_ITEMS}).")
            long = [i for i in items if len(i) > MAX_SHORT]
            if long:
                problem(field, f"Élément trop long ({len(long[0])} caractères, au plus {MAX_SHORT}).")
            out[field] = items
        else:
            limit = MAX_TEXT if field == "missions" else MAX_SHORT
            if len(value) > limit:
                problem(field, f"Texte trop long ({len(value)} caractères, au plus {limit}).")
            out[field] = value
    if not out.get("name"):
        problem("name", "Le nom de la structure est obligatoire.")
    email = out.get("email")
    if email and not re.fullmatch(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+", email):
        problem("email", f"« {email} » n'est pas une adresse e-mail valide.")
    return out, problems


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


def _finish(
    trame: Trame,
    territory: str,
    report: ImportReport,
    candidates: list[tuple[int, dict[str, Any]]],
    *,
    author: str,
    effective: str | None,
    reason: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Check names against the file and the directory, then write if nothing is wrong."""
    existing = {normalize(s.name): s for s in current_structures(trame, territory)}
    first_line: dict[str, int] = {}
    ready: list[tuple[int, StructureIn]] = []
    for line, fields in candidates:
        key = normalize(fields.get("name") or "")
        if key in first_line:
            report.errors.append(
                Problem(
                    line=line,
                    column=LABELS["name"],
                    message=f"Structure en double : « {fields['name']} » figure déjà ligne {first_line[key]}.",
                )
            )
            continue
        first_line[key] = line
        if key in existing:
            report.skipped.append(ImportedLine(line=line, name=fields["name"], id=existing[key].id, reason="déjà dans l'annuaire"))
            continue
        try:
            ready.append((line, msgspec.convert({**fields, "effective": effective}, StructureIn)))
        except msgspec.ValidationError as exc:
            report.errors.append(Problem(line=line, column=None, message=f"Donnée invalide : {exc}"))
    report.errors.sort(key=lambda p: (p.line, p.column or ""))
    report.valid = len(ready)
    if report.errors or report.dry_run:
        return report
    if progress is not None:
        progress("Enregistrement (en une seule fois)", 0, len(ready))
    created = write_structures(trame, territory, [data for _, data in ready], author=author, effective=effective, reason=reason)
    if progress is not None:
        progress("Enregistrement (en une seule fois)", len(ready), len(ready))
    report.created = [ImportedLine(line=line, name=data.name, id=sid) for (line, data), sid in zip(ready, created, strict=True)]
    report.imported = True
    return report


def write_structures(
    trame: Trame, territory: str, items: list[StructureIn], *, author: str, effective: str | None, reason: str
) -> list[str]:
    """Every structure of an import joins in ONE command: one atomic append of one new stream per
    structure (core.commands.run), so that an import is written whole or not at all, and no reader
    ever sees half of it. The ids, in the order of ``items``."""
    from core.commands import run
    from core.store import Context
    from plugins.annuaire.events import Sheet, StructureJoined

    fields = Sheet.__struct_fields__
    events = {uuid4(): StructureJoined(structure_id="", sheet=msgspec.convert({f: getattr(d, f) for f in fields}, Sheet)) for d in items}
    joined = {sid: [msgspec.structs.replace(event, structure_id=str(sid))] for sid, event in events.items()}
    at = clock.parse(effective) if effective and effective.strip() else None
    label = f"{reason} ({len(items)} structure{'s' if len(items) > 1 else ''})"[:MAX_SHORT]
    run(trame, Context(author=author, territory=territory, effective=at, reason=label), list(joined), lambda _history: joined)
    return [str(sid) for sid in joined]


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
) -> ImportReport:
    """Import a spreadsheet directory: all lines are checked before any is written, then all are
    written in one command. ``progress`` hears how far it is (a page or the CLI shows it)."""
    check_limits(raw)
    rows, errors, warnings, delimiter, encoding = read_csv(raw)
    report = ImportReport(
        format="csv",
        dry_run=dry_run,
        lines=len(rows),
        valid=0,
        imported=False,
        errors=errors,
        warnings=warnings,
        delimiter=delimiter,
        encoding=encoding,
    )
    text, _ = decode(raw)
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    column_of = {_HEADERS[normalize(h)]: h for h in reversed(header) if normalize(h) in _HEADERS}
    candidates: list[tuple[int, dict[str, Any]]] = []
    for done, (line, cells) in enumerate(rows, start=1):
        if progress is not None and (done % 1000 == 0 or done == len(rows)):
            progress("Vérification des lignes", done, len(rows))
        fields, problems = sheet_from_cells(cells, line, column_of)
        report.errors.extend(problems)
        if not problems:
            candidates.append((line, fields))
    if "name" not in column_of:
        report.valid = 0
        return report
    label = f"Import CSV{f' « {filename} »' if filename else ''}"
    return _finish(trame, territory, report, candidates, author=author, effective=effective, reason=label, progress=progress)


# == data·inclusion ==========================================================================

#: Our themes -> the data·inclusion "thematiques" referential (None: no sensible match).
DI_THEMES: dict[str, str | None] = {
    "logement": "logement-hebergement",
    "sante": "sante",
    "emploi-insertion": "accompagnement-social-et-professionnel-personnalise",
    "famille": "famille",
    "jeunesse": None,
    "handicap": "handicap",
    "acces-aux-droits": "acces-aux-droits-et-citoyennete",
    "alimentation": "equipement-et-alimentation--alimentation",
    "mobilite": "mobilite",
    "culture": None,
    "violences": "famille--violences-intrafamiliales",
    "personnes-agees": None,
    "budget": "gestion-financiere",
    "education": None,
}
#: data·inclusion thematiques (or their top-level part) -> our themes, for imports.
_FROM_DI: dict[str, str] = {
    **{di: ours for ours, di in DI_THEMES.items() if di},
    "trouver-un-emploi": "emploi-insertion",
    "preparer-sa-candidature": "emploi-insertion",
    "choisir-un-metier": "emploi-insertion",
    "se-former": "emploi-insertion",
    "creation-activite": "emploi-insertion",
    "illettrisme": "education",
    "remobilisation": "culture",
}
_POSTCODE = re.compile(r"^(?P<street>.*?)[,\s]*\b(?P<cp>\d{5})\s+(?P<commune>[^,\d][^,]*)$")
RESUME_MAX = 280
#: What the schema cannot say (our finer kind, acronym, audiences...), for lossless Trame-to-Trame
#: copies; consumers ignore it, and ``strict`` exports leave it out.
EXTENSION = "_trame"


def split_address(address: str | None) -> tuple[str | None, str | None, str | None]:
    """(street, postcode, commune) of "7 rue des Glycines, 47000 Agen"; the whole as street otherwise."""
    if not address:
        return None, None, None
    match = _POSTCODE.match(address.strip())
    if not match:
        return address.strip(), None, None
    return match["street"].strip(" ,") or None, match["cp"], match["commune"].strip()


def to_datainclusion(trame: Trame, territory: str, structure: StructureOut, as_of: str) -> dict[str, Any]:
    """One structure in the data·inclusion "structure" schema (v0 field names)."""
    kind = kinds.kind_by_code(structure.kind or "")
    street, postcode, commune = split_address(structure.address)
    missions = (structure.missions or "").strip() or None
    resume = missions
    if missions and len(missions) > RESUME_MAX:
        resume = missions[: RESUME_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;.") + "…"
    themes = [DI_THEMES.get(t) for t in structure.themes]
    updated = max(filter(None, [structure.joined, structure.confirmed_at]), default=as_of)
    return {
        "id": structure.id,
        "siret": None,
        "rna": None,
        "nom": structure.name,
        "commune": commune or (structure.communes[0] if len(structure.communes) == 1 else None),
        "code_postal": postcode,
        "code_insee": None,
        "adresse": street,
        "complement_adresse": None,
        "longitude": None,
        "latitude": None,
        "typologie": (kind.typologie or kinds.TYPOLOGIE_AUTRE) if kind else None,
        "telephone": structure.phone,
        "courriel": structure.email,
        "site_web": structure.website,
        "presentation_resume": resume,
        "presentation_detail": missions if missions and resume != missions else None,
        "source": "trame",
        "date_maj": clock.day_of(min(updated, as_of)),
        "antenne": False,
        "lien_source": f"{trame.settings.base_url}/t/{territory}/annuaire/structures/{structure.id}",
        "horaires_ouverture": None,
        "accessibilite": None,
        "labels_nationaux": [],
        "labels_autres": [],
        "thematiques": [t for t in dict.fromkeys(themes) if t],
        EXTENSION: {
            "type": structure.kind,
            "sigle": structure.acronym,
            "public": structure.public,
            "roles": structure.roles,
            "communes": structure.communes,
            "publics": structure.publics,
            "themes": structure.themes,
            "horaires": structure.opening_hours,
        },
    }


def export_datainclusion(
    trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None, *, strict: bool = False
) -> list[dict[str, Any]]:
    """The structures at ``as_of``; ``strict`` keeps only the schema's own fields."""
    at = as_of or clock.now()
    items = [to_datainclusion(trame, territory, s, at) for s in current_structures(trame, territory, at, known_at)]
    if strict:
        for item in items:
            del item[EXTENSION]
    return items


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def sheet_from_datainclusion(item: Any, number: int) -> tuple[dict[str, Any], list[Problem], list[Problem]]:
    """(sheet fields, errors, warnings) of one data·inclusion structure."""
    if not isinstance(item, dict):
        return {}, [Problem(line=number, column=None, message="Chaque élément de la liste doit être un objet JSON (une structure).")], []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    out: dict[str, Any] = {"name": _text(item, "nom")}
    if not out["name"]:
        errors.append(Problem(line=number, column="nom", message="Le nom de la structure (« nom ») est obligatoire."))
    typologie = _text(item, "typologie")
    if typologie:
        kind = kinds.kind_by_typologie(typologie)
        if kind is None:
            warnings.append(
                Problem(
                    line=number, column="typologie", message=f"Typologie « {typologie} » inconnue : la structure sera importée sans type."
                )
            )
        out["kind"] = kind.code if kind else None
        if kind is not None:
            out["public"] = kind.public
    street, postcode, commune = _text(item, "adresse"), _text(item, "code_postal"), _text(item, "commune")
    city = " ".join(p for p in (postcode, commune) if p)
    address = ", ".join(p for p in (street, _text(item, "complement_adresse"), city) if p)
    if address:
        out["address"] = address
    if commune:
        out["communes"] = [commune]
    for source, target in (("telephone", "phone"), ("courriel", "email"), ("site_web", "website"), ("horaires_ouverture", "opening_hours")):
        if _text(item, source):
            out[target] = _text(item, source)
    missions = _text(item, "presentation_detail") or _text(item, "presentation_resume")
    if missions:
        out["missions"] = missions
    themes: list[str] = []
    raw_themes = item.get("thematiques") or []
    for code in raw_themes if isinstance(raw_themes, list) else []:
        code = str(code)
        ours = _FROM_DI.get(code) or _FROM_DI.get(code.split("--")[0])
        if ours and ours not in themes:
            themes.append(ours)
    if themes:
        out["themes"] = themes
    extension = item.get(EXTENSION)
    if isinstance(extension, dict):
        _read_extension(extension, out, number, warnings)
    for field, value in out.items():
        if isinstance(value, str) and len(value) > (MAX_TEXT if field == "missions" else MAX_SHORT):
            errors.append(Problem(line=number, column=field, message=f"Texte trop long ({len(value)} caractères)."))
    email = out.get("email")
    if email and not re.fullmatch(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+", email):
        errors.append(Problem(line=number, column="courriel", message=f"« {email} » n'est pas une adresse e-mail valide."))
    return out, errors, warnings


def _read_extension(extension: dict[str, Any], out: dict[str, Any], number: int, warnings: list[Problem]) -> None:
    """Trame's own details, when the file came from Trame: they win over the schema's coarser ones."""
    code = extension.get("type")
    if isinstance(code, str) and kinds.kind_by_code(code):
        out["kind"] = code
    elif code:
        warnings.append(Problem(line=number, column=f"{EXTENSION}.type", message=f"Type « {code} » inconnu : ignoré."))
    if isinstance(extension.get("sigle"), str) and extension["sigle"].strip():
        out["acronym"] = extension["sigle"].strip()
    if isinstance(extension.get("public"), bool):
        out["public"] = extension["public"]
    if isinstance(extension.get("horaires"), str) and extension["horaires"].strip():
        out["opening_hours"] = extension["horaires"].strip()
    for field, known in (("roles", kinds.PARTNER_ROLES), ("themes", kinds.THEMES), ("communes", None), ("publics", None)):
        values = extension.get(field)
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            kept = [v for v in values if known is None or v in known]
            if kept or field in ("communes", "publics"):
                out[field] = kept


def import_datainclusion(
    trame: Trame, territory: str, raw: bytes, *, author: str, dry_run: bool = True, effective: str | None = None
) -> ImportReport:
    """Import structures given in the data·inclusion schema (a JSON list, or {"items": [...]})."""
    text, encoding = decode(raw)
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise UnreadableFile(f"Le fichier n'est pas un JSON valide (ligne {getattr(exc, 'lineno', '?')}) : {exc}") from None
    items = payload.get("items", payload.get("structures")) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise UnreadableFile("Le JSON doit être une liste de structures (ou un objet avec une liste « items »).")
    report = ImportReport(format="datainclusion", dry_run=dry_run, lines=len(items), valid=0, imported=False, encoding=encoding)
    candidates: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(items, start=1):
        fields, errors, warnings = sheet_from_datainclusion(item, number)
        report.errors.extend(errors)
        report.warnings.extend(warnings)
        if not errors:
            candidates.append((number, fields))
    return _finish(trame, territory, report, candidates, author=author, effective=effective, reason="Import data·inclusion")


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
            card.add("title").value = role
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
