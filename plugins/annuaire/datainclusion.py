"""The directory in the national data·inclusion **v1** schema: structures and services, JSON and CSV.

Exports read the directory and its services ``as_of`` a date (and ``known_at`` a time) with v1's
field names (``description``, ``horaires_accueil`` in OpenStreetMap form, ``reseaux_porteurs``;
themes and publics on the services). What v1 has no room for travels in the namespaced
extension ``_trame`` of each record (acronym, finer kind, partner roles, relays, lineage,
the French hours, a service delivered at home), which a v1 consumer ignores and ``strict``
leaves out. Imports check every record first and write nothing while an error remains; a dry
run stops after the check; codes outside the referential are dropped with a warning naming
the record and the field, never silently.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import TYPE_CHECKING, Any

import msgspec

from core import clock
from core.refusals import invalid
from plugins.annuaire import kinds
from plugins.annuaire import referential as ref
from plugins.annuaire.exchange import ImportedLine, ImportReport, Problem, current_structures, split_address
from plugins.annuaire.schemas import StructureIn, StructureOut
from plugins.annuaire.service import directory
from plugins.annuaire.services import OFFER_FIELDS, ServiceIn, ServiceOut, check_offer, services

if TYPE_CHECKING:
    from core.application import Trame

SOURCE = "trame"
EXTENSION = "_trame"
#: Our kinds -> v1 "reseaux_porteurs" (only where the network is exactly that one).
RESEAUX: dict[str, str] = {
    "ccas": "ccas-cias", "cias": "ccas-cias", "mairie": "communes", "conseil-departemental": "departements",
    "mds": "maisons-des-solidarites", "cms": "cms", "caf": "caf", "cpam": "cpam", "msa": "mutualite-sociale-agricole",
    "mdph": "mdph", "udaf": "unaf", "cidff": "cidff", "cmp": "cmp", "csapa": "csapa", "chrs": "chrs",
    "france-travail": "france-travail", "mission-locale": "mission-locale", "maison-emploi": "maisons-de-l-emploi",
    "plie": "plie", "cap-emploi": "cap-emploi-reseau-cheops", "aci": "aci", "ei": "ei", "etti": "etti", "ai": "ai", "spip": "spip",
}  # fmt: skip
STRUCTURE_FIELDS = (
    "source", "id", "nom", "date_maj", "description", "lien_source", "siret", "commune", "code_postal", "code_insee", "adresse",
    "complement_adresse", "longitude", "latitude", "telephone", "courriel", "site_web", "horaires_accueil", "accessibilite_lieu",
    "reseaux_porteurs",
)  # fmt: skip
SERVICE_FIELDS = (
    "source", "structure_id", "id", "nom", "description", "lien_source", "date_maj", "type", "thematiques", "frais", "frais_precisions",
    "publics", "publics_precisions", "conditions_acces", "commune", "code_postal", "code_insee", "adresse", "complement_adresse",
    "longitude", "latitude", "telephone", "courriel", "modes_accueil", "zone_eligibilite", "contact_nom_prenom", "lien_mobilisation",
    "modes_mobilisation", "mobilisable_par", "mobilisation_precisions", "volume_horaire_hebdomadaire", "nombre_semaines",
    "horaires_accueil",
)  # fmt: skip
LIST_COLUMNS = ("reseaux_porteurs", "thematiques", "publics", "modes_accueil", "zone_eligibilite", "modes_mobilisation", "mobilisable_par")


def _v1_id(trame_id: str) -> str:
    return f"{SOURCE}--{trame_id}"


def _day(instant: str | None) -> str | None:
    return instant[:10] if instant else None


# == export ======================================================================================
def _last_change(trame: Trame, territory: str, structure_id: str, as_of: str) -> str:
    """The effective day of the sheet's last change at ``as_of`` (v1's ``date_maj``)."""
    days = [e.effective for e in directory(trame).history(territory, structure_id=structure_id) if e.effective <= as_of]
    return clock.day_of(max(days)) if days else clock.day_of(as_of)


def structure_v1(trame: Trame, territory: str, s: StructureOut, as_of: str, *, strict: bool = False) -> dict[str, Any]:
    street, postcode, commune = split_address(s.address)
    hours = ref.to_osm(s.opening_hours)
    out: dict[str, Any] = {
        "source": SOURCE,
        "id": _v1_id(s.id),
        "nom": s.name,
        "date_maj": _last_change(trame, territory, s.id, as_of),
        "description": (s.missions or "").strip() or None,
        "lien_source": f"{trame.settings.base_url}/t/{territory}/annuaire/structures/{s.id}",
        "siret": None,
        "commune": commune or (s.communes[0] if len(s.communes) == 1 else None),
        "code_postal": postcode,
        "code_insee": None,
        "adresse": street,
        "complement_adresse": None,
        "longitude": None,
        "latitude": None,
        "telephone": s.phone,
        "courriel": s.email,
        "site_web": s.website,
        "horaires_accueil": hours,
        "accessibilite_lieu": None,
        "reseaux_porteurs": [RESEAUX[s.kind]] if s.kind in RESEAUX else None,
    }
    if not strict:
        out[EXTENSION] = {
            "sigle": s.acronym,
            "type": s.kind,
            "public": s.public,
            "roles": s.roles,
            "communes": s.communes,
            "publics": s.publics,
            "themes": s.themes,
            "horaires": s.opening_hours,
            "entree": _day(s.joined),
            "relais": [_v1_id(r) for r in s.relays],
            "lignee": {"anciens_noms": s.former_names, "absorbees": [_v1_id(a) for a in s.absorbed]},
        }
    return out


def service_v1(trame: Trame, territory: str, s: ServiceOut, as_of: str, *, strict: bool = False) -> dict[str, Any]:
    history = [h.effective for h in services(trame).history(territory, s.id) if h.effective <= as_of]
    reception = [r for r in s.reception if r in ref.MODES_ACCUEIL]
    out: dict[str, Any] = {
        "source": SOURCE,
        "structure_id": _v1_id(s.structure_id),
        "id": _v1_id(s.id),
        "nom": s.name,
        "description": s.description,
        "lien_source": f"{trame.settings.base_url}/t/{territory}/annuaire/services/{s.id}",
        "date_maj": clock.day_of(max(history)) if history else clock.day_of(as_of),
        "type": s.type,
        "thematiques": s.themes or None,
        "frais": s.fees,
        "frais_precisions": s.fees_details,
        "publics": s.publics or None,
        "publics_precisions": s.publics_details,
        "conditions_acces": s.access_conditions,
        "commune": None,
        "code_postal": None,
        "code_insee": None,
        "adresse": None,
        "complement_adresse": None,
        "longitude": None,
        "latitude": None,
        "telephone": s.phone,
        "courriel": s.email,
        "modes_accueil": reception or None,
        "zone_eligibilite": None,  # v1 wants INSEE codes; the communes' names are in the extension
        "contact_nom_prenom": None,  # a person's name stays in the directory (erasable), never in an export
        "lien_mobilisation": s.referral_link,
        "modes_mobilisation": s.referral_modes or None,
        "mobilisable_par": s.referrers or None,
        "mobilisation_precisions": s.referral_details,
        "volume_horaire_hebdomadaire": None,
        "nombre_semaines": None,
        "horaires_accueil": ref.to_osm(s.opening_hours),
    }
    if not strict:
        out[EXTENSION] = {"modes_accueil": s.reception, "communes": s.communes, "horaires": s.opening_hours}
    return out


def export(trame: Trame, territory: str, as_of: str | None = None, known_at: str | None = None, *, strict: bool = False) -> dict[str, Any]:
    """``{"structures": [...], "services": [...]}`` at ``as_of``: the structures in the network
    then, and the services they ran then."""
    at = as_of or clock.now()
    structures = current_structures(trame, territory, at, known_at)
    present = {s.id for s in structures}
    running = [s for s in services(trame).all_at(territory, as_of=at, known_at=known_at) if s.structure_id in present]
    return {
        "structures": [structure_v1(trame, territory, s, at, strict=strict) for s in structures],
        "services": [service_v1(trame, territory, s, at, strict=strict) for s in running],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def to_csv(records: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """v1's CSV form: one column per field, lists comma-separated, the extension as JSON in ``_trame``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*columns, EXTENSION])
    for record in records:
        writer.writerow([*(_cell(record.get(c)) for c in columns), _cell(record.get(EXTENSION))])
    return out.getvalue()


