"""JSON API of the evaluation questionnaires (OpenAPI tag « évaluations »), under
``/api/v1/territories/{slug}/evaluations/``.

Members read the questionnaires, their results and the year's evaluation; the coordination
drafts, amends (before sending), sends to a mailing list, reads the answer links to pass on,
and closes. A structure answers with its own link's secret, without an account, exactly as
on the answer page: ``GET``/``PUT .../evaluations/reponse/{token}``. Errors are the core's
French ``{"detail", "status"}``; a POST may carry an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put

from core import mailings
from core.application import Trame
from core.web.access import author_of
from plugins.evaluations import events as ev
from plugins.evaluations.grid import DEFAULT_INTRO, DEFAULT_TITLE
from plugins.evaluations.service import LIST_PREFIX, Invited, QuestionIn, Results, evaluations

BASE = "/api/v1/territories/{slug:str}/evaluations"
ONE = BASE + "/{questionnaire_id:str}"
TAGS = ["évaluations"]
COORDINATOR = {"role": "coordinator"}
PUBLIC = {"public": True}
Req = Request[Any, Any, Any]

Line = Annotated[str, msgspec.Meta(max_length=300)]
Long = Annotated[str, msgspec.Meta(max_length=4000)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100, description="L'année du partenariat évaluée")]


# -- what a client sends --------------------------------------------------------------------------
class QuestionBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: Line
    kind: Literal["text", "scale"] = "text"
    key: Annotated[str, msgspec.Meta(max_length=40, description="Gardez la clé lue pour une question reprise")] = ""

    def as_input(self) -> QuestionIn:
        return QuestionIn(label=self.label, kind=self.kind, key=self.key)


class QuestionnaireIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Without ``questions``, seed 002's grid and its four scales."""

    title: Line = DEFAULT_TITLE
    year: Year | None = None
    intro: Long = DEFAULT_INTRO
    questions: Annotated[list[QuestionBody], msgspec.Meta(max_length=60)] | None = None


class QuestionnaireChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The draft as it now reads (every field); refused with 409 once sent."""

    title: Line
    year: Year
    intro: Long = ""
    questions: Annotated[list[QuestionBody], msgspec.Meta(max_length=60)]


class SendIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    list_key: Annotated[str, msgspec.Meta(max_length=200, description="Une liste de .../evaluations/listes")]
    closes_on: Annotated[str, msgspec.Meta(max_length=20, description="Dernier jour des réponses : 2012-03-31 ou 31/03/2012")]


class AnswerItemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(max_length=40)]
    text: Long | None = None
    score: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None


class AnswerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The structure's whole answer: it replaces the previous one. Questions left out stay unanswered."""

    answers: Annotated[list[AnswerItemIn], msgspec.Meta(max_length=60)]


# -- what it reads --------------------------------------------------------------------------------
class QuestionOut(msgspec.Struct, kw_only=True):
    key: str
    kind: str
    label: str


class QuestionnaireOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    year: int
    intro: str
    questions: list[QuestionOut]
    status: str
    status_label: str
    open: bool
    closes_on: str | None
    created_at: str
    sent_at: str | None
    closed_at: str | None


class InvitedOut(msgspec.Struct, kw_only=True):
    structure_id: str
    structure_name: str
    list_label: str
    invited_at: str
    answered_at: str | None
    link: str | None
    addresses: list[str]


class SendOut(msgspec.Struct, kw_only=True):
    newly_invited: int
    mailing_id: str | None
    to_copy: list[InvitedOut]  # without SMTP: the structures without an answer, each with its link


class MailingListOut(msgspec.Struct, kw_only=True):
    key: str
    label: str
    group: str


class ScaleOut(msgspec.Struct, kw_only=True):
    key: str
    label: str
    counts: dict[str, int]  # "1".."5" -> structures
    answered: int
    mean: float | None


class TextAnswerOut(msgspec.Struct, kw_only=True):
    structure_name: str
    text: str


class TextOut(msgspec.Struct, kw_only=True):
    key: str
    label: str
    answers: list[TextAnswerOut]


class ResultsOut(msgspec.Struct, kw_only=True):
    questionnaire: QuestionnaireOut
    invited: int
    answered: int
    rate: float | None  # answered / invited, from 0 to 1
    scales: list[ScaleOut]
    texts: list[TextOut]


