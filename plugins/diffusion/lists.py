"""The lists offered to write to: from the directory (the whole territory, each theme, the
managers) and, where meetings are on, each recent meeting's invitees and the café's regulars."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from core.mailings import Contact, MailingList, Target
from plugins.annuaire.public import THEMES, ContactOut, StructureOut, directory, structures

if TYPE_CHECKING:
    from core.application import Trame

#: Meetings whose invitees are offered as lists (the most recent ones).
RECENT_MEETINGS = 12
#: A café's regular: present at this many of the last cafés.
REGULAR_AT = 2
LAST_CAFES = 12


def _contacts(trame: Trame, territory: str, ids: Iterable[str]) -> dict[str, list[ContactOut]]:
    return directory(trame).contacts_of_structures(territory, list(ids))


def _targets(
    trame: Trame, territory: str, found: Sequence[StructureOut], *, roles: set[str] | None = None, generic: bool = True
) -> list[Target]:
    """Each structure with its generic address (unless ``generic`` is off) and its current contacts
    who have an address (of ``roles`` only, when given)."""
    contacts = _contacts(trame, territory, [s.id for s in found])
    out = []
    for s in found:
        people = tuple(
            Contact(c.person.id, c.person.email) for c in contacts.get(s.id, []) if c.person.email and (roles is None or c.role in roles)
        )
        if not generic and not people:
            continue
        out.append(Target(s.id, s.name, s.email if generic else None, people))
    return out


def offered(trame: Trame, territory: str) -> list[MailingList]:
    everyone = structures(trame, territory)
    out = [
        MailingList(
            "annuaire.territoire",
            f"Tout le territoire ({len(everyone)} structures)",
            lambda: _targets(trame, territory, structures(trame, territory)),
            "Annuaire",
        ),
        MailingList(
            "annuaire.responsables",
            "Les responsables (contacts de direction de chaque structure)",
            lambda: _targets(trame, territory, structures(trame, territory), roles={"direction"}, generic=False),
            "Annuaire",
        ),
    ]
    counts = Counter(t for s in everyone for t in s.themes)
    for theme, label in THEMES.items():
        if counts[theme]:

            def themed(theme: str = theme) -> list[Target]:
                return _targets(trame, territory, structures(trame, territory, theme=theme))

            out.append(
                MailingList(
                    f"annuaire.theme.{theme}",
                    f"Thème « {label} » ({counts[theme]} structures)",
                    themed,
                    "Annuaire",
                )
            )
    if trame.territories.is_enabled(territory, "rencontres"):
        out += _meeting_lists(trame, territory)
    return out


def _meeting_lists(trame: Trame, territory: str) -> list[MailingList]:
    from plugins.rencontres.public import meetings

    svc = meetings(trame)
    out: list[MailingList] = []
    for m in svc.list(territory, descending=True, limit=RECENT_MEETINGS):

        def invitees(meeting_id: str = m["meeting_id"]) -> list[Target]:
            invited = svc.invitations(territory, meeting_id)
            by_id = {s.id: s for s in structures(trame, territory)}
            contacts = _contacts(trame, territory, [i["structure_id"] for i in invited])
            out = []
            for inv in invited:
                s = by_id.get(inv["structure_id"])
                if s is None:
                    continue
                people = tuple(
                    Contact(c.person.id, c.person.email)
                    for c in contacts.get(s.id, [])
                    if c.person.email and c.person.id in inv["person_ids"]
                )
                out.append(Target(s.id, s.name, s.email, people))
            return out

        out.append(
            MailingList(f"rencontres.invites.{m['meeting_id']}", f"Invités : {m['title']} du {m['date_label']}", invitees, "Rencontres")
        )
    if trame.territories.is_enabled(territory, "cafe"):

        def regulars() -> list[Target]:
            cafes = svc.list(territory, plugin="cafe", include_cancelled=False, descending=True, limit=LAST_CAFES)
            present = Counter(
                sid
                for c in cafes
                for sid in {a["structure_id"] for a in svc.attendance(territory, c["meeting_id"]) if a["status"] == "present"}
            )
            chosen = [s for s in structures(trame, territory) if present[s.id] >= REGULAR_AT]
            return _targets(trame, territory, chosen)

        out.append(
            MailingList(
                "cafe.habitues",
                f"Habitués du café partenaires (présents à au moins {REGULAR_AT} des {LAST_CAFES} derniers cafés)",
                regulars,
                "Rencontres",
            )
        )
    return out