def from_csv(text: str) -> list[dict[str, Any]]:
    """Records of v1's CSV form (what :func:`to_csv` writes, or a publisher's own columns)."""
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                continue
            if key == EXTENSION:
                record[key] = json.loads(value) if value else None
            elif key in LIST_COLUMNS:
                record[key] = [v.strip() for v in value.split(",") if v.strip()] if value else None
            else:
                record[key] = value or None
        out.append(record)
    return out


# == import ======================================================================================
def _codes(values: Any, table: dict[str, str], line: int, column: str, warnings: list[Problem]) -> list[str]:
    """Known codes kept; each unknown one dropped with a warning (never silently)."""
    if not values:
        return []
    kept = []
    for code in values if isinstance(values, list) else [values]:
        if code in table:
            kept.append(code)
        else:
            warnings.append(
                Problem(line=line, column=column, message=f"Code « {code} » inconnu du référentiel data·inclusion v1 : ignoré.")
            )
    return kept


_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
#: Our sheet's fields -> the v1 column they come from (to name it in a refusal).
_V1_COLUMN = {
    "name": "nom", "email": "courriel", "phone": "telephone", "website": "site_web", "address": "adresse",
    "opening_hours": "horaires_accueil", "missions": "description", "communes": "commune",
}  # fmt: skip