class AnswerItemOut(msgspec.Struct, kw_only=True):
    key: str
    text: str | None
    score: int | None


class AnswerOut(msgspec.Struct, kw_only=True):
    questionnaire_id: str
    title: str
    year: int
    intro: str
    questions: list[QuestionOut]
    open: bool
    closes_on: str | None
    structure_id: str
    structure_name: str
    answers: list[AnswerItemOut]


def _questions(questions: list[ev.Question]) -> list[QuestionOut]:
    return [QuestionOut(key=q.key, kind=q.kind, label=q.label) for q in questions]


def questionnaire_out(q: dict[str, Any]) -> QuestionnaireOut:
    return QuestionnaireOut(
        id=q["questionnaire_id"], title=q["title"], year=q["year"], intro=q["intro"], questions=_questions(q["questions"]),
        status=q["status"], status_label=q["status_label"], open=q["open"], closes_on=q["closes_on"], created_at=q["created_at"],
        sent_at=q["sent_at"], closed_at=q["closed_at"],
    )  # fmt: skip


def _invited(i: Invited) -> InvitedOut:
    return InvitedOut(
        structure_id=i.structure_id, structure_name=i.structure_name, list_label=i.list_label, invited_at=i.invited_at,
        answered_at=i.answered_at, link=i.url, addresses=list(i.addresses),
    )  # fmt: skip


def results_out(r: Results) -> ResultsOut:
    return ResultsOut(
        questionnaire=questionnaire_out(r.questionnaire),
        invited=r.invited,
        answered=r.answered,
        rate=r.answered / r.invited if r.invited else None,
        scales=[
            ScaleOut(key=s.key, label=s.label, counts={str(k): v for k, v in s.counts.items()}, answered=s.answered, mean=s.mean)
            for s in r.scales
        ],
        texts=[TextOut(key=t.key, label=t.label, answers=[TextAnswerOut(structure_name=n, text=x) for n, x in t.answers]) for t in r.texts],
    )


def _answer_out(trame: Trame, slug: str, token: str) -> AnswerOut:
    svc = evaluations(trame)
    q, structure_id = svc.require_link(slug, token)
    given = svc.answer_of(slug, q["questionnaire_id"], structure_id)
    return AnswerOut(
        questionnaire_id=q["questionnaire_id"], title=q["title"], year=q["year"], intro=q["intro"], questions=_questions(q["questions"]),
        open=q["open"], closes_on=q["closes_on"], structure_id=structure_id, structure_name=svc.structure_name(slug, structure_id),
        answers=[AnswerItemOut(key=a.key, text=a.text, score=a.score) for a in given.values()],
    )  # fmt: skip


# -- routes ---------------------------------------------------------------------------------------
@get(f"{BASE}/", tags=TAGS, sync_to_thread=True)
def list_questionnaires(trame: Trame, slug: str, year: Year | None = None) -> list[QuestionnaireOut]:
    """The territory's questionnaires (of one evaluated ``year``, or all), the latest year first."""
    return [questionnaire_out(q) for q in evaluations(trame).questionnaires(slug, year=year)]


@post(f"{BASE}/", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=201)
def draft(request: Req, trame: Trame, slug: str, data: QuestionnaireIn) -> QuestionnaireOut:
    """Draft a questionnaire (a draft is read by the coordination, amended, then sent)."""
    svc = evaluations(trame)
    questions = None if data.questions is None else [q.as_input() for q in data.questions]
    qid = svc.draft(slug, author=author_of(request), title=data.title, year=data.year, intro=data.intro, questions=questions)
    return questionnaire_out(svc.require(slug, qid))


@get(f"{BASE}/listes", opt=COORDINATOR, tags=TAGS, sync_to_thread=True)
def mailing_lists(trame: Trame, slug: str) -> list[MailingListOut]:
    """The mailing lists a questionnaire can be sent to (the directory's, the meetings' invitees…)."""
    return [
        MailingListOut(key=ml.key, label=ml.label, group=ml.group)
        for ml in mailings.lists(trame, slug)
        if not ml.key.startswith(LIST_PREFIX)
    ]


