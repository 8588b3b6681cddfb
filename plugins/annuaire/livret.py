"""The printable booklet ("livret") of a territory's partners, as the Fumel café compiled it.

A cover with the territory and the date the booklet reflects, a table of contents,
the partners grouped by kind or by theme, one identity sheet per structure (generic
e-mail first, then its contacts as of that date). It reads the directory ``as_of`` a
date and ``known_at`` a time, so the booklet of 5 January 2012 can be printed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import clock
from core.plugins import PageSection
from plugins.annuaire import kinds
from plugins.annuaire.exchange import current_structures, normalize
from plugins.annuaire.schemas import ContactOut, StructureOut
from plugins.annuaire.service import CONTACT_ROLES, directory

if TYPE_CHECKING:
    from core.application import Trame

GROUPINGS = {"kind": "par type de structure", "theme": "par thème"}
NO_KIND = "Autres structures"
NO_THEME = "Sans thème précisé"


@dataclass
class Sheet:
    """One structure's page of the booklet."""

    structure: StructureOut
    anchor: str
    contacts: list[ContactOut]
    relays: list[StructureOut]
    themes: list[str]
    roles: list[str]
    kind_label: str | None

    @property
    def contact_lines(self) -> list[tuple[str, ContactOut]]:
        out = []
        for contact in self.contacts:
            role = CONTACT_ROLES.get(contact.role, contact.role)
            if contact.theme:
                role += f" — {kinds.THEMES.get(contact.theme, contact.theme)}"
            out.append((role, contact))
        return out


@dataclass
class Group:
    key: str
    title: str
    anchor: str
    sheets: list[Sheet] = field(default_factory=list)  # printed in full here
    also: list[Sheet] = field(default_factory=list)  # printed in another group: a cross-reference


@dataclass
class Livret:
    territory: str
    territory_title: str
    as_of: str
    known_at: str | None
    group: str
    groups: list[Group]
    generated_at: str
    #: What other plugins add at the end (the glossary), through the ``page_sections`` hook.
    sections: list[PageSection] = field(default_factory=list)

    @property
    def date_label(self) -> str:
        return clock.french_long_date(self.as_of)

    @property
    def count(self) -> int:
        return sum(len(g.sheets) for g in self.groups)

    def group_of(self, sheet: Sheet) -> Group:
        return next(g for g in self.groups if sheet in g.sheets)


def build(trame: Trame, territory: str, *, as_of: str | None = None, known_at: str | None = None, group: str = "kind") -> Livret:
    """The booklet as of a date; ``group`` is "kind" or "theme"."""
    if group not in GROUPINGS:
        group = "kind"
    at = as_of or clock.now()
    service = directory(trame)
    structures = current_structures(trame, territory, at, known_at)
    relay_ids = {r for s in structures for r in s.relays}
    relays = service.structures(territory, relay_ids, as_of=at, known_at=known_at) if relay_ids else {}
    contacts = service.contacts_of_structures(territory, [s.id for s in structures], as_of=at, known_at=known_at)
    sheets = [
        Sheet(
            structure=s,
            anchor=f"fiche-{s.id}",
            contacts=[c for c in contacts[s.id] if not c.person.erased],
            relays=[relays[r] for r in s.relays if r in relays],
            themes=[kinds.THEMES.get(t, t) for t in s.themes],
            roles=[kinds.PARTNER_ROLES.get(r, r) for r in s.roles],
            kind_label=_kind_label(s.kind),
        )
        for s in structures
    ]
    groups = _by_kind(sheets) if group == "kind" else _by_theme(sheets)
    territory_row = trame.territories.get(territory) or {}
    return Livret(
        territory=territory,
        territory_title=territory_row.get("title", territory),
        as_of=at,
        known_at=known_at,
        group=group,
        groups=groups,
        generated_at=clock.now(),
        sections=_sections(trame, territory, at, known_at),
    )


def _sections(trame: Trame, territory: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """Sections that the plugins on in the territory add at the end of the booklet."""
    enabled = trame.territories.enabled_plugins(territory)
    off = [p for p in trame.pm.get_plugins() if trame.catalog.name_of(p) not in enabled]
    caller = trame.pm.subset_hook_caller("page_sections", remove_plugins=off)
    found: list[PageSection] = []
    page = {"page": "annuaire.livret", "territory": territory, "subject_id": territory, "as_of": as_of, "known_at": known_at}
    for contributed in caller(trame=trame, **page):
        found.extend(contributed or [])
    return sorted(found, key=lambda s: s.order)


def _kind_label(code: str | None) -> str | None:
    kind = kinds.kind_by_code(code or "")
    return kind.label if kind else None


def _sorted(sheets: list[Sheet]) -> list[Sheet]:
    return sorted(sheets, key=lambda s: normalize(s.structure.name))


def _by_kind(sheets: list[Sheet]) -> list[Group]:
    """Groups in the order of the maintained list of kinds; structures without a kind last."""
    order = {kind.code: i for i, kind in enumerate(kinds.KINDS)}
    buckets: dict[str, list[Sheet]] = {}
    for sheet in sheets:
        buckets.setdefault(sheet.structure.kind or "", []).append(sheet)
    groups = []
    for code in sorted(buckets, key=lambda c: (c == "" or c not in order, order.get(c, 0), c)):
        kind = kinds.kind_by_code(code)
        title = kind.label if kind else NO_KIND
        groups.append(Group(code or "sans-type", title, f"groupe-{code or 'sans-type'}", _sorted(buckets[code])))
    return groups


def _by_theme(sheets: list[Sheet]) -> list[Group]:
    """A structure's sheet is printed under its first theme; its other themes refer to it."""
    groups = {code: Group(code, label, f"groupe-{code}") for code, label in kinds.THEMES.items()}
    none = Group("sans-theme", NO_THEME, "groupe-sans-theme")
    for sheet in sheets:
        themes = [t for t in sheet.structure.themes if t in groups]
        if not themes:
            none.sheets.append(sheet)
            continue
        groups[themes[0]].sheets.append(sheet)
        for other in themes[1:]:
            groups[other].also.append(sheet)
    out = [g for g in groups.values() if g.sheets or g.also] + ([none] if none.sheets else [])
    for g in out:
        g.sheets = _sorted(g.sheets)
        g.also = _sorted(g.also)
    return out
