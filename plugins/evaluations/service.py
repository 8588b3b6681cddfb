"""Evaluation questionnaires: draft, send to a mailing list, answer through a link, close, results.

Commands decide from the questionnaire's stream through :func:`core.commands.run` and say no
with :class:`core.refusals.Refused`; queries read the projection. A structure's answer link is
derived from the platform's key and a random salt kept in the log, and only its SHA-256 digest
is stored: the link itself is computed when the message is sent (``personal_note`` of the
questionnaire's mailing list) or shown to the coordinator, never written anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core import clock, journal, mail, mailings
from core.commands import History, run
from core.database import Row
from core.events import Event
from core.refusals import absent, conflict, invalid
from core.store import Context
from core.structures import require_structures
from plugins.annuaire import public as annuaire
from plugins.evaluations import events as ev
from plugins.evaluations.grid import DEFAULT_INTRO, DEFAULT_QUESTIONS, DEFAULT_TITLE, SCALE

if TYPE_CHECKING:
    from core.application import Trame

LIST_PREFIX = "evaluations."
MAX_QUESTIONS = 30
STATUS_LABELS = {"draft": "brouillon", "sent": "envoyé, ouvert aux réponses", "closed": "clos"}


def stream_of(questionnaire_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:evaluations:{questionnaire_id}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def derive_token(trame: Trame, territory: str, questionnaire_id: str, structure_id: str, salt: str) -> str:
    """A structure's answer link secret: recomputed from the platform's key, never stored."""
    mac = hmac.new(
        trame.settings.secret_key.encode(), f"trame:evaluations:{territory}:{questionnaire_id}:{structure_id}:{salt}".encode(), "sha256"
    )
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


# -- input ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionIn:
    label: str
    kind: str = "text"
    key: str = ""


def _year(value: Any) -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        raise invalid("Indiquez l'année évaluée (par exemple 2012).", "year") from None
    if not 2000 <= year <= 2100:
        raise invalid("Indiquez l'année évaluée (par exemple 2012).", "year")
    return year


_KINDS: tuple[ev.Kind, ...] = get_args(ev.Kind)


def _questions(given: Sequence[QuestionIn]) -> list[ev.Question]:
    out: list[ev.Question] = []
    seen: set[str] = set()
    for q in given:
        label = " ".join(q.label.split())
        if not label:
            continue
        if q.kind not in _KINDS:
            raise invalid(f"Type de question inconnu « {q.kind} ».", "questions")
        if len(label) > 300:
            raise invalid("Une question tient en 300 caractères au plus.", "questions")
        key = q.key if re.fullmatch(r"[a-z0-9_]{1,40}", q.key or "") and q.key not in seen else f"q{uuid.uuid4().hex[:8]}"
        seen.add(key)
        out.append(ev.Question(key=key, kind=q.kind, label=label))
    if not out:
        raise invalid("Posez au moins une question.", "questions")
    if len(out) > MAX_QUESTIONS:
        raise invalid(f"Un questionnaire court : {MAX_QUESTIONS} questions au plus.", "questions")
    return out


def _title(value: str) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise invalid("Donnez un titre au questionnaire.", "title")
    if len(title) > 300:
        raise invalid("Le titre tient en 300 caractères au plus.", "title")
    return title


# -- the questionnaire as its stream tells it -----------------------------------------------------
@dataclass
class _State:
    questions: list[ev.Question] = field(default_factory=list)
    title: str = ""
    sent: bool = False
    closed: bool = False
    closes_on: str = ""
    invited: dict[str, str] = field(default_factory=dict)  # structure id -> digest


def _fold(history: History, stream: UUID, territory: str) -> _State:
    if not history.exists(stream) or history.of(stream)[0].territory != territory:
        raise absent("Ce questionnaire n'existe pas sur ce territoire.")
    s = _State()
    for rec in history.of(stream):
        e = rec.event
        if isinstance(e, ev.QuestionnaireDrafted | ev.QuestionnaireAmended):
            s.questions, s.title = list(e.questions), e.title
        elif isinstance(e, ev.QuestionnaireSent):
            s.sent, s.closes_on = True, e.closes_on
            s.invited.update({i.structure_id: i.digest for i in e.invitations})
        elif isinstance(e, ev.QuestionnaireClosed):
            s.closed = True
    return s


def _is_open(closed: bool, closes_on: str | None) -> bool:
    return not closed and bool(closes_on) and clock.paris_today() <= str(closes_on)


# -- what pages read ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Invited:
    structure_id: str
    structure_name: str
    list_label: str
    invited_at: str
    answered_at: str | None
    url: str | None = None  # shown to the coordinator only (to copy without SMTP)
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendReport:
    newly_invited: int
    mailing_id: str | None
    to_copy: list[Invited]


@dataclass(frozen=True)
class ScaleFigures:
    key: str
    label: str
    counts: dict[int, int]  # score -> structures
    answered: int
    mean: float | None

    @property
    def mean_label(self) -> str:
        return "—" if self.mean is None else f"{self.mean:.1f}".replace(".", ",")


@dataclass(frozen=True)
class TextAnswers:
    key: str
    label: str
    answers: list[tuple[str, str]]  # (structure name, text)


@dataclass(frozen=True)
class Results:
    questionnaire: dict[str, Any]
    invited: int
    answered: int
    scales: list[ScaleFigures]
    texts: list[TextAnswers]

    @property
    def rate_label(self) -> str:
        return "—" if not self.invited else f"{round(100 * self.answered / self.invited)} %"


class Evaluations:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    def _run(self, territory: str, author: str, questionnaire_id: str, decide: Callable[[_State], list[Event]]) -> None:
        stream = stream_of(questionnaire_id)

        def decided(history: History) -> Mapping[UUID, Sequence[Event]]:
            return {stream: decide(_fold(history, stream, territory))}

        run(self.trame, Context(author=author, territory=territory), [stream], decided)

    # -- commands -----------------------------------------------------------------------------
    def draft(
        self,
        territory: str,
        *,
        author: str,
        title: str = DEFAULT_TITLE,
        year: int | str | None = None,
        intro: str = DEFAULT_INTRO,
        questions: Sequence[QuestionIn] | None = None,
    ) -> str:
        """A new questionnaire; without questions, seed 002's grid and its scales."""
        chosen = list(DEFAULT_QUESTIONS) if questions is None else _questions(questions)
        questionnaire_id = str(uuid.uuid4())
        stream = stream_of(questionnaire_id)
        event = ev.QuestionnaireDrafted(
            questionnaire_id=questionnaire_id,
            title=_title(title),
            year=_year(year if year is not None else clock.paris_today()[:4]),
            intro=(intro or "").strip()[:4000],
            questions=chosen,
        )
        run(self.trame, Context(author=author, territory=territory), [stream], lambda _h: {stream: [event]})
        return questionnaire_id

    def amend(
        self,
        territory: str,
        questionnaire_id: str,
        *,
        author: str,
        title: str,
        year: int | str,
        intro: str,
        questions: Sequence[QuestionIn],
    ) -> None:
        self.require(territory, questionnaire_id)
        event = ev.QuestionnaireAmended(
            questionnaire_id=questionnaire_id,
            title=_title(title),
            year=_year(year),
            intro=(intro or "").strip()[:4000],
            questions=_questions(questions),
        )

        def decide(state: _State) -> list[Event]:
            if state.sent:
                raise conflict("Ce questionnaire est déjà envoyé : ses questions ne changent plus (les réponses s'y rapportent).")
            return [event]

        self._run(territory, author, questionnaire_id, decide)

    def send(self, territory: str, questionnaire_id: str, *, author: str, list_key: str, closes_on: str) -> SendReport:
        """Invite every structure of the list not invited yet (its own link), and mail the
        questionnaire to those who have not answered (a reminder for the earlier ones) when SMTP is set."""
        q = self.require(territory, questionnaire_id)
        if not (list_key or "").strip():
            raise invalid("Choisissez la liste à qui l'envoyer.", "list_key")
        if list_key == LIST_PREFIX + questionnaire_id:
            raise invalid("Choisissez une liste de l'annuaire ou des rencontres.", "list_key")
        try:
            day = clock.parse_day(closes_on or "").isoformat()
        except clock.BadInstant as exc:
            raise invalid(f"Date de clôture : {exc}.", "closes_on") from None
        if day < clock.paris_today():
            raise invalid("La date de clôture est passée : choisissez-en une à venir.", "closes_on")
        ml = mailings.find_list(self.trame, territory, list_key)
        structure_ids = list(dict.fromkeys(t.structure_id for t in ml.targets()))
        require_structures(self.trame, territory, structure_ids)
        if not structure_ids:
            raise conflict("Cette liste ne compte aucune structure.", "list_key")

        def decide(state: _State) -> list[Event]:
            if state.closed:
                raise conflict("Ce questionnaire est clos.")
            new = [s for s in structure_ids if s not in state.invited]
            invitations = []
            for sid in new:
                salt = secrets.token_urlsafe(18)
                token = derive_token(self.trame, territory, questionnaire_id, sid, salt)
                invitations.append(ev.Invitation(structure_id=sid, digest=digest(token), salt=salt))
            return [
                ev.QuestionnaireSent(
                    questionnaire_id=questionnaire_id, list_key=ml.key, list_label=ml.label, closes_on=day, invitations=invitations
                )
            ]

        before = {i.structure_id for i in self.invited(territory, questionnaire_id)}
        self._run(territory, author, questionnaire_id, decide)
        mailing_id = None
        if mail.configured(self.trame.settings) and self._unanswered(territory, questionnaire_id):
            mailing_id = mailings.queue(
                self.trame,
                territory,
                author=author,
                list_key=LIST_PREFIX + questionnaire_id,
                subject=f"Questionnaire : {q['title']}",
                body=self.message_text(territory, questionnaire_id),
            )
        invited = self.invited(territory, questionnaire_id, with_links=True)
        new_count = len({i.structure_id for i in invited} - before)
        return SendReport(new_count, mailing_id, [] if mailing_id else [i for i in invited if not i.answered_at])

    def close(self, territory: str, questionnaire_id: str, *, author: str) -> None:
        def decide(state: _State) -> list[Event]:
            if state.closed:
                raise conflict("Ce questionnaire est déjà clos.")
            return [ev.QuestionnaireClosed(questionnaire_id=questionnaire_id)]

        self._run(territory, author, questionnaire_id, decide)

    def answer_with_token(self, territory: str, token: str, values: Mapping[str, str]) -> None:
        """Record (or replace) the answer of the structure whose link this is, while the questionnaire is open."""
        q, structure_id = self.require_link(territory, token)
        answers = _answers(q["questions"], values)
        questionnaire_id = q["questionnaire_id"]

        def decide(state: _State) -> list[Event]:
            if state.invited.get(structure_id) != digest(token):
                raise absent("Ce lien de réponse n'est pas valable (il a peut-être été remplacé).")
            if not _is_open(state.closed, state.closes_on):
                raise conflict("Ce questionnaire est clos : les réponses ne sont plus modifiables.")
            return [ev.AnswerGiven(questionnaire_id=questionnaire_id, structure_id=structure_id, answers=answers)]

        # ``lien:``: the journal names the structure that answered through its link.
        self._run(territory, f"{journal.LINK_PREFIX}evaluation:{structure_id}", questionnaire_id, decide)

    # -- queries ------------------------------------------------------------------------------
    def _decorate(self, row: Row) -> dict[str, Any]:
        q = dict(row)
        q["questions"] = msgspec.json.decode(q["questions"], type=list[ev.Question])
        q["status_label"] = STATUS_LABELS[q["status"]]
        q["open"] = q["status"] == "sent" and _is_open(False, q["closes_on"])
        if q["status"] == "sent" and not q["open"]:
            q["status_label"] = "échéance passée, plus de réponses"
        q["closes_label"] = clock.french_long_date(q["closes_on"]) if q["closes_on"] else ""
        return q

    def questionnaires(self, territory: str, year: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM evaluations_questionnaires WHERE territory = ?"
        params: list[Any] = [territory]
        if year is not None:
            sql += " AND year = ?"
            params.append(year)
        with self.trame.db.read() as cur:
            rows = cur.execute(sql + " ORDER BY year DESC, created_at DESC", params).fetchall()
        return [self._decorate(r) for r in rows]

    def require(self, territory: str, questionnaire_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT * FROM evaluations_questionnaires WHERE territory = ? AND questionnaire_id = ?", (territory, questionnaire_id)
            ).fetchone()
        if row is None:
            raise absent("Ce questionnaire n'existe pas sur ce territoire.")
        return self._decorate(row)

    def link(self, territory: str, questionnaire_id: str, structure_id: str, salt: str) -> str:
        token = derive_token(self.trame, territory, questionnaire_id, structure_id, salt)
        return f"{self.trame.settings.base_url}/t/{territory}/evaluations/reponse/{token}"

    def invited(self, territory: str, questionnaire_id: str, *, with_links: bool = False) -> list[Invited]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT i.structure_id, i.salt, i.list_label, i.invited_at, a.updated_at FROM evaluations_invitations i "
                "LEFT JOIN evaluations_answers a ON a.questionnaire_id = i.questionnaire_id AND a.structure_id = i.structure_id "
                "WHERE i.territory = ? AND i.questionnaire_id = ?",
                (territory, questionnaire_id),
            ).fetchall()
        names = annuaire.names(self.trame, territory, [r["structure_id"] for r in rows])
        out = [
            Invited(
                structure_id=r["structure_id"],
                structure_name=names.get(r["structure_id"], ""),
                list_label=r["list_label"],
                invited_at=r["invited_at"],
                answered_at=r["updated_at"],
                url=self.link(territory, questionnaire_id, r["structure_id"], r["salt"]) if with_links else None,
                addresses=tuple(annuaire.addresses(self.trame, territory, r["structure_id"])) if with_links else (),
            )
            for r in rows
        ]
        return sorted(out, key=lambda i: i.structure_name.casefold())

    def _unanswered(self, territory: str, questionnaire_id: str) -> list[Invited]:
        return [i for i in self.invited(territory, questionnaire_id) if not i.answered_at]

    def personal_note(self, territory: str, questionnaire_id: str, structure_id: str) -> str | None:
        """The line added to a structure's message: its own answer link (computed, never stored)."""
        with self.trame.db.read() as cur:
            salt = cur.scalar(
                "SELECT salt FROM evaluations_invitations WHERE territory = ? AND questionnaire_id = ? AND structure_id = ?",
                (territory, questionnaire_id, structure_id),
            )
        if salt is None:
            return None
        name = annuaire.names(self.trame, territory, [structure_id]).get(structure_id, "votre structure")
        url = self.link(territory, questionnaire_id, structure_id, salt)
        return f"Le lien de réponse de {name}, propre à votre structure et sans compte à créer :\n{url}"

    def message_text(self, territory: str, questionnaire_id: str) -> str:
        q = self.require(territory, questionnaire_id)
        title = (self.trame.territories.get(territory) or {}).get("title", territory)
        lines = [
            "Bonjour,",
            "",
            f"La coordination du réseau ({title}) vous invite à répondre au questionnaire « {q['title']} »"
            + (f", avant le {q['closes_label']}." if q["closes_label"] else "."),
        ]
        if q["intro"]:
            lines += ["", q["intro"]]
        lines += [
            "",
            f"{len(q['questions'])} questions ; une réponse par structure, modifiable jusqu'à la clôture.",
            "Merci de n'y nommer aucune personne accompagnée (secret partagé).",
        ]
        return "\n".join(lines)

    def by_token(self, territory: str, token: str) -> tuple[dict[str, Any], str] | None:
        """The questionnaire and the structure a link was issued to (found by its digest only)."""
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT questionnaire_id, structure_id FROM evaluations_invitations WHERE territory = ? AND digest = ?",
                (territory, digest(token)),
            ).fetchone()
        if row is None:
            return None
        return self.require(territory, row["questionnaire_id"]), row["structure_id"]

    def require_link(self, territory: str, token: str) -> tuple[dict[str, Any], str]:
        """:meth:`by_token`, refused as absent when the link is unknown or the module is off in the territory."""
        found = self.by_token(territory, token) if self.trame.territories.is_enabled(territory, "evaluations") else None
        if found is None:
            raise absent("Ce lien de réponse n'est pas valable (il a peut-être été remplacé).")
        return found

    def structure_name(self, territory: str, structure_id: str) -> str:
        return annuaire.names(self.trame, territory, [structure_id]).get(structure_id, "")

    def answer_of(self, territory: str, questionnaire_id: str, structure_id: str) -> dict[str, ev.AnswerItem]:
        with self.trame.db.read() as cur:
            raw = cur.scalar(
                "SELECT answers FROM evaluations_answers WHERE territory = ? AND questionnaire_id = ? AND structure_id = ?",
                (territory, questionnaire_id, structure_id),
            )
        if raw is None:
            return {}
        return {a.key: a for a in msgspec.json.decode(raw, type=list[ev.AnswerItem])}

    def results(self, territory: str, questionnaire_id: str) -> Results:
        q = self.require(territory, questionnaire_id)
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT structure_id, answers FROM evaluations_answers WHERE territory = ? AND questionnaire_id = ?",
                (territory, questionnaire_id),
            ).fetchall()
            invited = int(
                cur.scalar(
                    "SELECT COUNT(*) FROM evaluations_invitations WHERE territory = ? AND questionnaire_id = ?",
                    (territory, questionnaire_id),
                )
                or 0
            )
        names = annuaire.names(self.trame, territory, [r["structure_id"] for r in rows])
        given = sorted(
            ((names.get(r["structure_id"], ""), msgspec.json.decode(r["answers"], type=list[ev.AnswerItem])) for r in rows),
            key=lambda pair: pair[0].casefold(),
        )
        scales, texts = [], []
        for question in q["questions"]:
            items = [(name, a) for name, answers in given for a in answers if a.key == question.key]
            if question.kind == "scale":
                scores = [a.score for _name, a in items if a.score is not None]
                counts = {s: scores.count(s) for s in SCALE}
                mean = sum(scores) / len(scores) if scores else None
                scales.append(ScaleFigures(question.key, question.label, counts, len(scores), mean))
            else:
                texts.append(TextAnswers(question.key, question.label, [(name, a.text) for name, a in items if a.text]))
        return Results(q, invited, len(rows), scales, texts)

    def yearly(self, territory: str, year: int) -> list[Results]:
        """Every questionnaire of a year with its results: the network's yearly evaluation."""
        return [self.results(territory, q["questionnaire_id"]) for q in self.questionnaires(territory, year=year)]

    def mailing_lists(self, territory: str) -> list[mailings.MailingList]:
        """One list per questionnaire still open: the structures invited that have not answered,
        each message carrying the structure's own link."""
        out = []
        for q in self.questionnaires(territory):
            if not q["open"]:
                continue
            qid = q["questionnaire_id"]

            def targets(qid: str = qid) -> list[mailings.Target]:
                return _targets(self.trame, territory, [i.structure_id for i in self._unanswered(territory, qid)])

            def note(structure_id: str, qid: str = qid) -> str | None:
                return self.personal_note(territory, qid, structure_id)

            out.append(
                mailings.MailingList(
                    LIST_PREFIX + qid,
                    f"Sans réponse au questionnaire « {q['title']} »",
                    targets,
                    "Évaluations",
                    personal_note=note,
                )
            )
        return out


