"""Charte partenariale: a territory's partnership charter (Joigny 2010, seed 003), its versions,
signatories over time, end, meeting cycle (through ``rencontres``) and yearly evaluation (seed 002 grid).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PageSection, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.mailings import MailingList
    from core.projection import Projection

TEMPLATES = Path(__file__).parent / "templates"


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="charte",
        title="Charte partenariale",
        description="Une charte d'engagements signée par les partenaires, ses rencontres, sa participation et son évaluation.",
        needs=("annuaire", "rencontres"),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.charte.events import EVENTS

    return list(EVENTS)


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.charte.projection import CharterProjection

    return [CharterProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.charte import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(TEMPLATES)


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Charte", "charte/", order=30)]


@hookimpl
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """On a structure's sheet: whether it signs the territory's charter(s), since when, which version."""
    if page != "annuaire.structure":
        return []
    from plugins.charte.pages import structure_section

    section = structure_section(trame, territory, subject_id, as_of)
    return [section] if section is not None else []


@hookimpl
def subject_erased(trame: Trame, territory: str, subject_id: str, names: list[str]) -> list[str]:
    """Signatories whose typed name is the erased person's (their whole name): the signature stays."""
    from core.erasure import names_in

    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT signatory_id, signatory_name FROM charte_signatures WHERE territory = ? AND signatory_name IS NOT NULL", (territory,)
        ).fetchall()
    return [r["signatory_id"] for r in rows if names_in(r["signatory_name"], names, whole=True)]


@hookimpl
def mailing_lists(trame: Trame, territory: str) -> list[MailingList]:
    """Each charter's signatories (their signature in force when the message is queued)."""
    from plugins.charte.mailing import offered

    return offered(trame, territory)


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.charte.demo import load

    load(trame, territory)


@hookimpl
def journal_subjects(trame: Trame, territory: str, lines: list[Any]) -> dict[int, Any]:
    """The charter's journal lines name the charter and link to it."""
    from core.journal import Subject

    mine = [line for line in lines if line.event.startswith("charte.") and line.data.get("charter_id")]
    with trame.db.read() as cur:
        titles = {
            r["charter_id"]: r["title"]
            for r in cur.execute("SELECT charter_id, title FROM charte_charters WHERE territory = ?", (territory,)).fetchall()
        }
    out: dict[int, Any] = {}
    for line in mine:
        cid = str(line.data["charter_id"])
        out[line.position] = Subject(f"charte « {titles.get(cid, 'sans titre')} »", f"/t/{territory}/charte/{cid}")
    return out
