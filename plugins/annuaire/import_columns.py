"""The column mapping a coordinator chose for a spreadsheet import, remembered per territory.

Partners send the same spreadsheet every year with the same odd headers ("Structure porteuse",
"Interlocuteur"): the dry run suggests each column's field from the header's name, the
coordinator corrects it, and the next file of that territory gets the same choice. One stream
per territory holds the choices; the projection keeps the latest per header (folded text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core.commands import History, run
from core.database import Cursor
from core.events import Event, Recorded
from core.projection import Projection
from core.store import Context

if TYPE_CHECKING:
    from core.application import Trame

#: A header's field: a field code, or "" for a column the coordinator chose to ignore.
Columns = dict[str, str]


class ImportColumnsMapped(Event, frozen=True):
    """The coordinator imported a spreadsheet whose headers (folded) meant these fields."""

    name = "annuaire.ImportColumnsMapped"
    journal_label = "Correspondance des colonnes d'import mémorisée"
    columns: dict[str, str] = msgspec.field(default_factory=dict)


EVENTS: list[type[Event]] = [ImportColumnsMapped]


class ImportColumnsProjection(Projection):
    name = "annuaire.import_columns"
    version = 1
    topics = (ImportColumnsMapped.name,)
    tables = ("annuaire_import_columns",)

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS annuaire_import_columns (territory TEXT NOT NULL, header TEXT NOT NULL, "
            "field TEXT NOT NULL, PRIMARY KEY (territory, header))"
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e: Any = rec.event
        for header, field in e.columns.items():
            cur.execute(
                "INSERT INTO annuaire_import_columns (territory, header, field) VALUES (?, ?, ?) "
                "ON CONFLICT (territory, header) DO UPDATE SET field = excluded.field",
                (rec.territory, header, field),
            )


def _stream(territory: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:annuaire:import-columns:{territory}")


def remembered(trame: Trame, territory: str) -> Columns:
    """Folded header -> field ("" = ignored) as last chosen on this territory."""
    with trame.db.read() as cur:
        rows = cur.execute("SELECT header, field FROM annuaire_import_columns WHERE territory = ?", (territory,)).fetchall()
    return {r["header"]: r["field"] for r in rows}


def remember(trame: Trame, territory: str, columns: Columns, author: str) -> None:
    """Record the choices that differ from what is remembered (nothing when none does)."""
    known = remembered(trame, territory)
    changed = {h: f for h, f in columns.items() if h and known.get(h) != f}
    if not changed:
        return
    stream = _stream(territory)

    def decide(_history: History) -> dict[UUID, list[Event]]:
        return {stream: [ImportColumnsMapped(columns=changed)]}

    run(trame, Context(author=author, territory=territory, reason="Import de tableur"), [stream], decide)
