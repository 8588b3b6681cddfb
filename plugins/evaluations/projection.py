"""The evaluations read model: questionnaires, the structures invited (with their link's digest)
and each structure's current answer. Only this projection writes these tables."""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from plugins.evaluations import events as ev

_json = msgspec.json.Encoder()


class EvaluationsProjection(Projection):
    name = "evaluations"
    version = 1
    topics = tuple(e.name for e in ev.EVENTS)
    tables = ("evaluations_questionnaires", "evaluations_invitations", "evaluations_answers")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS evaluations_questionnaires (questionnaire_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            "title TEXT NOT NULL, year INTEGER NOT NULL, intro TEXT NOT NULL, questions TEXT NOT NULL, status TEXT NOT NULL, "
            "closes_on TEXT, created_at TEXT NOT NULL, sent_at TEXT, closed_at TEXT)",
            "CREATE INDEX IF NOT EXISTS evaluations_questionnaires_territory ON evaluations_questionnaires (territory, year)",
            "CREATE TABLE IF NOT EXISTS evaluations_invitations (questionnaire_id TEXT NOT NULL, structure_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, digest TEXT NOT NULL, salt TEXT NOT NULL, list_label TEXT NOT NULL, invited_at TEXT NOT NULL, "
            "PRIMARY KEY (questionnaire_id, structure_id))",
            "CREATE INDEX IF NOT EXISTS evaluations_invitations_digest ON evaluations_invitations (digest)",
            "CREATE TABLE IF NOT EXISTS evaluations_answers (questionnaire_id TEXT NOT NULL, structure_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, answers TEXT NOT NULL, first_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
            "PRIMARY KEY (questionnaire_id, structure_id))",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e, t, at = rec.event, rec.territory, rec.recorded_at
        if isinstance(e, ev.QuestionnaireDrafted):
            cur.execute(
                "INSERT INTO evaluations_questionnaires (questionnaire_id, territory, title, year, intro, questions, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'draft', ?)",
                (e.questionnaire_id, t, e.title, e.year, e.intro, _json.encode(e.questions).decode(), at),
            )
        elif isinstance(e, ev.QuestionnaireAmended):
            cur.execute(
                "UPDATE evaluations_questionnaires SET title = ?, year = ?, intro = ?, questions = ? WHERE questionnaire_id = ?",
                (e.title, e.year, e.intro, _json.encode(e.questions).decode(), e.questionnaire_id),
            )
        elif isinstance(e, ev.QuestionnaireSent):
            cur.execute(
                "UPDATE evaluations_questionnaires SET status = 'sent', closes_on = ?, sent_at = COALESCE(sent_at, ?) "
                "WHERE questionnaire_id = ?",
                (e.closes_on, at, e.questionnaire_id),
            )
            for inv in e.invitations:
                cur.execute(
                    "INSERT INTO evaluations_invitations (questionnaire_id, structure_id, territory, digest, salt, list_label, invited_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (e.questionnaire_id, inv.structure_id, t, inv.digest, inv.salt, e.list_label, at),
                )
        elif isinstance(e, ev.AnswerGiven):
            key = (e.questionnaire_id, e.structure_id)
            first = cur.scalar("SELECT first_at FROM evaluations_answers WHERE questionnaire_id = ? AND structure_id = ?", key)
            cur.execute("DELETE FROM evaluations_answers WHERE questionnaire_id = ? AND structure_id = ?", key)
            cur.execute(
                "INSERT INTO evaluations_answers (questionnaire_id, structure_id, territory, answers, first_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*key, t, _json.encode(e.answers).decode(), first or at, at),
            )
        elif isinstance(e, ev.QuestionnaireClosed):
            cur.execute(
                "UPDATE evaluations_questionnaires SET status = 'closed', closed_at = ? WHERE questionnaire_id = ?",
                (at, e.questionnaire_id),
            )
