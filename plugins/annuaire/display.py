"""What every directory page shares: where it is mounted, who may open it, and how stored
values (codes, ids, instants, erased people) read to a person."""

from __future__ import annotations

from typing import Any

from litestar import Request
from markupsafe import Markup

from core import clock
from core.application import Trame
from core.plugins import PageSection
from core.refusals import Refused
from plugins.annuaire import kinds
from plugins.annuaire.form_checks import LABELS
from plugins.annuaire.moments import Moment, fr_day, fr_time
from plugins.annuaire.schemas import HistoryEntry
from plugins.annuaire.service import CONTACT_ROLES, ERASED_NAME, directory

Req = Request[Any, Any, Any]

P = "/t/{territory:str}/annuaire"
S = P + "/structures/{structure_id:str}"
# "plugin" is set again here so that these routes answer 404 where the directory is off even when
# they are mounted by another (test) plugin.
READ = {"role": "member", "plugin": "annuaire"}
EDIT = {"role": "referent", "plugin": "annuaire"}
COORD = {"role": "coordinator", "plugin": "annuaire"}


# -- display of values -----------------------------------------------------------------------
class Shower:
    """Turns stored values (codes, ids, instants) into what a person reads."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}

    def __call__(self, field: str, value: Any) -> str:
        if value is None or value == [] or value == "":
            return "—"
        if isinstance(value, list):
            return ", ".join(self(field, v) for v in value)
        if field == "kind":
            kind = kinds.kind_by_code(str(value))
            return kind.label if kind else str(value)
        if field == "public":
            return "public" if value else "privé"
        if field == "exists":
            return "oui" if value else "non"
        if field == "themes" or field == "theme":
            return kinds.THEMES.get(str(value), str(value))
        if field == "roles":
            return kinds.PARTNER_ROLES.get(str(value), str(value))
        if field == "role":
            return CONTACT_ROLES.get(str(value), str(value))
        if field in ("since", "until", "effective"):
            return fr_day(str(value))
        if field in ("relays", "merged_into", "absorbed", "into"):
            return self.names.get(str(value), "structure " + str(value)[:8])
        return str(value)


def ids_in(entries: list[HistoryEntry]) -> set[str]:
    found: set[str] = set()
    for e in entries:
        for c in e.changes:
            if c.field in ("relays", "merged_into", "absorbed"):
                for v in (c.before, c.after):
                    if isinstance(v, list):
                        found.update(str(x) for x in v)
                    elif v:
                        found.add(str(v))
    return found


def names_of(trame: Trame, territory: str, ids: set[str], m: Moment | None = None) -> dict[str, str]:
    """Structure names for ids, as of the page's date when possible, else now, else their last name."""
    svc = directory(trame)
    out: dict[str, str] = {}
    if m is not None and (m.as_of or m.known_at):
        out.update({i: s.name for i, s in svc.structures(territory, ids, m.as_of, m.known_at).items()})
    missing = ids - out.keys()
    if missing:
        out.update({i: s.name for i, s in svc.structures(territory, missing).items() if i not in out})
    for sid in ids - out.keys():  # gone (left or merged): the name it had last
        try:
            name = last_name(svc.history(territory, structure_id=sid))
        except Refused:
            continue
        if name:
            out[sid] = name
    return out


def last_name(entries: list[HistoryEntry]) -> str | None:
    name = None
    for e in entries:
        for c in e.changes:
            if c.field == "name" and c.after and e.structure_id == e.subject_id:
                name = str(c.after)
    return name


def known(entries: list[HistoryEntry], m: Moment) -> list[HistoryEntry]:
    """A timeline as it was known at ``known_at``, in the order of effective dates."""
    kept = [e for e in entries if m.known_at is None or e.recorded_at <= m.known_at]
    return sorted(kept, key=lambda e: (e.effective, e.position))


def sections(trame: Trame, territory: str, structure_id: str, m: Moment) -> list[PageSection]:
    """Sections other plugins add to the structure page; only from plugins on in the territory."""
    enabled = trame.territories.enabled_plugins(territory)
    off = [p for p in trame.pm.get_plugins() if p.plugin_info().name not in enabled]
    caller = trame.pm.subset_hook_caller("page_sections", remove_plugins=off)
    found: list[PageSection] = []
    for contributed in caller(
        trame=trame,
        page="annuaire.structure",
        territory=territory,
        subject_id=structure_id,
        as_of=m.as_of or clock.now(),
        known_at=m.known_at,
    ):
        found.extend(contributed or [])
    return sorted(found, key=lambda s: s.order)


def common(m: Moment | None = None) -> dict[str, Any]:
    return {
        "labels": LABELS,
        "kinds": kinds.KINDS,
        "themes": kinds.THEMES,
        "partner_roles": kinds.PARTNER_ROLES,
        "contact_roles": CONTACT_ROLES,
        "fr_day": fr_day,
        "fr_time": fr_time,
        "erased_name": ERASED_NAME,
        "person_label": person_label,
        "of_person": of_person,
        "safe_html": safe_html,
        "m": m,
    }


def person_label(person: Any) -> str:
    if person is None or person.erased or not person.name:
        return ERASED_NAME
    return str(person.name)


def of_person(person: Any) -> str:
    """« de Marie Dupont », « d'Éric Lacoste »: French elides "de" before a vowel."""
    label = person_label(person)
    return f"d'{label}" if label[:1].lower() in "aeiouyàâéèêëîïôöûüœ" else f"de {label}"


def safe_html(section: PageSection) -> Markup:
    """Sections come from other plugins, which escape their own HTML (hook contract)."""
    return Markup(section.html)  # noqa: S704 - escaped by the contributing plugin
