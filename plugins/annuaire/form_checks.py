"""Reading and checking the directory's forms: the identity sheet as fields, what a person can
fix field by field before the service's checks, and a service's refusal put beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core.refusals import Refused, Why, invalid
from core.web.forms import many, one
from plugins.annuaire import kinds
from plugins.annuaire.schemas import StructureOut
from plugins.annuaire.service import when

# -- the identity sheet as a form ------------------------------------------------------------
TEXT_FIELDS = ("name", "acronym", "email", "phone", "website", "address", "opening_hours", "missions")
LIST_FIELDS = ("communes", "publics")
CHOICE_FIELDS = ("roles", "themes")
SHEET_FIELDS = (*TEXT_FIELDS, "kind", "public", *LIST_FIELDS, *CHOICE_FIELDS, "relays")
MAX_LEN = {"missions": 4000}

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


def validation_message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """(field, French message) for a msgspec validation error of a form."""
    text = str(exc)
    field = text.rsplit("$.", 1)[-1].split("[")[0].strip("`") if "$." in text else "_form"
    if "length <=" in text:
        return field, "Texte trop long."
    if "length >=" in text:
        return field, "Ce champ est obligatoire."
    return field, f"Valeur refusée ({text})."


def check_date(text: str, field: str, errors: dict[str, str], *, required: bool = False) -> str | None:
    if not text:
        if required:
            errors[field] = "Indiquez une date."
        return None
    try:
        return when(text, LABELS.get(field, field), field=field)
    except Refused as exc:
        refused(exc, errors)
        return None


#: A person's inputs on the contact and person forms, by the service's field names.
PERSON_INPUTS = {"name": "person_name", "email": "person_email", "phone": "person_phone"}


def refused(exc: Refused, errors: dict[str, str], default: str = "_form", inputs: Mapping[str, str] | None = None) -> None:
    """Note a service's refusal beside the input it names (``inputs`` renames the service's field to
    the form's; without a field, ``default``), without the input's label that the page shows beside
    it (``Refused.label``). What is not bad input (absent: 404) keeps the error page."""
    if exc.why is not Why.INVALID:
        raise exc
    if exc.field:
        errors[(inputs or {}).get(exc.field, exc.field)] = exc.beside
    else:
        errors[default] = exc.detail


def page_number(page: str | None) -> int:
    """The ``page`` of a paged list (1 when absent); a mistyped one is a 400 that says so."""
    try:
        return max(1, int(page or 1))
    except ValueError:
        raise invalid(f"« {page} » n'est pas un nombre.", "page", label="Numéro de page (page)") from None
