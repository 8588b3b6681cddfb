"""Every use of the directory (annuaire) by meetings and cafés, in one place.

The directory is another plugin with its own read models; we only go through its
public service (``plugins.annuaire.service.directory``) and its Structs, so that a
change of its API is fixed here and nowhere else. Tests may ``use()`` a stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.collation import collation_key
from plugins.annuaire.schemas import ContactOut, StructureIn, StructureOut

if TYPE_CHECKING:
    from core.application import Trame

_override: Callable[[Trame], Any] | None = None
PAGE = 200


def use(factory: Callable[[Trame], Any] | None) -> None:
    """Replace the directory service (tests); ``None`` restores the real one."""
    global _override
    _override = factory


def _directory(trame: Trame) -> Any:
    if _override is not None:
        return _override(trame)
    from plugins.annuaire.service import directory

    return directory(trame)


def structures(trame: Trame, territory: str, *, theme: str | None = None, q: str | None = None) -> list[StructureOut]:
    """Every current structure of the territory (all pages), by name."""
    out: list[StructureOut] = []
    offset = 0
    while True:
        items, total = _directory(trame).list_structures(territory, q=q, theme=theme, limit=PAGE, offset=offset)
        out.extend(items)
        offset += len(items)
        if not items or offset >= total:
            break
    return sorted(out, key=lambda s: collation_key(s.name))


def structure(trame: Trame, territory: str, structure_id: str | None) -> StructureOut | None:
    if not structure_id:
        return None
    result: StructureOut | None = _directory(trame).get_structure(territory, structure_id)
    return result


def names(trame: Trame, territory: str) -> dict[str, str]:
    """structure id -> name, for display."""
    return {s.id: s.name for s in structures(trame, territory)}


def find_by_name(trame: Trame, territory: str, name: str) -> StructureOut | None:
    """The structure that bears, or once bore, this name (CRAM became CARSAT, Pôle emploi France Travail)."""
    wanted = name.strip().casefold()

    def bears(s: StructureOut) -> bool:
        return any(n.strip().casefold() == wanted for n in (s.name, *s.former_names))

    for s in structures(trame, territory, q=name):
        if bears(s):
            return s
    return next((s for s in structures(trame, territory) if bears(s)), None)  # the search may not match every spelling


def create(trame: Trame, territory: str, *, author: str, **fields: Any) -> str:
    """Add a structure to the directory (a newcomer presenting itself); returns its id."""
    structure_id, _version = _directory(trame).create_structure(territory, StructureIn(**fields), author=author)
    return str(structure_id)


def contacts(trame: Trame, territory: str, structure_id: str) -> list[ContactOut]:
    result: list[ContactOut] = _directory(trame).contacts(territory, structure_id)
    return result


def addresses(trame: Trame, territory: str, structure_id: str, person_ids: list[str] | None = None) -> list[str]:
    """Where to write to a structure: its generic address, plus the invited people's ones."""
    out: list[str] = []
    s = structure(trame, territory, structure_id)
    if s is not None and s.email:
        out.append(s.email)
    if person_ids:
        for contact in contacts(trame, territory, structure_id):
            if contact.person.id in person_ids and contact.person.email and contact.person.email not in out:
                out.append(contact.person.email)
    return out


def person_names(trame: Trame, territory: str, structure_ids: set[str]) -> dict[str, str]:
    """person id -> name of the contacts of those structures (erased people are left out)."""
    out: dict[str, str] = {}
    for sid in structure_ids:
        try:
            found = contacts(trame, territory, sid)
        except LookupError:  # the structure left the directory since
            continue
        for contact in found:
            if contact.person.name:
                out[contact.person.id] = contact.person.name
    return out


def ensure_directory_demo(trame: Trame, territory: str) -> None:
    """Let the directory write its own demo first (plugins' demo hooks run in no set order);
    it does nothing when the territory's directory already has structures."""
    module = trame.catalog.module_of("annuaire")
    hook = getattr(module, "demo_data", None)
    if hook is not None:
        hook(trame=trame, territory=territory)
