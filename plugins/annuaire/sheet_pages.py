"""Creating and editing a structure's identity sheet, with a conflict shown side by side when
someone saved it meanwhile. Writes redirect (303) to the sheet."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core.application import Trame
from core.refusals import Refused, absent, invalid
from core.store import Conflict
from core.web.access import access_of, author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire.display import COORD, EDIT, P, Req, S, Shower, common, names_of
from plugins.annuaire.form_checks import (
    CHOICE_FIELDS,
    LIST_FIELDS,
    SHEET_FIELDS,
    check_date,
    check_sheet,
    refused,
    sheet_from_form,
    sheet_of,
    validation_message,
)
from plugins.annuaire.schemas import (
    StructureIn,
    StructureOut,
    StructurePatch,
)
from plugins.annuaire.service import directory


def may_edit(request: Req, structure_id: str) -> None:
    if not access_of(request).may_edit_structure(structure_id):
        raise PermissionDeniedException("Seuls la coordination et le ou la référent·e de cette structure peuvent modifier sa fiche.")


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
    _add_relay(trame, territory, values, None, errors)
    check_date(values["effective"], "effective", errors)
    if not errors:
        try:
            payload = {k: values[k] for k in SHEET_FIELDS} | {"effective": values["effective"] or None, "reason": values["reason"] or None}
            data_in = msgspec.convert(payload, StructureIn)
            sid, _ = directory(trame).create_structure(territory, data_in, author_of(request))
            return done(territory, sid, "creee")
        except msgspec.ValidationError as exc:
            field, message = validation_message(exc)
            errors[field] = message
        except Refused as exc:
            refused(exc, errors)
    return _form_page(request, trame, territory, template="annuaire/new.html", values=values, errors=errors, status_code=400)


def _add_relay(trame: Trame, territory: str, values: dict[str, Any], structure_id: str | None, errors: dict[str, str]) -> None:
    """The relay typed by name joins the sheet's relays (and its input empties) once it is found."""
    relay = resolve_relay(trame, territory, values["relay_add"], structure_id, errors)
    if relay and relay not in values["relays"]:
        values["relays"].append(relay)
        values["relay_add"] = ""


def current_sheet(trame: Trame, territory: str, structure_id: str) -> StructureOut:
    s = directory(trame).get_structure(territory, structure_id)
    if s is None:
        directory(trame).version(territory, structure_id)  # 404 if unknown
        raise absent("Cette structure ne fait plus partie du réseau : sa fiche ne peut plus être modifiée.")
    return s


@get(f"{S}/modifier", opt=EDIT, sync_to_thread=False)
def edit_form(request: Req, trame: Trame, territory: str, structure_id: str) -> Template:
    may_edit(request, structure_id)
    s = current_sheet(trame, territory, structure_id)
    values = sheet_of(s) | {"effective": "", "reason": "", "relay_add": ""}
    return _form_page(
        request, trame, territory, template="annuaire/edit.html", values=values, s=s, version=s.version,
        base=json.dumps(sheet_of(s), ensure_ascii=False), conflict=None,
    )  # fmt: skip


@post(f"{S}/modifier", opt=EDIT, sync_to_thread=True)
def edit_save(request: Req, trame: Trame, territory: str, structure_id: str, data: Form) -> Response[Any]:
    may_edit(request, structure_id)
    svc = directory(trame)
    s = current_sheet(trame, territory, structure_id)
    values = sheet_from_form(data)
    values.update(effective=one(data, "effective"), reason=one(data, "reason"), relay_add=one(data, "relay_add"))
    try:
        version = int(one(data, "version"))
    except ValueError:
        raise invalid("Le formulaire est incomplet (version de la fiche manquante) : rechargez la page.", "version") from None
    try:
        base = json.loads(one(data, "base") or "null")
    except ValueError:
        base = None
    errors: dict[str, str] = {}
    check_sheet(values, errors)
    _add_relay(trame, territory, values, structure_id, errors)
    check_date(values["effective"], "effective", errors)

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
        return _conflict(request, trame, territory, current_sheet(trame, territory, structure_id), values, base)
    except msgspec.ValidationError as exc:
        field, message = validation_message(exc)
        errors[field] = message
        return again(400)
    except Refused as exc:
        refused(exc, errors)
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


ROUTES = [new_form, new_save, edit_form, edit_save]
