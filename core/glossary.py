"""A territory's glossary as the core uses it: the terms that plugins keep, and the other
spellings of a search.

The core keeps no glossary. A plugin (``lexique``) answers the ``glossary_terms`` hook for
the territories where it is on; the core uses the answer where every plugin benefits: an
acronym explains itself on its first use in a page (:mod:`core.web.abbreviations`), and a
search for « MDS » also finds « maison départementale des solidarités » and the reverse
(:func:`other_spellings`, called by the directory's search).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from core.text import fold

if TYPE_CHECKING:
    from core.application import Trame


@dataclass(frozen=True, slots=True)
class GlossaryTerm:
    """One entry as other code sees it: ``term`` as written (« MDS »), its ``expansion``
    (« Maison départementale des solidarités »; empty for a term that abbreviates nothing)
    and a plain-French ``definition``."""

    term: str
    expansion: str = ""
    definition: str = ""


#: At most this many other spellings of one search (each one is a full-text query).
MAX_SPELLINGS = 6
# Little words left out when a phrase is compared or searched for: « maison départementale
# de la solidarité » and « … des solidarités » are the same phrase to a reader.
_LITTLE = frozenset(("a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour", "sur", "un", "une"))
_WORD = re.compile(r"\w+")

_callers: WeakKeyDictionary[Trame, dict[frozenset[str], Any]] = WeakKeyDictionary()


def terms(trame: Trame, territory: str, plugins: Iterable[str] | None = None) -> tuple[GlossaryTerm, ...]:
    """The glossary of ``territory`` from the plugins on there. ``plugins``: their names when
    the caller has them already (a page's access); otherwise they are read."""
    on = frozenset(plugins) if plugins is not None else frozenset(trame.territories.enabled_plugins(territory))
    callers = _callers.setdefault(trame, {})
    caller = callers.get(on)
    if caller is None:
        off = [p for p in trame.pm.get_plugins() if trame.catalog.name_of(p) not in on]
        caller = callers[on] = trame.pm.subset_hook_caller("glossary_terms", remove_plugins=off)
    found: list[GlossaryTerm] = []
    for answer in caller(trame=trame, territory=territory):
        found.extend(answer or ())
    return tuple(found)


def other_spellings(query: str, glossary: Sequence[GlossaryTerm]) -> list[str]:
    """The query with an acronym spelt out, or a spelt-out phrase shortened to its acronym,
    once per term of the glossary that it names (at most :data:`MAX_SPELLINGS`)."""
    tokens = _WORD.findall(query)
    if not tokens:
        return []
    folded = [fold(t) for t in tokens]
    content = [i for i, f in enumerate(folded) if f not in _LITTLE]
    out: list[str] = []
    for entry in glossary:
        if not entry.expansion:
            continue
        phrase = [w for w in _WORD.findall(entry.expansion) if fold(w) not in _LITTLE]
        short = fold(entry.term)
        if short in folded:  # the acronym is written: spell it out
            i = folded.index(short)
            out.append(" ".join([*tokens[:i], *phrase, *tokens[i + 1 :]]))
        wanted = [fold(w) for w in phrase]
        if len(wanted) > 1:  # the phrase is written: shorten it
            for start in range(len(content) - len(wanted) + 1):
                if [folded[i] for i in content[start : start + len(wanted)]] == wanted:
                    first, last = content[start], content[start + len(wanted) - 1]
                    out.append(" ".join([*tokens[:first], entry.term, *tokens[last + 1 :]]))
                    break
        if len(out) >= MAX_SPELLINGS:
            break
    same = fold(query.strip())
    return [s for s in dict.fromkeys(out) if fold(s) != same][:MAX_SPELLINGS]


def spellings(trame: Trame, territory: str, query: str | None) -> list[str]:
    """:func:`other_spellings` of a search in ``territory``, with its glossary (none when no plugin keeps one there)."""
    if not query or not query.strip():
        return []
    glossary = terms(trame, territory)
    return other_spellings(query, glossary) if glossary else []
