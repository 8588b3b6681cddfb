"""The project sheets' read model. Only this projection writes these tables."""

from __future__ import annotations

import msgspec

from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from plugins.projets import events as ev

_json = msgspec.json.Encoder()


class ProjetsProjection(Projection):
    name = "projets"
    version = 1
    topics = tuple(e.name for e in ev.EVENTS)
    tables = ("projets_projects", "projets_partners", "projets_steps", "projets_actions", "projets_documents", "projets_needs")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS projets_projects (project_id TEXT PRIMARY KEY, territory TEXT NOT NULL, title TEXT NOT NULL, "
            "scope TEXT NOT NULL, grp TEXT NOT NULL, summary TEXT NOT NULL, objectives TEXT NOT NULL, status TEXT NOT NULL, "
            "starts_on TEXT, ends_on TEXT, opened_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS projets_projects_territory ON projets_projects (territory, title)",
            "CREATE TABLE IF NOT EXISTS projets_partners (project_id TEXT NOT NULL, structure_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "role TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (project_id, structure_id))",
            "CREATE TABLE IF NOT EXISTS projets_steps (step_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "title TEXT NOT NULL, due TEXT, owner_structure_id TEXT, done_at TEXT, planned_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS projets_steps_project ON projets_steps (project_id)",
            "CREATE TABLE IF NOT EXISTS projets_actions (project_id TEXT NOT NULL, action_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "attached_at TEXT NOT NULL, PRIMARY KEY (project_id, action_id))",
            "CREATE TABLE IF NOT EXISTS projets_documents (document_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, linked_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS projets_documents_project ON projets_documents (project_id)",
            "CREATE TABLE IF NOT EXISTS projets_needs (need_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, territory TEXT NOT NULL, "
            "structure_id TEXT NOT NULL, theme TEXT NOT NULL, need TEXT NOT NULL, source TEXT NOT NULL, author TEXT NOT NULL, "
            "observed_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS projets_needs_project ON projets_needs (project_id, theme)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e, t, at = rec.event, rec.territory, rec.recorded_at
        if isinstance(e, ev.ProjectOpened):
            cur.execute(
                "INSERT INTO projets_projects (project_id, territory, title, scope, grp, summary, objectives, status, starts_on, ends_on, "
                "opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    e.project_id, t, e.title, e.scope, e.group, e.summary, _json.encode(e.objectives).decode(), e.status,
                    e.starts_on, e.ends_on, at, at,
                ),
            )  # fmt: skip
        elif isinstance(e, ev.ProjectAmended):
            cur.execute(
                "UPDATE projets_projects SET title = ?, scope = ?, grp = ?, summary = ?, objectives = ?, status = ?, starts_on = ?, "
                "ends_on = ?, updated_at = ? WHERE project_id = ?",
                (
                    e.title, e.scope, e.group, e.summary, _json.encode(e.objectives).decode(), e.status, e.starts_on, e.ends_on,
                    at, e.project_id,
                ),
            )  # fmt: skip
        elif isinstance(e, ev.PartnerInvolved):
            cur.execute("DELETE FROM projets_partners WHERE project_id = ? AND structure_id = ?", (e.project_id, e.structure_id))
            cur.execute(
                "INSERT INTO projets_partners (project_id, structure_id, territory, role, since) VALUES (?, ?, ?, ?, ?)",
                (e.project_id, e.structure_id, t, e.role, at),
            )
        elif isinstance(e, ev.PartnerWithdrawn):
            cur.execute("DELETE FROM projets_partners WHERE project_id = ? AND structure_id = ?", (e.project_id, e.structure_id))
        elif isinstance(e, ev.StepPlanned):
            cur.execute(
                "INSERT INTO projets_steps (step_id, project_id, territory, title, due, owner_structure_id, planned_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (e.step_id, e.project_id, t, e.title, e.due, e.owner_structure_id, at),
            )
        elif isinstance(e, ev.StepDone):
            cur.execute("UPDATE projets_steps SET done_at = ? WHERE step_id = ?", (at, e.step_id))
        elif isinstance(e, ev.ActionAttached):
            cur.execute(
                "INSERT INTO projets_actions (project_id, action_id, territory, attached_at) VALUES (?, ?, ?, ?)",
                (e.project_id, e.action_id, t, at),
            )
        elif isinstance(e, ev.DocumentLinked):
            cur.execute(
                "INSERT INTO projets_documents (document_id, project_id, territory, title, url, linked_at) VALUES (?, ?, ?, ?, ?, ?)",
                (e.document_id, e.project_id, t, e.title, e.url, at),
            )
        elif isinstance(e, ev.DocumentRemoved):
            cur.execute("DELETE FROM projets_documents WHERE document_id = ?", (e.document_id,))
        elif isinstance(e, ev.NeedObserved):
            cur.execute(
                "INSERT INTO projets_needs (need_id, project_id, territory, structure_id, theme, need, source, author, observed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.need_id, e.project_id, t, e.structure_id, e.theme, e.need, e.source, rec.author, at),
            )
        elif isinstance(e, ev.NeedWithdrawn):
            cur.execute("DELETE FROM projets_needs WHERE need_id = ?", (e.need_id,))