def _extension(item: dict[str, Any]) -> dict[str, Any]:
    """The record's ``_trame`` extension ({} when absent or not an object)."""
    ext = item.get(EXTENSION)
    return ext if isinstance(ext, dict) else {}


def _first(codes: list[str]) -> str | None:
    return codes[0] if codes else None


def _structure_fields(item: dict[str, Any], line: int, errors: list[Problem], warnings: list[Problem]) -> dict[str, Any]:
    ext = _extension(item)
    name = (item.get("nom") or "").strip()
    if not name:
        errors.append(Problem(line=line, column="nom", message="Le nom de la structure (« nom ») est obligatoire."))
    # A commune without a postcode names the structure's town, not a part of its address.
    city = " ".join(p for p in (item.get("code_postal"), item.get("commune")) if p) if item.get("code_postal") else ""
    address = ", ".join(p for p in (item.get("adresse"), item.get("complement_adresse"), city) if p) or None
    reseaux = _codes(item.get("reseaux_porteurs"), ref.RESEAUX_PORTEURS, line, "reseaux_porteurs", warnings)
    kind = ext.get("type") if kinds.kind_by_code(ext.get("type") or "") else next((k for k, r in RESEAUX.items() if r in reseaux), None)
    hours = ext.get("horaires") or ref.from_osm(item.get("horaires_accueil"))
    fields: dict[str, Any] = {
        "name": name,
        "acronym": ext.get("sigle"),
        "kind": kind,
        "public": ext.get("public"),
        "roles": [r for r in ext.get("roles") or [] if r in kinds.PARTNER_ROLES],
        "email": item.get("courriel"),
        "phone": item.get("telephone"),
        "website": item.get("site_web"),
        "address": address,
        "opening_hours": hours,
        "communes": ext.get("communes") or ([item["commune"]] if item.get("commune") else []),
        "missions": item.get("description"),
        "publics": ext.get("publics") or [],
        "themes": [t for t in ext.get("themes") or [] if t in kinds.THEMES],
    }
    # Everything the directory would refuse is refused here, before anything is written: the
    # import is all or nothing, so a bad address must stop it at the check, not half-way.
    email = fields["email"]
    if email and not _EMAIL.fullmatch(str(email)):
        errors.append(Problem(line=line, column="courriel", message=f"« {email} » n'est pas une adresse e-mail valide."))
    elif name:
        try:
            msgspec.convert(fields, StructureIn)
        except msgspec.ValidationError as exc:
            column = _V1_COLUMN.get(str(exc).rsplit("$.", 1)[-1].split("[")[0].rstrip("`"))
            errors.append(Problem(line=line, column=column, message=f"Valeur refusée : {exc}."))
    return fields


