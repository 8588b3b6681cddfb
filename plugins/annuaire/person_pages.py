"""A person of the directory: her sheet and roles at a date, her professional details (with a
conflict shown side by side), and her erasure."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Redirect, Template

from core.application import Trame
from core.refusals import Refused, absent, invalid
from core.store import Conflict
from core.web.access import access_of, author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire.display import COORD, EDIT, READ, P, Req, Shower, common, ids_in, known, names_of
from plugins.annuaire.form_checks import PERSON_INPUTS, refused, validation_message
from plugins.annuaire.moments import moment
from plugins.annuaire.schemas import (
    PersonOut,
    PersonPatch,
)
from plugins.annuaire.service import directory


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
        raise absent("Cette personne n'existe pas sur ce territoire.")
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
        raise absent("Cette personne n'existe pas sur ce territoire.")
    if not may_edit_person(request, trame, territory, person_id):
        raise PermissionDeniedException(
            "Seuls la coordination et le ou la référent·e d'une structure où cette personne est contact peuvent modifier ses coordonnées.",
        )
    if person.erased:
        raise HTTPException(
            status_code=410, detail="Les données de cette personne ont été effacées : elles ne peuvent plus être modifiées."
        )
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
        raise invalid("Le formulaire est incomplet (version manquante) : rechargez la page.", "version") from None
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
    except Refused as exc:
        refused(exc, errors, inputs=PERSON_INPUTS)
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
        raise absent("Cette personne n'existe pas sur ce territoire.")
    return render(request, "annuaire/erase.html", person=person, errors={}, reason="", **common())


@post(f"{P}/personnes/{{person_id:str}}/effacer", opt=COORD, sync_to_thread=True)
def erase_save(request: Req, trame: Trame, territory: str, person_id: str, data: Form) -> Response[Any]:
    svc = directory(trame)
    person = svc.person(territory, person_id)
    if person is None:
        raise absent("Cette personne n'existe pas sur ce territoire.")
    if one(data, "confirmation") != "oui":
        errors = {"confirmation": "Cochez la case pour confirmer que vous comprenez que l'effacement est définitif."}
        return render(request, "annuaire/erase.html", status_code=400, person=person, errors=errors, reason=one(data, "reason"), **common())
    svc.erase_person(territory, person_id, author_of(request), one(data, "reason") or None)
    return Redirect(f"/t/{territory}/annuaire/personnes/{person_id}", status_code=303)


ROUTES = [person_page, person_edit_form, person_edit_save, erase_form, erase_save]
