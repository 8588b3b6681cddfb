"""Evaluation pages: the questionnaires, one questionnaire (its questions while a draft, sending
it to a list, who answered), the printable results, the year's evaluation, and the answer link
that needs no account. No JavaScript."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import clock, mail, mailings
from core.application import Trame
from core.refusals import Refused
from core.web.access import author_of
from core.web.forms import Form, one, rows
from core.web.rendering import render
from plugins.evaluations.grid import KINDS, SCALE, SECRECY
from plugins.evaluations.service import LIST_PREFIX, QuestionIn, SendReport, evaluations

P = "/t/{territory:str}/evaluations"
BLANK_ROWS = 3


@get(f"{P}/", sync_to_thread=True)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    found = evaluations(trame).questionnaires(territory)
    return render(
        request,
        "evaluations/index.html",
        questionnaires=found,
        years=sorted({q["year"] for q in found}, reverse=True),
        default_year=clock.paris_today()[:4],
    )


@post(f"{P}/nouveau", opt={"role": "coordinator"}, sync_to_thread=True)
def create(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Template | Redirect:
    try:
        qid = evaluations(trame).draft(territory, author=author_of(request), title=one(data, "title"), year=one(data, "year"))
    except Refused as exc:
        found = evaluations(trame).questionnaires(territory)
        return render(
            request,
            "evaluations/index.html",
            status_code=exc.status,
            questionnaires=found,
            years=[],
            error=exc.detail,
            default_year=one(data, "year"),
        )
    return Redirect(f"/t/{territory}/evaluations/{qid}", status_code=303)


def _page(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    qid: str,
    *,
    error: Refused | None = None,
    report: SendReport | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    svc = evaluations(trame)
    q = svc.require(territory, qid)
    offered = [ml for ml in mailings.lists(trame, territory) if not ml.key.startswith(LIST_PREFIX)]
    return render(
        request,
        "evaluations/questionnaire.html",
        status_code=error.status if error else 200,
        q=q,
        invited=svc.invited(territory, qid, with_links=True),
        lists=offered,
        kinds=KINDS,
        blank_rows=BLANK_ROWS,
        can_mail=mail.configured(trame.settings),
        error=error,
        report=report,
        values=values or {},
        today=clock.paris_today(),
        secrecy=SECRECY,
    )


@get(f"{P}/{{qid:uuid}}", opt={"role": "coordinator"}, sync_to_thread=True)
def questionnaire(request: Request[Any, Any, Any], trame: Trame, territory: str, qid: UUID) -> Template:
    return _page(request, trame, territory, str(qid))


@post(f"{P}/{{qid:uuid}}/questions", opt={"role": "coordinator"}, sync_to_thread=True)
def amend(request: Request[Any, Any, Any], trame: Trame, territory: str, qid: UUID, data: Form) -> Template | Redirect:
    questions = [QuestionIn(label=r["label"], kind=r["kind"] or "text", key=r["key"]) for r in rows(data, "label", "kind", "key")]
    try:
        evaluations(trame).amend(
            territory,
            str(qid),
            author=author_of(request),
            title=one(data, "title"),
            year=one(data, "year"),
            intro=one(data, "intro"),
            questions=questions,
        )
    except Refused as exc:
        return _page(request, trame, territory, str(qid), error=exc)
    return Redirect(f"/t/{territory}/evaluations/{qid}", status_code=303)


@post(f"{P}/{{qid:uuid}}/envoi", opt={"role": "coordinator"}, sync_to_thread=True)
def send(request: Request[Any, Any, Any], trame: Trame, territory: str, qid: UUID, data: Form) -> Template:
    values = {"list_key": one(data, "list_key"), "closes_on": one(data, "closes_on")}
    try:
        report = evaluations(trame).send(territory, str(qid), author=author_of(request), **values)
    except Refused as exc:
        return _page(request, trame, territory, str(qid), error=exc, values=values)
    return _page(request, trame, territory, str(qid), report=report)


@post(f"{P}/{{qid:uuid}}/cloture", opt={"role": "coordinator"}, sync_to_thread=True)
def close(request: Request[Any, Any, Any], trame: Trame, territory: str, qid: UUID) -> Template | Redirect:
    try:
        evaluations(trame).close(territory, str(qid), author=author_of(request))
    except Refused as exc:
        return _page(request, trame, territory, str(qid), error=exc)
    return Redirect(f"/t/{territory}/evaluations/{qid}/resultats", status_code=303)


@get(f"{P}/{{qid:uuid}}/resultats", sync_to_thread=True)
def results(request: Request[Any, Any, Any], trame: Trame, territory: str, qid: UUID) -> Template:
    r = evaluations(trame).results(territory, str(qid))
    return render(request, "evaluations/results.html", all_results=[r], year=None, scale=SCALE)


@get(f"{P}/annee/{{year:int}}", sync_to_thread=True)
def yearly(request: Request[Any, Any, Any], trame: Trame, territory: str, year: int) -> Template:
    return render(request, "evaluations/results.html", all_results=evaluations(trame).yearly(territory, year), year=year, scale=SCALE)


def _answer_page(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    token: str,
    *,
    done: bool = False,
    error: Refused | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    svc = evaluations(trame)
    q, structure_id = svc.require_link(territory, token)
    current = svc.answer_of(territory, q["questionnaire_id"], structure_id)
    shown = values if values is not None else {k: (a.text if a.text is not None else str(a.score)) for k, a in current.items()}
    return render(
        request,
        "evaluations/answer.html",
        status_code=error.status if error else 200,
        q=q,
        structure_name=svc.structure_name(territory, structure_id),
        territory=territory,
        territory_title=(trame.territories.get(territory) or {}).get("title", territory),
        token=token,
        values=shown,
        answered=bool(current),
        done=done,
        error=error,
        scale=SCALE,
        secrecy=SECRECY,
    )


@get(f"{P}/reponse/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def answer_form(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    return _answer_page(request, trame, territory, token)


@post(f"{P}/reponse/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def answer(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Template:
    values = {k: one(data, k) for k in data if k != "_csrf_token"}
    try:
        evaluations(trame).answer_with_token(territory, token, values)
    except Refused as exc:
        return _answer_page(request, trame, territory, token, error=exc, values=values)
    return _answer_page(request, trame, territory, token, done=True)


ROUTES = [index, create, questionnaire, amend, send, close, results, yearly, answer_form, answer]
