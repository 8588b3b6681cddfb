"""Rencontres: partner meetings, shared by the café and charter plugins.

Schedule (once or on a rhythm, holidays flagged), invite with answer links that need
no account, take attendance, print the sign-in sheet, write and publish minutes with
follow-up actions that carry over, subscribe to the calendar, and count who came.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.events import Event
from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo
from core.projection import Projection


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="rencontres",
        title="Rencontres",
        description="Réunions partenariales : invitations, présences, feuille d'émargement, comptes rendus, suites à donner, agenda.",
        needs=("annuaire",),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.rencontres.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.rencontres.projection import MeetingsProjection

    return [MeetingsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.rencontres import api, download, pages

    return [*pages.ROUTES, *api.ROUTES, *download.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Rencontres", "rencontres/", order=20), NavLink("Participation", "rencontres/chiffres", order=60)]


@hookimpl
def subject_erased(trame: Any, territory: str, subject_id: str, names: list[str]) -> list[str]:
    """The answers' comments and the guests' names (cafés' meetings included) that name the person."""
    from core.erasure import names_in

    with trame.db.read() as cur:
        comments = cur.execute(
            "SELECT comment_id, comment FROM rencontres_invitations WHERE territory = ? AND comment_id IS NOT NULL", (territory,)
        ).fetchall()
        guests = cur.execute(
            "SELECT person_id, person_name FROM rencontres_attendance WHERE territory = ? AND person_name IS NOT NULL", (territory,)
        ).fetchall()
    found = [r["comment_id"] for r in comments if names_in(r["comment"], names)]
    return found + [r["person_id"] for r in guests if names_in(r["person_name"], names, whole=True)]


@hookimpl
def journal_subjects(trame: Any, territory: str, lines: list[Any]) -> dict[int, Any]:
    """Lines about a meeting (a café's included) name it, with its date, and link to its page."""
    from core import clock
    from core.journal import Subject

    ids = sorted({str(line.data["meeting_id"]) for line in lines if line.data.get("meeting_id")})
    meetings: dict[str, Any] = {}
    with trame.db.read() as cur:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in cur.execute(
                f"SELECT meeting_id, title, day, plugin FROM rencontres_meetings WHERE territory = ? AND meeting_id IN ({marks})",
                (territory, *chunk),
            ).fetchall():
                meetings[r["meeting_id"]] = r
    pages = {"rencontres": "rencontres", "cafe": "cafe"}
    out: dict[int, Any] = {}
    for line in lines:
        m = meetings.get(str(line.data.get("meeting_id") or ""))
        if m is None or line.event.startswith("charte."):
            continue
        where = pages.get(m["plugin"])
        out[line.position] = Subject(
            f"{m['title']} du {clock.french_date(m['day'])}", f"/t/{territory}/{where}/{m['meeting_id']}" if where else None
        )
    return out
