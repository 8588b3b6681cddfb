"""The audit journal in words: who did what, to what, when and why, for a coordinator.

The journal projection keeps every event with its envelope and its public fields. This module
turns its rows into lines a person reads: the author's name (or "réponse par lien de <structure>"
for an answer given through a link), the change and its module in French, the item it touched
(named and linked by the plugin that owns it, through the ``journal_subjects`` hook), the time
it was recorded, the date it takes effect and the reason given. No technical name reaches the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from core import structures

if TYPE_CHECKING:
    from core.application import Trame

#: Authors that are not accounts.
AUTHORS = {"system": "Trame (automatique)", "import": "import de données", "invitation": "invitation acceptée"}
#: The author of an answer given through a meeting's answer link (``lien:<invitation id>``).
LINK_PREFIX = "lien:"


@dataclass(frozen=True)
class JournalLine:
    """One row of the journal as a plugin sees it when naming what it touched."""

    position: int
    event: str
    stream_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Subject:
    """What a change touched: its name, and the page that shows it (None when it has none)."""

    label: str
    href: str | None = None


@dataclass(frozen=True)
class Entry:
    """A journal line ready for the page."""

    position: int
    who: str
    what: str
    module: str
    subject: Subject | None
    recorded_at: str
    effective: str
    reason: str | None


def _module_of(trame: Trame, event: str) -> str:
    name = event.split(".", 1)[0]
    info = trame.catalog.info.get(name)
    return info.title if info else "Administration du territoire"


def _what(trame: Trame, event: str) -> str:
    if event in trame.registry:
        label = trame.registry.type_of(event).journal_label
        if label:
            return label
    return "Changement d'un module retiré"


def describe(trame: Trame, territory: str, rows: list[dict[str, Any]]) -> list[Entry]:
    """French lines for journal rows (``position, event, stream_id, author, author_name,
    recorded_at, effective, reason, data``), newest first as given."""
    lines = [JournalLine(r["position"], r["event"], r["stream_id"], msgspec.json.decode(r["data"])) for r in rows]
    subjects: dict[int, Subject] = {}
    for answer in trame.pm.hook.journal_subjects(trame=trame, territory=territory, lines=lines):
        subjects.update(answer or {})
    names: dict[str, str] | None = None
    out = []
    for row, line in zip(rows, lines, strict=True):
        subject = subjects.get(line.position) or _core_subject(trame, territory, line)
        author = str(row["author"])
        if author.startswith(LINK_PREFIX):
            if names is None:
                names = dict(structures.choices(trame, territory))
            sid = str(line.data.get("structure_id") or "")
            who = f"réponse par lien de {names.get(sid, 'une structure sortie de l’annuaire')}"
        else:
            who = row["author_name"] or AUTHORS.get(author, "compte supprimé")
        out.append(
            Entry(
                position=line.position,
                who=who,
                what=_what(trame, line.event),
                module=_module_of(trame, line.event),
                subject=subject,
                recorded_at=row["recorded_at"],
                effective=row["effective"],
                reason=row["reason"],
            )
        )
    return out


def _core_subject(trame: Trame, territory: str, line: JournalLine) -> Subject | None:
    """The core's own subjects: a module switched on or off, a territory, an account's role."""
    plugin = line.data.get("plugin")
    if isinstance(plugin, str) and plugin in trame.catalog.info:
        return Subject(f"module « {trame.catalog.info[plugin].title} »", f"/t/{territory}/modules")
    if line.event == "core.TerritoryCreated":
        return Subject("le territoire", f"/t/{territory}/")
    if line.event.startswith("core.Membership"):
        return Subject("les membres du territoire", f"/t/{territory}/membres")
    return None
