"""What other plugins may use of the directory (annuaire): this module and nothing else of it.

The directory keeps the territory's structures and their contacts in its own read models.
A plugin that shows a structure's name, lists a territory's partners, writes to a
structure or adds a newcomer goes through these functions and Structs; it never imports
another module of ``plugins.annuaire`` and never reads its tables. A change inside the
directory is then fixed here, once, and ``tests/test_plugins.py`` checks the rule.

Every function takes the territory: ids from another territory are absent, as everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from core.refusals import Refused
from core.text import collation_key
from plugins.annuaire.kinds import PARTNER_ROLES, THEMES
from plugins.annuaire.schemas import ContactOut, PersonOut, StructureIn, StructureOut
from plugins.annuaire.service import Directory, directory

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event

__all__ = [
    "PARTNER_ROLES",
    "THEMES",
    "ContactOut",
    "Directory",
    "NewService",
    "PersonOut",
    "StructureIn",
    "StructureOut",
    "addresses",
    "contacts",
    "create",
    "directory",
    "ensure_demo",
    "find_by_name",
    "find_structure",
    "joining",
    "known_names",
    "names",
    "new_services",
    "person_names",
    "structure",
    "structures",
]

PAGE = 200
GONE = "structure sortie de l'annuaire"


def structures(
    trame: Trame, territory: str, *, theme: str | None = None, q: str | None = None, as_of: str | None = None
) -> list[StructureOut]:
    """Every structure of the territory at ``as_of`` (default now), all pages, by name."""
    out: list[StructureOut] = []
    offset = 0
    while True:
        items, total = directory(trame).list_structures(territory, q=q, theme=theme, as_of=as_of, limit=PAGE, offset=offset)
        out.extend(items)
        offset += len(items)
        if not items or offset >= total:
            break
    return sorted(out, key=lambda s: collation_key(s.name))


def structure(trame: Trame, territory: str, structure_id: str | None, as_of: str | None = None) -> StructureOut | None:
    """One sheet at ``as_of``; None when blank, unknown here, or out of the network then."""
    if not structure_id:
        return None
    return directory(trame).get_structure(territory, structure_id, as_of=as_of)


def names(trame: Trame, territory: str, ids: Iterable[str] | None = None, as_of: str | None = None) -> dict[str, str]:
    """structure id -> name at ``as_of``, for display.

    Without ``ids``: every structure in the network then. With ids: each one named, even one
    that has left the network since (its last name), so an old record still reads."""
    if ids is None:
        return {s.id: s.name for s in structures(trame, territory, as_of=as_of)}
    wanted = {i for i in ids if i}
    svc = directory(trame)
    found = {sid: s.name for sid, s in svc.structures(territory, wanted, as_of=as_of).items()}
    for sid in wanted - found.keys():
        found[sid] = _last_name(svc, territory, sid) or GONE
    return found


def _last_name(svc: Directory, territory: str, structure_id: str) -> str | None:
    try:
        history = svc.history(territory, structure_id=structure_id)
    except Refused:  # not a structure of this territory
        return None
    for entry in reversed(history):
        for change in entry.changes:
            if change.field == "name" and change.after:
                return str(change.after)
    return None


def find_structure(trame: Trame, territory: str, query: str, as_of: str | None = None) -> StructureOut | None:
    """The best match of a search (name, acronym, former name) among the structures at ``as_of``."""
    items, _total = directory(trame).list_structures(territory, q=query, as_of=as_of, limit=1)
    return items[0] if items else None


def find_by_name(trame: Trame, territory: str, name: str) -> StructureOut | None:
    """The structure that bears, or once bore, exactly this name (CRAM became CARSAT)."""
    wanted = name.strip().casefold()

    def bears(s: StructureOut) -> bool:
        return any(n.strip().casefold() == wanted for n in (s.name, *s.former_names))

    for s in structures(trame, territory, q=name):
        if bears(s):
            return s
    return next((s for s in structures(trame, territory) if bears(s)), None)  # the search may not match every spelling


def create(trame: Trame, territory: str, *, author: str, data: StructureIn) -> str:
    """Add a structure to the directory (a newcomer presenting itself); returns its id."""
    structure_id, _version = directory(trame).create_structure(territory, data, author=author)
    return structure_id


def joining(trame: Trame, territory: str, data: StructureIn) -> tuple[UUID, Event]:
    """A new structure's stream and first event, checked as :func:`create` checks them but not
    written: for a command that writes it in one atomic append with its own events
    (``core.commands.run``, the stream read as new). Its date is the command's effective date."""
    return directory(trame).joining(territory, data)


def contacts(trame: Trame, territory: str, structure_id: str, as_of: str | None = None) -> list[ContactOut]:
    """Who held which role at the structure at ``as_of`` (erased people come back nameless)."""
    return directory(trame).contacts(territory, structure_id, as_of=as_of)


def addresses(trame: Trame, territory: str, structure_id: str, person_ids: Iterable[str] | None = None) -> list[str]:
    """Where to write to a structure: its generic address first, then the given contacts' own."""
    out: list[str] = []
    s = structure(trame, territory, structure_id)
    if s is not None and s.email:
        out.append(s.email)
    wanted = set(person_ids or ())
    if wanted:
        for contact in contacts(trame, territory, structure_id):
            email = contact.person.email
            if contact.person.id in wanted and email and email not in out:
                out.append(email)
    return out


def person_names(trame: Trame, territory: str, structure_ids: Iterable[str]) -> dict[str, str]:
    """person id -> name of the current contacts of those structures (erased people left out)."""
    out: dict[str, str] = {}
    for found in directory(trame).contacts_of_structures(territory, structure_ids).values():
        for contact in found:
            if contact.person.name:
                out[contact.person.id] = contact.person.name
    return out


def known_names(trame: Trame, territory: str) -> list[str]:
    """The names the directory knows in ``territory`` today: its structures' and their current
    contacts' (professionals). A free-text check (:mod:`core.privacy`) does not flag them."""
    structure_names = names(trame, territory)
    return [*structure_names.values(), *person_names(trame, territory, structure_names.keys()).values()]


def ensure_demo(trame: Trame, territory: str) -> None:
    """Write the directory's demo first, for a plugin whose demo names its structures (demo
    hooks run in no set order); it does nothing when the territory already has structures."""
    from plugins.annuaire.demo import load

    load(trame, territory)


@dataclass(frozen=True)
class NewService:
    """A service a structure started to offer (or offered again): news for a round table."""

    service_id: str
    name: str
    structure_id: str
    structure_name: str
    started: str  # YYYY-MM-DD, the day it started (or restarted)
    themes: tuple[str, ...]  # the French labels of its themes
    url: str  # its page in the directory


def new_services(trame: Trame, territory: str, *, since: str | None, until: str) -> list[NewService]:
    """Services that started (or restarted) after the instant ``since`` (None: ever) and by the
    instant ``until``, as they were at ``until``, by structure then name. A service whose
    structure is out of the network at ``until`` is left out."""
    from plugins.annuaire.services import services

    found = services(trame).offered_between(territory, since, until)
    present = directory(trame).structures(territory, {s.structure_id for s in found}, as_of=until)
    out = [
        NewService(
            service_id=s.id,
            name=s.name,
            structure_id=s.structure_id,
            structure_name=present[s.structure_id].name,
            started=s.offered or "",
            themes=tuple(dict.fromkeys(s.theme_labels)),
            url=f"/t/{territory}/annuaire/services/{s.id}",
        )
        for s in found
        if s.structure_id in present
    ]
    return sorted(out, key=lambda n: (collation_key(n.structure_name), collation_key(n.name)))
