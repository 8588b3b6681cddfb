"""Loading the demo directory (``demo_records.py``) into a territory, through the service's commands.

Everything is written by "system", as a coordinator would have entered it: each
structure effective from the day it joined, then the dated changes in valid-time
order (renames, the ANPE/Assédic merger into Pôle emploi, France Travail, leaves and
returns), then people and their contacts with their dates. A change entered later
than its date is recorded now with its date as effective: a correction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import clock
from core.store import SYSTEM
from plugins.annuaire import demo_records
from plugins.annuaire.schemas import ContactEnd, ContactIn, PersonIn, PersonPatch, StructureIn, StructurePatch
from plugins.annuaire.service import directory

if TYPE_CHECKING:
    from core.application import Trame

DEMO = "Données de démonstration"


def load(trame: Trame, territory: str) -> dict[str, str]:
    """Write the demo directory of ``territory``; returns structure keys -> ids. Does
    nothing for a territory without demo data or whose directory is not empty."""
    structures = demo_records.STRUCTURES.get(territory)
    d = directory(trame)
    if not structures or d.list_structures(territory, limit=1)[1]:
        return {}
    ids: dict[str, str] = {}
    for s in sorted(structures, key=lambda s: s.joined):
        data = StructureIn(
            name=s.name,
            acronym=s.acronym,
            kind=s.kind,
            public=s.public,
            roles=list(s.roles),
            email=s.email,
            phone=s.phone,
            website=s.website,
            address=s.address,
            opening_hours=s.opening_hours,
            communes=list(s.communes),
            missions=s.missions,
            publics=list(s.publics),
            themes=list(s.themes),
            effective=s.joined,
            reason=DEMO,
        )
        ids[s.key], _ = d.create_structure(territory, data, SYSTEM)
    for s in structures:  # relays may have joined later: link them once all exist
        if s.relays:
            patch = StructurePatch(relays=[ids[k] for k in s.relays], effective=s.joined, reason=DEMO)
            d.update_structure(territory, ids[s.key], patch, d.version(territory, ids[s.key]), SYSTEM)
    for change in sorted(demo_records.HISTORY.get(territory, ()), key=lambda c: c.date):
        _apply(d, territory, ids, change)
    people: dict[str, str] = {}
    for p in demo_records.PEOPLE.get(territory, ()):
        people[p.key], _ = d.create_person(territory, PersonIn(name=p.name, email=p.email, phone=p.phone, reason=DEMO), SYSTEM)
    for dated in demo_records.PERSON_CHANGES.get(territory, ()):
        details = {k: v for k, v in (("phone", dated.phone), ("email", dated.email)) if v is not None}
        person_patch = PersonPatch(**details, effective=dated.date, reason=dated.reason or DEMO)
        d.update_person(territory, people[dated.person_key], person_patch, SYSTEM)
    for c in demo_records.CONTACTS.get(territory, ()):
        data_in = ContactIn(person_id=people[c.person_key], role=c.role, theme=c.theme, title=c.title, since=c.since, reason=DEMO)
        contact_id, _ = d.start_contact(territory, ids[c.structure_key], data_in, SYSTEM)
        if c.until:
            d.end_contact(territory, ids[c.structure_key], contact_id, ContactEnd(until=c.until, reason=DEMO), SYSTEM)
    return ids


def _apply(d: Any, territory: str, ids: dict[str, str], change: demo_records.Change) -> None:
    sid = ids[change.structure_key]
    reason = change.reason or DEMO
    if change.recorded:
        reason = f"{reason} (saisi le {clock.french_date(change.recorded)})"
    if change.action in ("rename", "update"):
        fields: dict[str, Any] = {k: list(v) if isinstance(v, tuple) else v for k, v in change.fields.items()}
        if "relays" in fields:
            fields["relays"] = [ids[k] for k in fields["relays"]]
        patch = StructurePatch(**fields, effective=change.date, reason=reason)
        d.update_structure(territory, sid, patch, d.version(territory, sid), SYSTEM)
    elif change.action == "merge":
        assert change.into is not None
        d.merge_structure(territory, sid, ids[change.into], change.date, SYSTEM, reason)
    elif change.action == "leave":
        d.leave_structure(territory, sid, change.date, SYSTEM, reason)
    elif change.action == "rejoin":
        d.rejoin_structure(territory, sid, change.date, SYSTEM, reason)
    else:
        raise ValueError(f"unknown demo action {change.action!r}")
