"""A structure belongs to one territory: the one check every command that takes a structure id makes.

Structures are the directory's (a plugin's), but ids of them travel through the core (a
referent's membership, an invitation) and through every other plugin (a café's host, a
charter's signatory, a meeting's guests). A command given an id must refuse it, as absent
(404), unless the structure is in *this* territory: otherwise an id copied from another
territory grants a role there, or shows its name here.

The plugin that keeps structures answers through the ``structures_in`` hook
(``core/hookspecs.py``). With no plugin answering, no id belongs anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from core.refusals import absent
from core.text import collation_key

if TYPE_CHECKING:
    from core.application import Trame

NOT_HERE = "Cette structure n'existe pas sur ce territoire."


def belonging(trame: Trame, territory: str, structure_ids: Iterable[str | None]) -> set[str]:
    """The ids among ``structure_ids`` that are structures of ``territory``."""
    wanted = sorted({s for s in structure_ids if s})
    if not wanted:
        return set()
    found: set[str] = set()
    for answer in trame.pm.hook.structures_in(trame=trame, territory=territory, structure_ids=wanted):
        found.update(answer or ())
    return found & set(wanted)


def require_structures(trame: Trame, territory: str, structure_ids: Iterable[str | None], message: str = NOT_HERE) -> None:
    """Refuse as absent (404) unless every given id (blanks ignored) is a structure of ``territory``."""
    wanted = {s for s in structure_ids if s}
    if wanted - belonging(trame, territory, wanted):
        raise absent(message)


def require_structure(trame: Trame, territory: str, structure_id: str | None, message: str = NOT_HERE) -> None:
    """:func:`require_structures` for one id; a blank id is left to the caller (required or not)."""
    require_structures(trame, territory, [structure_id], message)


def choices(trame: Trame, territory: str) -> list[tuple[str, str]]:
    """``(id, name)`` of the structures of ``territory`` today, in French alphabetical order (for a menu)."""
    found: dict[str, str] = {}
    for answer in trame.pm.hook.structure_choices(trame=trame, territory=territory):
        found.update(answer or ())
    return sorted(found.items(), key=lambda item: collation_key(item[1]))
