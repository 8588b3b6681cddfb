"""Every use of the directory (annuaire) and the meetings (rencontres) by the charter, in one place.

Both are colleagues' plugins with their own read models: we only go through their public
services and Structs, so that a change of their API is fixed here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.mailings import Contact, Target
from core.text import collation_key
from plugins.annuaire import public as annuaire
from plugins.annuaire.public import StructureIn

# The directory's own (public.py), which the charter calls as links.*: re-exported.
from plugins.annuaire.public import find_structure as find_structure
from plugins.annuaire.public import names as names
from plugins.annuaire.public import structure as structure
from plugins.annuaire.public import structures as structures
from plugins.rencontres import public as rencontres

if TYPE_CHECKING:
    from core.application import Trame

PLUGIN = "charte"  # the meetings of the charter carry this plugin name in the meetings plugin
PAGE = 200
AGENDA = (
    "Échange autour de situations difficiles et coordination du travail de chacun",
    "Échange concernant les dispositifs existants et les projets",
    "Présentation détaillée des missions d'un participant ou d'un partenaire extérieur",
)


# -- directory -------------------------------------------------------------------------------
def ensure_directory_demo(trame: Trame, territory: str) -> None:
    annuaire.ensure_demo(trame, territory)


def create_structure(trame: Trame, territory: str, *, author: str, **fields: Any) -> str:
    return annuaire.create(trame, territory, author=author, data=StructureIn(**fields))


# -- meetings --------------------------------------------------------------------------------
def _meetings(trame: Trame) -> Any:
    return rencontres.meetings(trame)


def long_date(day: str | None) -> str:
    return rencontres.long_date(day)


def text_place(trame: Trame, territory: str, text: str) -> Any:
    return _meetings(trame).place(territory, kind="text", text=text)


def plan_series(
    trame: Trame,
    territory: str,
    *,
    author: str,
    title: str,
    first_day: str,
    start: str,
    end: str,
    place_text: str,
    until: str | None,
    count: int | None,
    description: str,
) -> tuple[str, str, list[str]]:
    """Every two months except July and August, anchored on the first day: (series id, rule, meeting ids)."""
    svc = _meetings(trame)
    series_id, ids = svc.plan_series(
        territory,
        author=author,
        title=title,
        first_day=first_day,
        start=start,
        end=end,
        place=text_place(trame, territory, place_text),
        preset="bimestriel-hors-ete",
        until=until,
        count=count,
        plugin=PLUGIN,
        description=description,
    )
    from datetime import date

    return str(series_id), str(rencontres.preset_rule("bimestriel-hors-ete", date.fromisoformat(first_day))), list(ids)


def describe_rule(rule: str) -> str:
    return rencontres.describe(rule)


def series_meetings(trame: Trame, territory: str, series_id: str) -> list[dict[str, Any]]:
    return list(_meetings(trame).list(territory, plugin=PLUGIN, series_id=series_id))


def meeting(trame: Trame, territory: str, meeting_id: str) -> dict[str, Any] | None:
    m: dict[str, Any] | None = _meetings(trame).get(territory, meeting_id)
    return m if m is not None and m["plugin"] == PLUGIN else None


def reschedule(trame: Trame, territory: str, meeting_id: str, day: str, *, author: str, reason: str) -> None:
    m = _meetings(trame).require(territory, meeting_id)
    _meetings(trame).reschedule(territory, meeting_id, author=author, day=day, start=m["start_time"], end=m["end_time"], reason=reason)


def invite(trame: Trame, territory: str, meeting_id: str, structure_ids: list[str], *, author: str, send: bool) -> int:
    delivery = _meetings(trame).invite(territory, meeting_id, structure_ids, author=author, send=send)
    return len(delivery.links)


def invitations(trame: Trame, territory: str, meeting_id: str) -> list[dict[str, Any]]:
    return list(_meetings(trame).invitations(territory, meeting_id))


def record_attendance(trame: Trame, territory: str, meeting_id: str, present: dict[str, str], *, author: str) -> int:
    """present: structure id -> "present" | "excused" | "absent"."""
    entries = [{"structure_id": sid, "status": status} for sid, status in present.items()]
    return int(_meetings(trame).record_attendance(territory, meeting_id, entries, author=author))


def attendance(trame: Trame, territory: str, meeting_id: str) -> list[dict[str, Any]]:
    return list(_meetings(trame).attendance(territory, meeting_id))


def presence_names(trame: Trame, territory: str, meeting_id: str) -> tuple[list[str], list[str]]:
    """(structures present, structures excused) at a meeting, by name, as its meeting page records them
    (a person present makes the structure present)."""
    rows = attendance(trame, territory, meeting_id)
    present = {a["structure_id"] for a in rows if a["status"] == "present"}
    excused = {a["structure_id"] for a in rows if a["status"] == "excused"} - present
    found = names(trame, territory, present | excused)
    return sorted((found[s] for s in present), key=collation_key), sorted((found[s] for s in excused), key=collation_key)


def minutes(trame: Trame, territory: str, meeting_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _meetings(trame).minutes(territory, meeting_id)
    return found


def write_minutes(
    trame: Trame, territory: str, meeting_id: str, parts: list[tuple[str, str]], decisions: list[str], *, author: str
) -> None:
    _meetings(trame).write_minutes(
        territory, meeting_id, author=author, sections=[rencontres.Section(title=t, body=b) for t, b in parts], decisions=decisions
    )


def participation(trame: Trame, territory: str, since: str, until: str, series_ids: list[str]) -> Any:
    """The meetings plugin's figures for the charter's cycles only (rates per meeting and per structure)."""
    return rencontres.compute(trame, territory, since, until, plugin=PLUGIN, series_ids=series_ids)


def addresses(trame: Trame, territory: str, structure_id: str) -> list[str]:
    """Where to send a structure its voting link: its generic address first."""
    return annuaire.addresses(trame, territory, structure_id)


def mailing_targets(trame: Trame, territory: str, structure_ids: list[str]) -> list[Target]:
    """Each of those structures as a mailing target: its generic address, and its current contacts
    who have one (``core.mailings`` writes to them only where the structure has none)."""
    by_id = {s.id: s for s in structures(trame, territory)}
    found = [by_id[sid] for sid in structure_ids if sid in by_id]
    people = annuaire.directory(trame).contacts_of_structures(territory, [s.id for s in found])
    return [
        Target(s.id, s.name, s.email, tuple(Contact(c.person.id, c.person.email) for c in people.get(s.id, []) if c.person.email))
        for s in found
    ]
