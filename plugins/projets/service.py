"""Project sheets: open and amend a sheet, involve partners, plan steps, attach the meetings'
follow-up actions, link documents, and write the shared diagnosis together.

Commands decide from the sheet's stream through :func:`core.commands.run` and refuse with
:class:`core.refusals.Refused`; structure ids are checked with
:func:`core.structures.require_structure` (another territory's: 404). Queries read the
projection; the history is the sheet's stream itself (author, time, reason of each change).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core import clock, journal
from core.commands import History, run
from core.database import Row
from core.events import Event
from core.refusals import absent, conflict, invalid
from core.store import Context
from core.structures import require_structure
from plugins.annuaire import public as annuaire
from plugins.projets import events as ev
from plugins.rencontres import public as rencontres

if TYPE_CHECKING:
    from core.application import Trame

SCOPES = {"groupe": "Groupe de travail", "reseau": "Tout le réseau"}
STATUSES = {"idee": "En projet", "en-cours": "En cours", "suspendu": "Suspendu", "termine": "Terminé"}
SECRECY = "Décrivez des besoins, jamais une personne accompagnée ni une situation reconnaissable (secret partagé)."


def stream_of(project_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:projets:{project_id}")


def _day(value: str | None, field: str) -> str | None:
    if not (value or "").strip():
        return None
    try:
        return clock.parse_day(value or "").isoformat()
    except clock.BadInstant as exc:
        raise invalid(f"{exc}.", field) from None


def _required(value: str | None, field: str, message: str, limit: int = 300) -> str:
    text = (value or "").strip()
    if not text:
        raise invalid(message, field)
    if len(text) > limit:
        raise invalid(f"{limit} caractères au plus.", field)
    return text


@dataclass(frozen=True)
class SheetIn:
    title: str
    scope: str = "groupe"
    group: str = ""
    summary: str = ""
    objectives: Sequence[str] = ()
    status: str = "idee"
    starts_on: str | None = None
    ends_on: str | None = None


@dataclass
class _State:
    partners: set[str]
    steps: dict[str, bool]  # step id -> done
    actions: set[str]
    documents: set[str]
    needs: dict[str, str]  # need id -> structure id


def _fold(history: History, stream: UUID, territory: str) -> _State:
    if not history.exists(stream) or history.of(stream)[0].territory != territory:
        raise absent("Cette fiche projet n'existe pas sur ce territoire.")
    s = _State(set(), {}, set(), set(), {})
    for rec in history.of(stream):
        e = rec.event
        if isinstance(e, ev.PartnerInvolved):
            s.partners.add(e.structure_id)
        elif isinstance(e, ev.PartnerWithdrawn):
            s.partners.discard(e.structure_id)
        elif isinstance(e, ev.StepPlanned):
            s.steps[e.step_id] = False
        elif isinstance(e, ev.StepDone):
            s.steps[e.step_id] = True
        elif isinstance(e, ev.ActionAttached):
            s.actions.add(e.action_id)
        elif isinstance(e, ev.DocumentLinked):
            s.documents.add(e.document_id)
        elif isinstance(e, ev.DocumentRemoved):
            s.documents.discard(e.document_id)
        elif isinstance(e, ev.NeedObserved):
            s.needs[e.need_id] = e.structure_id
        elif isinstance(e, ev.NeedWithdrawn):
            s.needs.pop(e.need_id, None)
    return s


@dataclass(frozen=True)
class HistoryLine:
    label: str
    author: str
    recorded_at: str
    reason: str | None
    detail: str
    author_name: str = ""  # the account's name or address, as a person reads it


class Projects:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    def _run(
        self, territory: str, author: str, project_id: str, decide: Callable[[_State], list[Event]], reason: str | None = None
    ) -> None:
        stream = stream_of(project_id)

        def decided(history: History) -> Mapping[UUID, Sequence[Event]]:
            return {stream: decide(_fold(history, stream, territory))}

        run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decided)

    def _sheet_fields(self, sheet: SheetIn) -> dict[str, Any]:
        if sheet.scope not in SCOPES:
            raise invalid("Choisissez : un groupe de travail ou tout le réseau.", "scope")
        if sheet.status not in STATUSES:
            raise invalid("État inconnu.", "status")
        starts, ends = _day(sheet.starts_on, "starts_on"), _day(sheet.ends_on, "ends_on")
        if starts and ends and ends < starts:
            raise invalid("La fin suit le début.", "ends_on")
        objectives = [o.strip() for o in sheet.objectives if o.strip()]
        if any(len(o) > 300 for o in objectives):
            raise invalid("Un objectif tient en 300 caractères au plus (une ligne par objectif).", "objectives")
        return {
            "title": _required(sheet.title, "title", "Donnez un titre au projet."),
            "scope": sheet.scope,
            "group": sheet.group.strip()[:300],
            "summary": sheet.summary.strip()[:4000],
            "objectives": objectives,
            "status": sheet.status,
            "starts_on": starts,
            "ends_on": ends,
        }

    # -- commands -----------------------------------------------------------------------------
    def open(self, territory: str, sheet: SheetIn, *, author: str) -> str:
        project_id = str(uuid.uuid4())
        stream = stream_of(project_id)
        event = ev.ProjectOpened(project_id=project_id, **self._sheet_fields(sheet))
        run(self.trame, Context(author=author, territory=territory), [stream], lambda _h: {stream: [event]})
        return project_id

    def amend(self, territory: str, project_id: str, sheet: SheetIn, *, author: str, reason: str | None = None) -> None:
        self.require(territory, project_id)
        event = ev.ProjectAmended(project_id=project_id, **self._sheet_fields(sheet))
        self._run(territory, author, project_id, lambda _s: [event], reason=(reason or "").strip() or None)

    def involve(self, territory: str, project_id: str, structure_id: str, *, author: str, role: str = "") -> None:
        if not structure_id:
            raise invalid("Choisissez la structure partenaire.", "structure_id")
        require_structure(self.trame, territory, structure_id)
        self._run(
            territory,
            author,
            project_id,
            lambda _s: [ev.PartnerInvolved(project_id=project_id, structure_id=structure_id, role=role.strip()[:300])],
        )

    def withdraw(self, territory: str, project_id: str, structure_id: str, *, author: str) -> None:
        def decide(s: _State) -> list[Event]:
            if structure_id not in s.partners:
                raise absent("Cette structure n'est pas partenaire du projet.", "structure_id")
            return [ev.PartnerWithdrawn(project_id=project_id, structure_id=structure_id)]

        self._run(territory, author, project_id, decide)

    def plan_step(
        self, territory: str, project_id: str, *, author: str, title: str, due: str | None = None, owner_structure_id: str | None = None
    ) -> str:
        require_structure(self.trame, territory, owner_structure_id)
        step_id = str(uuid.uuid4())
        event = ev.StepPlanned(
            project_id=project_id,
            step_id=step_id,
            title=_required(title, "step_title", "Décrivez l'étape."),
            due=_day(due, "due"),
            owner_structure_id=owner_structure_id or None,
        )
        self._run(territory, author, project_id, lambda _s: [event])
        return step_id

    def complete_step(self, territory: str, project_id: str, step_id: str, *, author: str) -> None:
        def decide(s: _State) -> list[Event]:
            if step_id not in s.steps:
                raise absent("Cette étape n'existe pas dans ce projet.")
            if s.steps[step_id]:
                raise conflict("Cette étape est déjà réalisée.")
            return [ev.StepDone(project_id=project_id, step_id=step_id)]

        self._run(territory, author, project_id, decide)

    def attach_action(self, territory: str, project_id: str, action_id: str, *, author: str) -> None:
        """Follow a meeting's follow-up action on the sheet (it stays the meeting's: closed there)."""
        if action_id not in rencontres.action_details(self.trame, territory, [action_id]):
            raise absent("Cette suite à donner n'existe pas sur ce territoire.", "action_id")

        def decide(s: _State) -> list[Event]:
            if action_id in s.actions:
                raise conflict("Cette suite à donner est déjà rattachée au projet.", "action_id")
            return [ev.ActionAttached(project_id=project_id, action_id=action_id)]

        self._run(territory, author, project_id, decide)

    def link_document(self, territory: str, project_id: str, *, author: str, title: str, url: str) -> str:
        url = (url or "").strip()
        if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
            raise invalid("Indiquez l'adresse du document (https://…).", "url")
        document_id = str(uuid.uuid4())
        event = ev.DocumentLinked(
            project_id=project_id, document_id=document_id, title=_required(title, "doc_title", "Donnez un titre au document."), url=url
        )
        self._run(territory, author, project_id, lambda _s: [event])
        return document_id

    def remove_document(self, territory: str, project_id: str, document_id: str, *, author: str) -> None:
        def decide(s: _State) -> list[Event]:
            if document_id not in s.documents:
                raise absent("Ce document n'est pas sur la fiche.")
            return [ev.DocumentRemoved(project_id=project_id, document_id=document_id)]

        self._run(territory, author, project_id, decide)

    def observe_need(self, territory: str, project_id: str, *, author: str, structure_id: str, theme: str, need: str, source: str) -> str:
        """A structure's contribution to the shared diagnosis (the caller checks that the author
        speaks for it: its referent, or the coordinator)."""
        if not structure_id:
            raise invalid("Indiquez la structure qui a observé ce besoin.", "need_structure_id")
        require_structure(self.trame, territory, structure_id)
        if theme not in annuaire.THEMES:
            raise invalid("Choisissez un thème.", "theme")
        need_id = str(uuid.uuid4())
        event = ev.NeedObserved(
            project_id=project_id,
            need_id=need_id,
            structure_id=structure_id,
            theme=theme,
            need=_required(need, "need", "Décrivez le besoin observé.", 4000),
            source=_required(source, "source", "Dites d'où vient ce constat (file active, étude, permanence…).", 1000),
        )
        self._run(territory, author, project_id, lambda _s: [event])
        return need_id

    def withdraw_need(self, territory: str, project_id: str, need_id: str, *, author: str, may: Callable[[str], bool]) -> None:
        """Withdraw a contribution; ``may(structure_id)`` says whether the author speaks for its structure."""

        def decide(s: _State) -> list[Event]:
            if need_id not in s.needs:
                raise absent("Ce besoin n'est pas dans le diagnostic.")
            if not may(s.needs[need_id]):
                raise conflict("Seule la structure qui l'a écrit, ou la coordination, retire ce besoin.")
            return [ev.NeedWithdrawn(project_id=project_id, need_id=need_id)]

        self._run(territory, author, project_id, decide)

    # -- queries ------------------------------------------------------------------------------
    def _decorate(self, row: Row) -> dict[str, Any]:
        p = dict(row)
        p["objectives"] = msgspec.json.decode(p["objectives"])
        p["scope_label"] = SCOPES[p["scope"]]
        p["status_label"] = STATUSES[p["status"]]
        p["period_label"] = " – ".join(clock.french_date(d) for d in (p["starts_on"], p["ends_on"]) if d)
        return p

    def projects(self, territory: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT * FROM projets_projects WHERE territory = ? ORDER BY opened_at DESC", (territory,)).fetchall()
        return [self._decorate(r) for r in rows]

    def require(self, territory: str, project_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM projets_projects WHERE territory = ? AND project_id = ?", (territory, project_id)).fetchone()
        if row is None:
            raise absent("Cette fiche projet n'existe pas sur ce territoire.")
        return self._decorate(row)

    def sheet(self, territory: str, project_id: str) -> dict[str, Any]:
        """Everything the sheet shows, names resolved through the directory."""
        p = self.require(territory, project_id)
        with self.trame.db.read() as cur:
            args = (territory, project_id)
            partners = [
                dict(r) for r in cur.execute("SELECT * FROM projets_partners WHERE territory = ? AND project_id = ?", args).fetchall()
            ]
            steps = [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM projets_steps WHERE territory = ? AND project_id = ? ORDER BY due, planned_at", args
                ).fetchall()
            ]
            action_ids = [
                r["action_id"]
                for r in cur.execute("SELECT action_id FROM projets_actions WHERE territory = ? AND project_id = ?", args).fetchall()
            ]
            documents = [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM projets_documents WHERE territory = ? AND project_id = ? ORDER BY linked_at", args
                ).fetchall()
            ]
            needs = [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM projets_needs WHERE territory = ? AND project_id = ? ORDER BY theme, observed_at", args
                ).fetchall()
            ]
        actions = rencontres.action_details(self.trame, territory, action_ids)
        wanted = [x["structure_id"] for x in partners + needs] + [s["owner_structure_id"] for s in steps]
        wanted += [a["owner_structure_id"] for a in actions.values()]
        names = annuaire.names(self.trame, territory, [w for w in wanted if w])
        for x in partners + needs:
            x["structure_name"] = names.get(x["structure_id"], "")
        for x in [*steps, *actions.values()]:
            x["owner_name"] = names.get(x["owner_structure_id"] or "", "")
        for s in steps:
            s["due_label"] = clock.french_date(s["due"])
        for a in actions.values():
            a["due_label"] = clock.french_date(a["due"])
            a["meeting_label"] = f"{a['meeting_title']} du {clock.french_date(a['meeting_day'])}"
        partners.sort(key=lambda x: x["structure_name"].casefold())
        by_theme: dict[str, list[dict[str, Any]]] = {}
        for n in needs:
            by_theme.setdefault(n["theme"], []).append(n)
        return {
            **p,
            "partners": partners,
            "steps": steps,
            "actions": sorted(actions.values(), key=lambda a: (a["meeting_day"], a["title"])),
            "documents": documents,
            "diagnosis": [(annuaire.THEMES.get(k, k), v) for k, v in sorted(by_theme.items())],
        }

    def history(self, territory: str, project_id: str) -> list[HistoryLine]:
        """Every change of the sheet, newest first, from its stream (who, when, why)."""
        self.require(territory, project_id)
        out = []
        who: dict[str, str] = {}
        for rec in self.trame.store.stream(stream_of(project_id)):
            e = rec.event
            detail = next((str(getattr(e, f)) for f in ("title", "need") if getattr(e, f, None)), "")
            if rec.author not in who:
                who[rec.author] = self._author_name(rec.author)
            label = str(getattr(e, "journal_label", e.name))
            out.append(HistoryLine(label, rec.author, rec.recorded_at, rec.reason, detail, who[rec.author]))
        return out[::-1]

    def _author_name(self, author: str) -> str:
        account = self.trame.accounts.get(author)
        if account is None:
            return journal.AUTHORS.get(author, "compte supprimé")
        return str(account.get("display_name") or account.get("email") or "compte supprimé")


def projects(trame: Trame) -> Projects:
    return Projects(trame)