@get(f"{BASE}/annee/{{year:int}}", tags=TAGS, sync_to_thread=True)
def yearly(trame: Trame, slug: str, year: int) -> list[ResultsOut]:
    """The year's evaluation: every questionnaire of that year with its results."""
    return [results_out(r) for r in evaluations(trame).yearly(slug, year)]


@get(ONE, tags=TAGS, sync_to_thread=True)
def get_questionnaire(trame: Trame, slug: str, questionnaire_id: str) -> QuestionnaireOut:
    return questionnaire_out(evaluations(trame).require(slug, questionnaire_id))


@put(ONE, opt=COORDINATOR, tags=TAGS, sync_to_thread=True)
def amend(request: Req, trame: Trame, slug: str, questionnaire_id: str, data: QuestionnaireChange) -> QuestionnaireOut:
    """Amend the draft: every field takes the value sent (409 once sent: answers refer to its questions)."""
    svc = evaluations(trame)
    svc.amend(
        slug, questionnaire_id, author=author_of(request), title=data.title, year=data.year, intro=data.intro,
        questions=[q.as_input() for q in data.questions],
    )  # fmt: skip
    return questionnaire_out(svc.require(slug, questionnaire_id))


@post(ONE + "/envoi", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def send(request: Req, trame: Trame, slug: str, questionnaire_id: str, data: SendIn) -> SendOut:
    """Invite the list's structures not invited yet (each its own link) and, with SMTP, mail those
    without an answer; without SMTP, ``to_copy`` gives each one's link to pass on."""
    report = evaluations(trame).send(slug, questionnaire_id, author=author_of(request), list_key=data.list_key, closes_on=data.closes_on)
    return SendOut(newly_invited=report.newly_invited, mailing_id=report.mailing_id, to_copy=[_invited(i) for i in report.to_copy])


@get(ONE + "/invitations", opt=COORDINATOR, tags=TAGS, sync_to_thread=True)
def invitations(trame: Trame, slug: str, questionnaire_id: str) -> list[InvitedOut]:
    """The structures asked, whether they answered, their addresses and their own answer link (the coordination's only)."""
    svc = evaluations(trame)
    svc.require(slug, questionnaire_id)
    return [_invited(i) for i in svc.invited(slug, questionnaire_id, with_links=True)]


@post(ONE + "/cloture", opt=COORDINATOR, tags=TAGS, sync_to_thread=True, status_code=200)
def close(request: Req, trame: Trame, slug: str, questionnaire_id: str) -> QuestionnaireOut:
    """Close the questionnaire: no more answers nor changes (again: 409)."""
    svc = evaluations(trame)
    svc.close(slug, questionnaire_id, author=author_of(request))
    return questionnaire_out(svc.require(slug, questionnaire_id))


@get(ONE + "/resultats", tags=TAGS, sync_to_thread=True)
def results(trame: Trame, slug: str, questionnaire_id: str) -> ResultsOut:
    """Figures of each scale and the free-text answers, by structure."""
    return results_out(evaluations(trame).results(slug, questionnaire_id))


@get(f"{BASE}/reponse/{{token:str}}", opt=PUBLIC, tags=TAGS, sync_to_thread=True)
def answer_form(trame: Trame, slug: str, token: str) -> AnswerOut:
    """The questionnaire a link was issued for, and the structure's current answer (no account: the link is the key)."""
    return _answer_out(trame, slug, token)


@put(f"{BASE}/reponse/{{token:str}}", opt=PUBLIC, tags=TAGS, sync_to_thread=True)
def answer(trame: Trame, slug: str, token: str, data: AnswerIn) -> AnswerOut:
    """Record the structure's answer, replacing its previous one, while the questionnaire is open (closed: 409)."""
    values: dict[str, str] = {}
    for item in data.answers:
        if item.score is not None:
            values[item.key] = str(item.score)
        elif item.text is not None:
            values[item.key] = item.text
    evaluations(trame).answer_with_token(slug, token, values)
    return _answer_out(trame, slug, token)


ROUTES = [
    list_questionnaires,
    draft,
    mailing_lists,
    yearly,
    get_questionnaire,
    amend,
    send,
    invitations,
    close,
    results,
    answer_form,
    answer,
]
