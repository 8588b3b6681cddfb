"""A structure's life in the network: confirmed as still correct, leaving, coming back, merging
into another."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.response import Template

from core import clock
from core.application import Trame
from core.refusals import Refused
from core.web.access import author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire.display import COORD, EDIT, Req, S, common, last_name
from plugins.annuaire.form_checks import check_date, refused
from plugins.annuaire.schemas import StructureOut
from plugins.annuaire.service import directory
from plugins.annuaire.sheet_pages import done, may_edit


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
    check_date(values["effective"], "effective", errors, required=True)
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
        except Refused as exc:
            refused(exc, errors, "effective")
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


ROUTES = [confirm, leave_form, leave_save, rejoin_form, rejoin_save, merge_form, merge_save]