def _service_fields(item: dict[str, Any], line: int, errors: list[Problem], warnings: list[Problem]) -> dict[str, Any]:
    ext = _extension(item)
    reception = ext.get("modes_accueil") or item.get("modes_accueil")
    fields: dict[str, Any] = {
        "name": (item.get("nom") or "").strip(),
        "description": (item.get("description") or "").strip(),
        "type": _first(_codes(item.get("type"), ref.TYPES, line, "type", warnings)),
        "themes": _codes(item.get("thematiques"), ref.THEMATIQUES, line, "thematiques", warnings),
        "publics": _codes(item.get("publics"), ref.PUBLICS, line, "publics", warnings),
        "publics_details": item.get("publics_precisions"),
        "fees": _first(_codes(item.get("frais"), ref.FRAIS, line, "frais", warnings)),
        "fees_details": item.get("frais_precisions"),
        "access_conditions": item.get("conditions_acces"),
        "reception": _codes(reception, ref.RECEPTION, line, "modes_accueil", warnings),
        "referral_modes": _codes(item.get("modes_mobilisation"), ref.MODES_MOBILISATION, line, "modes_mobilisation", warnings),
        "referrers": _codes(item.get("mobilisable_par"), ref.MOBILISABLE_PAR, line, "mobilisable_par", warnings),
        "referral_details": item.get("mobilisation_precisions"),
        "referral_link": item.get("lien_mobilisation"),
        "phone": item.get("telephone"),
        "email": item.get("courriel"),
        "communes": ext.get("communes") or [],
        "opening_hours": ext.get("horaires") or ref.from_osm(item.get("horaires_accueil")),
    }
    if ref.TOUS_PUBLICS in fields["publics"] and len(fields["publics"]) > 1:
        warnings.append(
            Problem(line=line, column="publics", message="« tous-publics » avec d'autres publics : seuls les autres sont gardés.")
        )
        fields["publics"] = [p for p in fields["publics"] if p != ref.TOUS_PUBLICS]
    for name in ("nom", "description"):
        if not (item.get(name) or "").strip():
            errors.append(Problem(line=line, column=name, message=f"Le champ « {name} » du service est obligatoire."))
    if not errors or all(p.line != line for p in errors):
        try:
            check_offer(fields)
            msgspec.convert(fields, ServiceIn)
        except Exception as exc:  # a Refused or a ValidationError: both say what is wrong
            errors.append(Problem(line=line, column=getattr(exc, "field", None), message=getattr(exc, "message", str(exc))))
    return fields


def read_payload(raw: bytes, fmt: str = "json", services_csv: bytes | None = None) -> dict[str, list[Any]]:
    """``{"structures", "services"}`` of a v1 file: JSON (an object with both lists, or a list of
    structures) or CSV (the structures' file, and the services' one when given)."""
    text = raw.decode("utf-8-sig")
    if fmt == "csv":
        return {"structures": from_csv(text), "services": from_csv(services_csv.decode("utf-8-sig")) if services_csv else []}
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise invalid(f"Le fichier n'est pas un JSON valide (ligne {getattr(exc, 'lineno', '?')}) : {exc}", "fichier") from None
    if isinstance(payload, list):
        return {"structures": payload, "services": []}
    if not isinstance(payload, dict) or not isinstance(payload.get("structures", []), list):
        raise invalid("Le JSON doit contenir une liste « structures » (et une liste « services »).", "fichier")
    return {"structures": payload.get("structures", []), "services": payload.get("services", []) or []}


