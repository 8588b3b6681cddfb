"""What happens to an evaluation questionnaire (``evaluations.*``): one stream per questionnaire.

A coordinator drafts a short questionnaire (seed 002's analysis grid by default), sends it to
a mailing list; each structure on it gets its own answer link (only the link's SHA-256 digest
is kept, with the salt it was derived from); a structure answers once and may change its
answer until the questionnaire closes. Answers are about the partnership, never about a
person helped (shared secrecy): the forms say so beside every free-text field.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Digest = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Kind = Literal["text", "scale"]


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """A question: free text, or a scale from 1 (pas du tout) to 5 (tout à fait)."""

    key: Key
    kind: Kind
    label: Title


class QuestionnaireDrafted(Event, frozen=True, kw_only=True):
    name = "evaluations.QuestionnaireDrafted"
    journal_label = "Questionnaire d'évaluation rédigé"
    questionnaire_id: Id
    title: Title
    year: Year  # the year of the partnership's evaluation it feeds
    intro: Text = ""
    questions: list[Question]


class QuestionnaireAmended(Event, frozen=True, kw_only=True):
    """The draft's new wording (only before it is sent: answers are keyed by its questions)."""

    name = "evaluations.QuestionnaireAmended"
    journal_label = "Questionnaire d'évaluation modifié"
    questionnaire_id: Id
    title: Title
    year: Year
    intro: Text = ""
    questions: list[Question]


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    structure_id: Id
    digest: Digest  # of the structure's answer link, derived from the platform's key and ``salt``
    salt: Annotated[str, msgspec.Meta(min_length=16, max_length=64)]


class QuestionnaireSent(Event, frozen=True, kw_only=True):
    """Sent to the structures of a mailing list (those not invited before get their link)."""

    name = "evaluations.QuestionnaireSent"
    journal_label = "Questionnaire d'évaluation envoyé"
    questionnaire_id: Id
    list_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    list_label: Title
    closes_on: Day
    invitations: list[Invitation] = msgspec.field(default_factory=list)
    mailing_id: Id | None = None  # the core mailing that carried it, when SMTP is set


class AnswerItem(msgspec.Struct, frozen=True, kw_only=True):
    key: Key
    text: Text | None = None
    score: Score | None = None


class AnswerGiven(Event, frozen=True, kw_only=True):
    """A structure's answer through its link; a later one replaces it until the questionnaire closes."""

    name = "evaluations.AnswerGiven"
    journal_label = "Réponse à un questionnaire d'évaluation"
    questionnaire_id: Id
    structure_id: Id
    answers: list[AnswerItem]


class QuestionnaireClosed(Event, frozen=True, kw_only=True):
    name = "evaluations.QuestionnaireClosed"
    journal_label = "Questionnaire d'évaluation clos"
    questionnaire_id: Id


EVENTS: list[type[Event]] = [QuestionnaireDrafted, QuestionnaireAmended, QuestionnaireSent, AnswerGiven, QuestionnaireClosed]
