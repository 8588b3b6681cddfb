"""Known acronyms explain themselves: ``<abbr title="…">`` on their first use in each page.

Every page rendered through :func:`core.web.rendering.render` in a territory carries that
territory's glossary (:mod:`core.glossary`); the page's template is rendered as usual,
autoescaped, and the finished HTML gets one pass that wraps the first use of each known
acronym. So every plugin's pages get it without a change to their templates.

The pass only touches text: never a tag or its attributes (a link's ``href``, a ``title``,
a form's ``value``), never the inside of ``head``, ``script``, ``style``, ``textarea``,
``select``, ``svg``, ``code``, ``pre`` or of an ``abbr`` already there (an acronym already
explained there counts as its first use). It inserts only the tag and the expansion,
attribute-escaped: the text around it stays exactly as the template escaped it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

import jinja2
from markupsafe import escape

from core.glossary import GlossaryTerm

#: The context key that carries a page's :class:`Abbreviations` to its template.
CONTEXT_KEY = "_abbreviations"

# Elements whose content is not prose: kept whole (lazy: nested svg in svg is not expected).
_SKIPPED = re.compile(r"<!--.*?-->|<(head|script|style|textarea|title|select|svg|code|pre|abbr)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_WORD_CHAR = re.compile(r"[\w&]")


class Abbreviations:
    """The pass for one glossary: its acronyms compiled once into one expression."""

    def __init__(self, glossary: Iterable[GlossaryTerm]) -> None:
        self.titles: dict[str, str] = {}
        for entry in glossary:
            term, expansion = entry.term.strip(), entry.expansion.strip()
            if term and expansion and term not in self.titles and not re.search(r"\s", term):
                self.titles[term] = expansion
        # Longest first, so that « CESF » is not read as « ESF » preceded by a letter; the
        # boundary before a match is checked in Python (a lookbehind would be tried at
        # every position of the page; a literal first character lets the engine skip ahead).
        alternatives = "|".join(re.escape(t) for t in sorted(self.titles, key=lambda t: (-len(t), t)))
        self.pattern = re.compile(f"(?:{alternatives})(?!\\w)") if self.titles else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def apply(self, html: str) -> str:
        """The page with the first use of each acronym in its text wrapped in ``<abbr>``."""
        if self.pattern is None:
            return html
        first: dict[str, int] = {}
        explained: set[str] = set()
        skipped: list[tuple[int, int, str]] | None = None
        starts: list[int] = []
        wanted = len(self.titles)
        for match in self.pattern.finditer(html):
            term, at = match.group(), match.start()
            if term in first or term in explained:
                continue
            if at and _WORD_CHAR.match(html, at - 1):  # inside a word or an entity (&AMP;)
                continue
            if html.rfind("<", 0, at) > html.rfind(">", 0, at):  # inside a tag: an attribute
                continue
            if skipped is None:
                skipped = [(m.start(), m.end(), (m.group(1) or "").lower()) for m in _SKIPPED.finditer(html)]
                starts = [s[0] for s in skipped]
            i = bisect_right(starts, at) - 1
            if i >= 0 and at < skipped[i][1]:
                if skipped[i][2] == "abbr":
                    explained.add(term)
                continue
            first[term] = at
            if len(first) + len(explained) == wanted:
                break
        if not first:
            return html
        out: list[str] = []
        done = 0
        for term, at in sorted(first.items(), key=lambda kv: kv[1]):
            out.append(html[done:at])
            out.append(f'<abbr title="{escape(self.titles[term])}">{escape(term)}</abbr>')
            done = at + len(term)
        out.append(html[done:])
        return "".join(out)


_compiled: dict[tuple[GlossaryTerm, ...], Abbreviations] = {}
#: Distinct glossaries kept compiled (one per territory and version of its glossary).
COMPILED_KEPT = 256


def compiled(glossary: tuple[GlossaryTerm, ...]) -> Abbreviations:
    """The pass for this glossary, compiled once."""
    found = _compiled.get(glossary)
    if found is None:
        if len(_compiled) >= COMPILED_KEPT:
            _compiled.clear()
        found = _compiled[glossary] = Abbreviations(glossary)
    return found


class AbbreviatingTemplate(jinja2.Template):
    """A template whose page, when its context carries :data:`CONTEXT_KEY`, gets the pass.
    Only a page rendered whole goes through ``render``: included or extended templates and
    fragments (rendered without the key) do not, so each page gets one pass."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        html = super().render(*args, **kwargs)
        abbreviations = kwargs.get(CONTEXT_KEY) if not args else dict(*args, **kwargs).get(CONTEXT_KEY)
        return abbreviations.apply(html) if isinstance(abbreviations, Abbreviations) else html