def import_v1(
    trame: Trame, territory: str, payload: dict[str, list[Any]], *, author: str, dry_run: bool = True, effective: str | None = None
) -> ImportReport:
    """Import v1 structures and their services. Lines are numbered in the file's order: the
    structures from 1, then the services. A structure already in the directory (same name) is
    kept and receives the services; each record takes effect at its ``date_maj`` unless
    ``effective`` is given."""
    items, offered = payload["structures"], payload["services"]
    report = ImportReport(format="datainclusion-v1", dry_run=dry_run, lines=len(items) + len(offered), valid=0, imported=False)
    existing = {s.name.strip().casefold(): s for s in current_structures(trame, territory)}
    structures: list[tuple[int, str, dict[str, Any], str | None]] = []
    ids: set[str] = set()
    for line, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            report.errors.append(Problem(line=line, column=None, message="Chaque structure est un objet JSON."))
            continue
        errors: list[Problem] = []
        fields = _structure_fields(item, line, errors, report.warnings)
        report.errors.extend(errors)
        if not errors:
            ext = _extension(item)
            structures.append((line, str(item.get("id") or f"ligne-{line}"), fields, ext.get("entree") or item.get("date_maj")))
            ids.add(str(item.get("id")))
    services_in: list[tuple[int, str, dict[str, Any], str | None]] = []
    for number, item in enumerate(offered, start=1):
        line = len(items) + number
        if not isinstance(item, dict):
            report.errors.append(Problem(line=line, column=None, message="Chaque service est un objet JSON."))
            continue
        errors = []
        fields = _service_fields(item, line, errors, report.warnings)
        if str(item.get("structure_id")) not in ids:
            errors.append(Problem(line=line, column="structure_id", message="Ce service renvoie à une structure absente du fichier."))
        report.errors.extend(errors)
        if not errors:
            services_in.append((line, str(item["structure_id"]), fields, item.get("date_maj")))
    report.valid = len(structures) + len(services_in)
    if report.errors or dry_run:
        return report
    svc, d = services(trame), directory(trame)
    created: dict[str, str] = {}
    joined = {v1: day for _, v1, _, day in structures}
    relays: list[tuple[str, list[str]]] = []
    by_v1 = {v1: fields for _, v1, fields, _ in structures}
    for line, v1, fields, day in structures:
        found = existing.get(fields["name"].casefold())
        if found is not None:
            created[v1] = found.id
            report.skipped.append(ImportedLine(line=line, name=fields["name"], id=found.id, reason="déjà dans l'annuaire"))
            continue
        data = msgspec.convert({**fields, "effective": effective or day, "reason": f"Import data·inclusion v1, ligne {line}"}, StructureIn)
        created[v1], _ = d.create_structure(territory, data, author)
        report.created.append(ImportedLine(line=line, name=fields["name"], id=created[v1]))
    for item in items:
        ext = _extension(item)
        linked = [created[r] for r in ext.get("relais") or [] if r in created]
        if linked and str(item.get("id")) in by_v1:
            relays.append((created[str(item["id"])], linked))
    from plugins.annuaire.schemas import StructurePatch

    for sid, linked in relays:
        first = d.history(territory, structure_id=sid)[0].effective
        d.update_structure(territory, sid, StructurePatch(relays=linked, effective=first), d.version(territory, sid), author)
    for line, structure_v1_id, fields, day in services_in:
        body = {k: v for k, v in fields.items() if k in OFFER_FIELDS}
        start = max(filter(None, (day, joined.get(structure_v1_id)))) if day else joined.get(structure_v1_id)
        offer = msgspec.convert({**body, "effective": effective or start, "reason": f"Import data·inclusion v1, ligne {line}"}, ServiceIn)
        service_id = svc.offer(territory, created[structure_v1_id], offer, author=author)
        report.created.append(ImportedLine(line=line, name=fields["name"], id=service_id))
    report.imported = True
    return report
