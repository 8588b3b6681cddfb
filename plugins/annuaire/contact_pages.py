"""A structure's contacts: a person named in a role (found or registered on the way), the end
of a role, and the correction of what was recorded."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.response import Template

from core import clock
from core.application import Trame
from core.refusals import Refused, absent
from core.web.access import author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire import kinds
from plugins.annuaire.display import EDIT, Req, S, common
from plugins.annuaire.form_checks import PERSON_INPUTS, check_date, refused, validation_message
from plugins.annuaire.schemas import (
    ContactEnd,
    ContactIn,
    ContactOut,
    ContactPatch,
    PersonIn,
    StructureOut,
)
from plugins.annuaire.service import CONTACT_ROLES, directory
from plugins.annuaire.sheet_pages import current_sheet, done, may_edit


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
    raise absent("Ce contact n'existe pas pour cette structure.")


@get(f"{S}/contacts/nouveau", opt=EDIT, sync_to_thread=False)
def contact_new_form(request: Req, trame: Trame, territory: str, structure_id: str, cherche: str | None = None) -> Template:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    text = (cherche or "").strip()
    people = directory(trame).search_people(territory, text) if text else []
    values = {"person_id": "nouvelle", "person_name": "", "person_email": "", "person_phone": "", "role": "referent", "theme": "",
              "title": "", "since": clock.paris_today(), "reason": ""}  # fmt: skip
    return _contact_page(request, trame, territory, s, "nouveau", values, people=people, cherche=text)


@post(f"{S}/contacts/nouveau", opt=EDIT, sync_to_thread=True)
def contact_new_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    svc = directory(trame)
    s = current_sheet(trame, territory, structure_id)
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
    check_date(values["since"], "since", errors)
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
        except Refused as exc:
            refused(exc, errors, inputs=PERSON_INPUTS)
    people = svc.search_people(territory, values["cherche"]) if values["cherche"] else []
    return _contact_page(request, trame, territory, s, "nouveau", values, errors, 400, people=people, cherche=values["cherche"])


@get(f"{S}/contacts/{{contact_id:str}}/fin", opt=EDIT, sync_to_thread=False)
def contact_end_form(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str) -> Template:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    return _contact_page(request, trame, territory, s, "fin", {"until": clock.paris_today(), "reason": ""}, contact=c)


@post(f"{S}/contacts/{{contact_id:str}}/fin", opt=EDIT, sync_to_thread=True)
def contact_end_save(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {"until": one(data, "until"), "reason": one(data, "reason")}
    errors: dict[str, str] = {}
    check_date(values["until"], "until", errors, required=True)
    if not errors:
        try:
            end = ContactEnd(until=values["until"], reason=values["reason"] or None)
            directory(trame).end_contact(territory, structure_id, contact_id, end, author_of(request))
            return done(territory, structure_id, "fin")
        except Refused as exc:
            refused(exc, errors, "until")
    return _contact_page(request, trame, territory, s, "fin", values, errors, 400, contact=c)


@get(f"{S}/contacts/{{contact_id:str}}/corriger", opt=EDIT, sync_to_thread=False)
def contact_fix_form(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str) -> Template:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {"role": c.role, "theme": c.theme or "", "title": c.title or "", "since": c.since, "until": c.until or "", "reason": ""}
    return _contact_page(request, trame, territory, s, "corriger", values, contact=c)


@post(f"{S}/contacts/{{contact_id:str}}/corriger", opt=EDIT, sync_to_thread=True)
def contact_fix_save(request: Req, trame: Trame, territory: str, structure_id: str, contact_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    c = _contact(trame, territory, structure_id, contact_id)
    values = {k: one(data, k) for k in ("role", "theme", "title", "since", "until", "reason")}
    errors: dict[str, str] = {}
    if values["role"] not in CONTACT_ROLES:
        errors["role"] = "Choisissez un rôle dans la liste."
    if values["theme"] and values["theme"] not in kinds.THEMES:
        errors["theme"] = "Choisissez un thème dans la liste."
    check_date(values["since"], "since", errors, required=True)
    check_date(values["until"], "until", errors)
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
        except Refused as exc:
            refused(exc, errors)
    return _contact_page(request, trame, territory, s, "corriger", values, errors, 400, contact=c)


ROUTES = [contact_new_form, contact_new_save, contact_end_form, contact_end_save, contact_fix_form, contact_fix_save]
