"""Project sheet pages: the sheets, one sheet (printable, with its history), and its forms.
Members read; the coordinator edits; a structure's referent writes its part of the shared
diagnosis. No JavaScript."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core import structures
from core.application import Trame
from core.refusals import Refused
from core.web.access import access_of, author_of
from core.web.forms import Form, one
from core.web.rendering import render
from plugins.annuaire import public as annuaire
from plugins.projets.service import SCOPES, SECRECY, STATUSES, SheetIn, projects
from plugins.rencontres import public as rencontres

P = "/t/{territory:str}/projets"


def _sheet_in(data: dict[str, Any]) -> SheetIn:
    return SheetIn(
        title=one(data, "title"),
        scope=one(data, "scope") or "groupe",
        group=one(data, "group"),
        summary=one(data, "summary"),
        objectives=one(data, "objectives").splitlines(),
        status=one(data, "status") or "idee",
        starts_on=one(data, "starts_on") or None,
        ends_on=one(data, "ends_on") or None,
    )


@get(f"{P}/", sync_to_thread=True)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return render(request, "projets/index.html", projects=projects(trame).projects(territory), scopes=SCOPES, statuses=STATUSES)


@post(f"{P}/nouveau", opt={"role": "coordinator"}, sync_to_thread=True)
def create(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Template | Redirect:
    try:
        pid = projects(trame).open(territory, _sheet_in(data), author=author_of(request))
    except Refused as exc:
        return render(
            request, "projets/index.html", status_code=exc.status, projects=projects(trame).projects(territory), scopes=SCOPES,
            statuses=STATUSES, error=exc,
        )  # fmt: skip
    return Redirect(f"/t/{territory}/projets/{pid}", status_code=303)


def _page(request: Request[Any, Any, Any], trame: Trame, territory: str, pid: str, error: Refused | None = None) -> Template:
    svc = projects(trame)
    access = access_of(request)
    choices = structures.choices(trame, territory)
    sheet = svc.sheet(territory, pid)
    attached = {a["action_id"] for a in sheet["actions"]}
    found = rencontres.meetings(trame).open_actions(territory)
    open_actions = [a for a in found if a["action_id"] not in attached]
    return render(
        request,
        "projets/sheet.html",
        status_code=error.status if error else 200,
        p=sheet,
        history=svc.history(territory, pid),
        choices=choices,
        own=[(i, n) for i, n in choices if access.may_edit_structure(i)],
        open_actions=open_actions,
        themes=annuaire.THEMES,
        scopes=SCOPES,
        statuses=STATUSES,
        secrecy=SECRECY,
        error=error,
    )


@get(f"{P}/{{pid:uuid}}", sync_to_thread=True)
def sheet(request: Request[Any, Any, Any], trame: Trame, territory: str, pid: UUID) -> Template:
    return _page(request, trame, territory, str(pid))


COORDINATOR_ACTIONS = {"fiche", "partenaire", "retrait", "etape", "etape-faite", "suite", "document", "document-retrait"}


@post(f"{P}/{{pid:uuid}}/{{what:str}}", opt={"role": "referent"}, sync_to_thread=True)
def change(request: Request[Any, Any, Any], trame: Trame, territory: str, pid: UUID, what: str, data: Form) -> Template | Redirect:
    svc, project_id, author, access = projects(trame), str(pid), author_of(request), access_of(request)
    if what in COORDINATOR_ACTIONS and not access.at_least("coordinator"):
        raise PermissionDeniedException("Réservé à la coordination du territoire.")
    try:
        if what == "fiche":
            svc.amend(territory, project_id, _sheet_in(data), author=author, reason=one(data, "reason"))
        elif what == "partenaire":
            svc.involve(territory, project_id, one(data, "structure_id"), author=author, role=one(data, "role"))
        elif what == "retrait":
            svc.withdraw(territory, project_id, one(data, "structure_id"), author=author)
        elif what == "etape":
            svc.plan_step(
                territory, project_id, author=author, title=one(data, "step_title"), due=one(data, "due") or None,
                owner_structure_id=one(data, "owner_structure_id") or None,
            )  # fmt: skip
        elif what == "etape-faite":
            svc.complete_step(territory, project_id, one(data, "step_id"), author=author)
        elif what == "suite":
            svc.attach_action(territory, project_id, one(data, "action_id"), author=author)
        elif what == "document":
            svc.link_document(territory, project_id, author=author, title=one(data, "doc_title"), url=one(data, "url"))
        elif what == "document-retrait":
            svc.remove_document(territory, project_id, one(data, "document_id"), author=author)
        elif what == "besoin":
            structure_id = one(data, "need_structure_id")
            if structure_id and not access.may_edit_structure(structure_id):
                raise PermissionDeniedException("Vous écrivez au nom de votre seule structure.")
            svc.observe_need(
                territory, project_id, author=author, structure_id=structure_id, theme=one(data, "theme"), need=one(data, "need"),
                source=one(data, "source"),
            )  # fmt: skip
        elif what == "besoin-retrait":
            svc.withdraw_need(territory, project_id, one(data, "need_id"), author=author, may=access.may_edit_structure)
        else:
            raise Refused("Action inconnue.")
    except Refused as exc:
        return _page(request, trame, territory, project_id, exc)
    return Redirect(f"/t/{territory}/projets/{project_id}", status_code=303)


ROUTES = [index, create, sheet, change]
