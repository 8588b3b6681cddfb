"""Every use of the directory (annuaire) and the meetings (rencontres) by the charter, in one place.

Both are colleagues' plugins with their own read models: we only go through their public
services and Structs, so that a change of their API is fixed here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.collation import collation_key
from plugins.annuaire.schemas import StructureIn, StructureOut

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
def _directory(trame: Trame) -> Any:
    from plugins.annuaire.service import directory

    return directory(trame)


def structures(trame: Trame, territory: str, *, q: str | None = None, as_of: str | None = None) -> list[StructureOut]:
    """Every structure of the territory at a date (all pages), by name."""
    out: list[StructureOut] = []
    offset = 0
    while True:
        items, total = _directory(trame).list_structures(territory, q=q, as_of=as_of, limit=PAGE, offset=offset)
        out.extend(items)
        offset += len(items)
        if not items or offset >= total:
            break
    return sorted(out, key=lambda s: collation_key(s.name))


def structure(trame: Trame, territory: str, structure_id: str | None, as_of: str | None = None) -> StructureOut | None:
    if not structure_id:
        return None
    found: StructureOut | None = _directory(trame).get_structure(territory, structure_id, as_of=as_of)
    return found


def names(trame: Trame, territory: str, ids: set[str] | None = None) -> dict[str, str]:
    """structure id -> current name; a structure that has left the directory since keeps its id
    as name only if it is not found at all (the directory API has no "any time" lookup by id)."""
    if ids is None:
        return {s.id: s.name for s in structures(trame, territory)}
    found = {sid: s.name for sid, s in _directory(trame).structures(territory, ids).items()}
    for sid in ids - found.keys():
        history = _directory(trame).history(territory, structure_id=sid) if sid else []
        found[sid] = _last_name(history) or "structure sortie de l'annuaire"
    return found


def _last_name(history: list[Any]) -> str | None:
    for entry in reversed(history):
        for change in entry.changes:
            if change.field == "name" and change.after:
                return str(change.after)
    return None


def find_structure(trame: Trame, territory: str, query: str, as_of: str | None = None) -> StructureOut | None:
    """The best structure matching a search (name, acronym), among those in the directory at ``as_of``."""
    items, _total = _directory(trame).list_structures(territory, q=query, as_of=as_of, limit=1)
    return items[0] if items else None


def ensure_directory_demo(trame: Trame, territory: str) -> None:
    """Let the directory write its demo first (demo hooks run in no set order); it does nothing when
    the territory's directory already has structures."""
    hook = getattr(trame.catalog.module_of("annuaire"), "demo_data", None)
    if hook is not None:
        hook(trame=trame, territory=territory)


def create_structure(trame: Trame, territory: str, *, author: str, **fields: Any) -> str:
    structure_id, _version = _directory(trame).create_structure(territory, StructureIn(**fields), author=author)
    return str(structure_id)


# -- meetings --------------------------------------------------------------------------------
def _meetings(trame: Trame) -> Any:
    from plugins.rencontres.service import meetings

    return meetings(trame)


def long_date(day: str | None) -> str:
    from plugins.rencontres.recurrence import long_date as _long

    return _long(day)


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
    from plugins.rencontres.recurrence import preset_rule

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

    return str(series_id), str(preset_rule("bimestriel-hors-ete", date.fromisoformat(first_day))), list(ids)


def describe_rule(rule: str) -> str:
    from plugins.rencontres.recurrence import describe

    return describe(rule)


def series_meetings(trame: Trame, territory: str, series_id: str) -> list[dict[str, Any]]:
    return list(_meetings(trame).list(territory, plugin=PLUGIN, series_id=series_id))


def charter_meetings(trame: Trame, territory: str, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    return list(_meetings(trame).list(territory, plugin=PLUGIN, since=since, until=until))


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
    from plugins.rencontres.events import Section

    _meetings(trame).write_minutes(
        territory, meeting_id, author=author, sections=[Section(title=t, body=b) for t, b in parts], decisions=decisions
    )


def participation(trame: Trame, territory: str, since: str, until: str, series_ids: list[str]) -> Any:
    """The meetings plugin's figures for the charter's cycles only (rates per meeting and per structure)."""
    from plugins.rencontres import figures

    return figures.compute(trame, territory, since, until, plugin=PLUGIN, series_ids=series_ids)