def _targets(trame: Trame, territory: str, structure_ids: Sequence[str]) -> list[mailings.Target]:
    """Each structure with its generic address and its current contacts' own (the core picks)."""
    found = annuaire.directory(trame).structures(territory, set(structure_ids))
    contacts = annuaire.directory(trame).contacts_of_structures(territory, list(found))
    return [
        mailings.Target(
            sid,
            s.name,
            s.email,
            tuple(mailings.Contact(c.person.id, c.person.email) for c in contacts.get(sid, []) if c.person.email),
        )
        for sid, s in found.items()
    ]


def _answers(questions: Sequence[ev.Question], values: Mapping[str, str]) -> list[ev.AnswerItem]:
    out = []
    for question in questions:
        raw = (values.get(question.key) or "").strip()
        if not raw:
            continue
        if question.kind == "scale":
            if raw not in {str(s) for s in SCALE}:
                raise invalid("Choisissez une note de 1 à 5.", question.key)
            out.append(ev.AnswerItem(key=question.key, score=int(raw)))
        else:
            if len(raw) > 4000:
                raise invalid("Une réponse tient en 4 000 caractères au plus.", question.key)
            out.append(ev.AnswerItem(key=question.key, text=raw))
    if not out:
        raise invalid("Répondez au moins à une question.")
    return out


def evaluations(trame: Trame) -> Evaluations:
    return Evaluations(trame)
