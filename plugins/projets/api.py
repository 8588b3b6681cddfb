"""JSON API of the project sheets (OpenAPI tag « projets »), under ``/api/v1/territories/{slug}/projets/``.

Members read every sheet and its history; the coordination opens and amends sheets, involves
partners, plans steps, attaches the meetings' follow-up actions and links documents; a
structure's referent (or the coordination) writes and withdraws its own part of the shared
diagnosis, as on the pages. Errors are the core's French ``{"detail", "status"}``; a POST may
carry an ``Idempotency-Key`` (the core's middleware replays its first answer).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, delete, get, post, put
from litestar.exceptions import PermissionDeniedException

from core.application import Trame
from core.refusals import absent
from core.web.access import access_of, author_of
from plugins.projets.service import HistoryLine, SheetIn, projects

BASE = "/api/v1/territories/{slug:str}/projets"
ONE = BASE + "/{project_id:str}"
TAGS = ["projets"]
COORDINATOR = {"role": "coordinator"}
Req = Request[Any, Any, Any]

Line = Annotated[str, msgspec.Meta(max_length=300)]
Day = Annotated[str, msgspec.Meta(max_length=20, description="Une date : 2012-09-14 ou 14/09/2012")]
OWN_STRUCTURE_ONLY = "Vous écrivez au nom de votre seule structure."


# -- what a client sends --------------------------------------------------------------------------
class ProjectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Line
    scope: Literal["groupe", "reseau"] = "groupe"
    group: Line = ""
    summary: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    objectives: Annotated[list[Line], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    status: Literal["idee", "en-cours", "suspendu", "termine"] = "idee"
    starts_on: Day | None = None
    ends_on: Day | None = None

    def sheet(self) -> SheetIn:
        return SheetIn(
            title=self.title,
            scope=self.scope,
            group=self.group,
            summary=self.summary,
            objectives=self.objectives,
            status=self.status,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )


class ProjectChange(ProjectIn, kw_only=True, forbid_unknown_fields=True):
    """Every field takes the value sent (as the page's form does); ``reason`` stays in the history."""

    reason: Line | None = None


class PartnerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: Annotated[str, msgspec.Meta(max_length=80)]
    role: Line = ""


class StepIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Line
    due: Day | None = None
    owner_structure_id: Annotated[str, msgspec.Meta(max_length=80)] | None = None


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action_id: Annotated[str, msgspec.Meta(max_length=80, description="Une suite à donner d'une rencontre du territoire")]


class DocumentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Line
    url: Annotated[str, msgspec.Meta(max_length=2000, description="https://…")]


class NeedIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: Annotated[str, msgspec.Meta(max_length=80, description="La structure qui a observé le besoin")]
    theme: Annotated[str, msgspec.Meta(max_length=80, description="Un thème de l'annuaire (logement, emploi-insertion…)")]
    need: Annotated[str, msgspec.Meta(max_length=4000)]
    source: Annotated[str, msgspec.Meta(max_length=1000)]


# -- what it reads --------------------------------------------------------------------------------
class ProjectSummaryOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    scope: str
    group: str
    status: str
    status_label: str
    starts_on: str | None
    ends_on: str | None
    opened_at: str
    updated_at: str


class PartnerOut(msgspec.Struct, kw_only=True):
    structure_id: str
    name: str
    role: str
    since: str


class StepOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    due: str | None
    owner_structure_id: str | None
    owner_name: str
    done_at: str | None


class ActionOut(msgspec.Struct, kw_only=True):
    action_id: str
    title: str
    status: str
    due: str | None
    owner_structure_id: str | None
    owner_name: str
    meeting_id: str
    meeting_title: str
    meeting_day: str


class DocumentOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    url: str
    linked_at: str


class NeedOut(msgspec.Struct, kw_only=True):
    id: str
    structure_id: str
    structure_name: str
    theme: str
    theme_label: str
    need: str
    source: str
    observed_at: str


class ProjectOut(ProjectSummaryOut, kw_only=True):
    summary: str
    objectives: list[str]
    partners: list[PartnerOut]
    steps: list[StepOut]
    actions: list[ActionOut]
    documents: list[DocumentOut]
    needs: list[NeedOut]


class HistoryOut(msgspec.Struct, kw_only=True):
    label: str
    detail: str
    author: str
    author_name: str
    recorded_at: str
    reason: str | None


def _summary_fields(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["project_id"],
        "title": p["title"],
        "scope": p["scope"],
        "group": p["grp"],
        "status": p["status"],
        "status_label": p["status_label"],
        "starts_on": p["starts_on"],
        "ends_on": p["ends_on"],
        "opened_at": p["opened_at"],
        "updated_at": p["updated_at"],
    }


def _step(s: dict[str, Any]) -> StepOut:
    return StepOut(
        id=s["step_id"], title=s["title"], due=s["due"], owner_structure_id=s["owner_structure_id"], owner_name=s["owner_name"],
        done_at=s["done_at"],
    )  # fmt: skip


def _document(d: dict[str, Any]) -> DocumentOut:
    return DocumentOut(id=d["document_id"], title=d["title"], url=d["url"], linked_at=d["linked_at"])


def _action(a: dict[str, Any]) -> ActionOut:
    return ActionOut(
        action_id=a["action_id"], title=a["title"], status=a["status"], due=a["due"], owner_structure_id=a["owner_structure_id"],
        owner_name=a["owner_name"], meeting_id=a["meeting_id"], meeting_title=a["meeting_title"], meeting_day=a["meeting_day"],
    )  # fmt: skip


def _needs(sheet: dict[str, Any]) -> list[NeedOut]:
    return [
        NeedOut(
            id=n["need_id"],
            structure_id=n["structure_id"],
            structure_name=n["structure_name"],
            theme=n["theme"],
            theme_label=label,
            need=n["need"],
            source=n["source"],
            observed_at=n["observed_at"],
        )
        for label, needs in sheet["diagnosis"]
        for n in needs
    ]


def project_out(trame: Trame, slug: str, project_id: str) -> ProjectOut:
    p = projects(trame).sheet(slug, project_id)
    return ProjectOut(
        **_summary_fields(p),
        summary=p["summary"],
        objectives=list(p["objectives"]),
        partners=[
            PartnerOut(structure_id=x["structure_id"], name=x["structure_name"], role=x["role"], since=x["since"]) for x in p["partners"]
        ],
        steps=[_step(s) for s in p["steps"]],
        actions=[_action(a) for a in p["actions"]],
        documents=[_document(d) for d in p["documents"]],
        needs=_needs(p),
    )


def _history(h: HistoryLine) -> HistoryOut:
    return HistoryOut(
        label=h.label, detail=h.detail, author=h.author, author_name=h.author_name, recorded_at=h.recorded_at, reason=h.reason
    )


# -- routes ---------------------------------------------------------------------------------------
@get(f"{BASE}/", tags=TAGS, sync_to_thread=True)
def list_projects(trame: Trame, slug: str) -> list[ProjectSummaryOut]:
    """The territory's project sheets, the latest opened first."""
    return [ProjectSummaryOut(**_summary_fields(p)) for p in projects(trame).projects(slug)]


@post(f"{BASE}/", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def open_project(request: Req, trame: Trame, slug: str, data: ProjectIn) -> ProjectOut:
    """Open a project sheet for a working group (``scope`` « groupe ») or the whole network (« reseau »)."""
    return project_out(trame, slug, projects(trame).open(slug, data.sheet(), author=author_of(request)))


@get(ONE, tags=TAGS, sync_to_thread=True)
def get_project(trame: Trame, slug: str, project_id: str) -> ProjectOut:
    """The whole sheet: partners, steps, the meetings' follow-up actions, documents and the shared diagnosis."""
    return project_out(trame, slug, project_id)


@put(ONE, opt=COORDINATOR, tags=TAGS, sync_to_thread=True)
def amend_project(request: Req, trame: Trame, slug: str, project_id: str, data: ProjectChange) -> ProjectOut:
    """Amend the sheet's description: every field takes the value sent; ``reason`` stays in its history."""
    projects(trame).amend(slug, project_id, data.sheet(), author=author_of(request), reason=data.reason)
    return project_out(trame, slug, project_id)


@get(ONE + "/historique", tags=TAGS, sync_to_thread=True)
def project_history(trame: Trame, slug: str, project_id: str) -> list[HistoryOut]:
    """Every change of the sheet, the latest first, with its author, time and reason."""
    return [_history(h) for h in projects(trame).history(slug, project_id)]


@post(ONE + "/partenaires", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def involve_partner(request: Req, trame: Trame, slug: str, project_id: str, data: PartnerIn) -> ProjectOut:
    """Involve a directory structure in the project (again: its role is replaced)."""
    projects(trame).involve(slug, project_id, data.structure_id, author=author_of(request), role=data.role)
    return project_out(trame, slug, project_id)


@delete(ONE + "/partenaires/{structure_id:str}", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def withdraw_partner(request: Req, trame: Trame, slug: str, project_id: str, structure_id: str) -> ProjectOut:
    projects(trame).withdraw(slug, project_id, structure_id, author=author_of(request))
    return project_out(trame, slug, project_id)


def _one_step(trame: Trame, slug: str, project_id: str, step_id: str) -> StepOut:
    found = [s for s in projects(trame).sheet(slug, project_id)["steps"] if s["step_id"] == step_id]
    if not found:
        raise absent("Cette étape n'existe pas dans ce projet.")
    return _step(found[0])


@post(ONE + "/etapes", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def plan_step(request: Req, trame: Trame, slug: str, project_id: str, data: StepIn) -> StepOut:
    """Plan a step, with its due date and the structure in charge (both optional)."""
    step_id = projects(trame).plan_step(
        slug, project_id, author=author_of(request), title=data.title, due=data.due, owner_structure_id=data.owner_structure_id or None
    )
    return _one_step(trame, slug, project_id, step_id)


@post(ONE + "/etapes/{step_id:str}/realisee", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def complete_step(request: Req, trame: Trame, slug: str, project_id: str, step_id: str) -> StepOut:
    """Mark a step done (once: again is a 409)."""
    projects(trame).complete_step(slug, project_id, step_id, author=author_of(request))
    return _one_step(trame, slug, project_id, step_id)


@post(ONE + "/suites", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def attach_action(request: Req, trame: Trame, slug: str, project_id: str, data: ActionIn) -> ActionOut:
    """Follow a meeting's follow-up action on the sheet (it is still closed on its meeting)."""
    projects(trame).attach_action(slug, project_id, data.action_id, author=author_of(request))
    (found,) = [a for a in projects(trame).sheet(slug, project_id)["actions"] if a["action_id"] == data.action_id]
    return _action(found)


@post(ONE + "/documents", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def link_document(request: Req, trame: Trame, slug: str, project_id: str, data: DocumentIn) -> DocumentOut:
    """Link a document (its title and address: Trame keeps no file)."""
    document_id = projects(trame).link_document(slug, project_id, author=author_of(request), title=data.title, url=data.url)
    (found,) = [d for d in projects(trame).sheet(slug, project_id)["documents"] if d["document_id"] == document_id]
    return _document(found)


@delete(ONE + "/documents/{document_id:str}", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def remove_document(request: Req, trame: Trame, slug: str, project_id: str, document_id: str) -> ProjectOut:
    projects(trame).remove_document(slug, project_id, document_id, author=author_of(request))
    return project_out(trame, slug, project_id)


@post(ONE + "/besoins", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=201)
def observe_need(request: Req, trame: Trame, slug: str, project_id: str, data: NeedIn) -> NeedOut:
    """Add a need observed to the shared diagnosis, for the referent's own structure (the
    coordination writes for any). Needs only: never a person helped (shared secrecy)."""
    if data.structure_id and not access_of(request).may_edit_structure(data.structure_id):
        raise PermissionDeniedException(OWN_STRUCTURE_ONLY)
    svc = projects(trame)
    need_id = svc.observe_need(
        slug, project_id, author=author_of(request), structure_id=data.structure_id, theme=data.theme, need=data.need, source=data.source
    )
    (found,) = [n for n in _needs(svc.sheet(slug, project_id)) if n.id == need_id]
    return found


@delete(ONE + "/besoins/{need_id:str}", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True, status_code=200)
def withdraw_need(request: Req, trame: Trame, slug: str, project_id: str, need_id: str) -> ProjectOut:
    """Withdraw a need from the diagnosis: the structure that wrote it, or the coordination."""
    projects(trame).withdraw_need(slug, project_id, need_id, author=author_of(request), may=access_of(request).may_edit_structure)
    return project_out(trame, slug, project_id)


ROUTES = [
    list_projects,
    open_project,
    get_project,
    amend_project,
    project_history,
    involve_partner,
    withdraw_partner,
    plan_step,
    complete_step,
    attach_action,
    link_document,
    remove_document,
    observe_need,
    withdraw_need,
]
