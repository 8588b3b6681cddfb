"""Corrections through a campaign's review link: a partner keeps its own sheet true without an account.

The link (its unguessable token, valid until it expires, is replaced or its campaign closes)
opens that one structure's sheet and contacts for correction. Each change is a directory
event authored by the campaign's link (« campagne:<id> », which freshness counts as the
structure's own word) with the reason « via le lien de revue de <structure> », so the sheet's
history says who changed what. The coordinator sees every such change on the campaign's
page and may revert one: the revert is a new event restoring the values from before, by the
coordinator, and only while nobody changed those fields since.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from core import clock
from core.refusals import absent, conflict, invalid
from plugins.annuaire.campaigns import REVIEW_AUTHOR, Campaign, Review, campaigns
from plugins.annuaire.schemas import ContactEnd, ContactIn, ContactPatch, HistoryEntry, PersonIn, PersonPatch, StructurePatch
from plugins.annuaire.service import CONTACT_ROLES, directory

if TYPE_CHECKING:
    from core.application import Trame

#: What a partner may correct on its sheet (relays, kind, roles and themes stay the coordination's).
SHEET_FIELDS = ("name", "acronym", "email", "phone", "website", "address", "opening_hours", "missions", "communes", "publics")
LIST_FIELDS = ("communes", "publics")
_REVERTIBLE = (
    "annuaire.StructureChanged",
    "annuaire.PersonChanged",
    "annuaire.ContactStarted",
    "annuaire.ContactCorrected",
    "annuaire.ContactEnded",
)
_PERSON_FIELDS = {"full_name": "name", "email": "email", "phone": "phone"}


def link_author(campaign_id: str) -> str:
    return f"{REVIEW_AUTHOR}{campaign_id}"


def via_link(structure_name: str) -> str:
    return f"via le lien de revue de {structure_name}"[:300]


def _revert_reason(position: int, structure_name: str) -> str:
    return f"Annulation de la correction n° {position} faite {via_link(structure_name)}"[:300]


@dataclass
class Correction:
    """A change made through a campaign's link, as the coordinator reviews it."""

    structure_id: str
    structure_name: str
    entry: HistoryEntry
    reverted: bool


def _patch(type_: type[Any], fields: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(fields, type_)
    except msgspec.ValidationError as exc:
        where = re.search(r"\$\.(\w+)", str(exc))  # msgspec names the field: "... - at `$.phone`"
        raise invalid(f"Valeur refusée : {exc}", field=where[1] if where else None) from None


class Corrections:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    def _open(self, territory: str, token: str) -> tuple[Review, str, str]:
        review = campaigns(self.trame).review(territory, token)  # absent when expired, replaced or closed
        return review, link_author(review.campaign.id), via_link(review.structure.name)

    # -- the partner, through its link ---------------------------------------------------------
    def sheet(self, territory: str, token: str, values: dict[str, Any]) -> Review:
        """Change the fields that differ from the sheet; nothing changed is no event."""
        review, who, reason = self._open(territory, token)
        s = review.structure
        fields = {f: values[f] for f in SHEET_FIELDS if f in values and values[f] != getattr(s, f)}
        if "name" in fields and not (fields["name"] or "").strip():
            raise invalid("Le nom de la structure est obligatoire.", field="name")
        if fields:
            d = directory(self.trame)
            d.update_structure(territory, s.id, _patch(StructurePatch, {**fields, "reason": reason}), d.version(territory, s.id), who)
            campaigns(self.trame).answer(territory, review, "corrected", who)
        return campaigns(self.trame).review(territory, token)

    def contact(self, territory: str, token: str, contact_id: str, *, email: str, phone: str, title: str) -> Review:
        """A current contact's details and job title, for a person who answers to this structure only."""
        review, who, reason = self._open(territory, token)
        contact = next((c for c in review.contacts if c.id == contact_id), None)
        if contact is None:
            raise absent("Ce contact n'est pas un contact actuel de la structure.")
        d = directory(self.trame)
        person = {k: v or None for k, v in (("email", email), ("phone", phone)) if (v or None) != getattr(contact.person, k)}
        if person:
            if not d.answers_only_to(territory, contact.person.id, review.structure.id):
                raise conflict("Cette personne est aussi contact d'une autre structure : demandez la correction à la coordination.")
            d.update_person(territory, contact.person.id, _patch(PersonPatch, {**person, "reason": reason}), who)
        if (title or None) != contact.title:
            d.correct_contact(territory, review.structure.id, contact.id, ContactPatch(title=title or None, reason=reason), who)
        if person or (title or None) != contact.title:
            campaigns(self.trame).answer(territory, review, "corrected", who)
        return campaigns(self.trame).review(territory, token)

    def add_contact(self, territory: str, token: str, *, name: str, role: str, title: str, email: str, phone: str) -> Review:
        review, who, reason = self._open(territory, token)
        if not name.strip():
            raise invalid("Le nom du contact est obligatoire.", field="contact_name")
        if role not in CONTACT_ROLES:
            raise invalid(f"Rôle inconnu « {role} ».", field="contact_role")
        d = directory(self.trame)
        person = _patch(PersonIn, {"name": name.strip(), "email": email or None, "phone": phone or None, "reason": reason})
        pid, _ = d.create_person(territory, person, who)
        d.start_contact(territory, review.structure.id, ContactIn(person_id=pid, role=role, title=title or None, reason=reason), who)
        campaigns(self.trame).answer(territory, review, "corrected", who)
        return campaigns(self.trame).review(territory, token)

    def end_contact(self, territory: str, token: str, contact_id: str) -> Review:
        """« Ne fait plus partie de la structure »: the role ends now."""
        review, who, reason = self._open(territory, token)
        if not any(c.id == contact_id for c in review.contacts):
            raise absent("Ce contact n'est pas un contact actuel de la structure.")
        directory(self.trame).end_contact(territory, review.structure.id, contact_id, ContactEnd(until=clock.now(), reason=reason), who)
        campaigns(self.trame).answer(territory, review, "corrected", who)
        return campaigns(self.trame).review(territory, token)

    # -- the coordinator -----------------------------------------------------------------------
    def made(self, territory: str, campaign: Campaign) -> list[Correction]:
        """Every change the campaign's links made, newest first, and whether it was reverted."""
        d = directory(self.trame)
        who = link_author(campaign.id)
        out: list[Correction] = []
        for link in campaign.links:
            entries = d.history(territory, structure_id=link.structure_id)
            people = {e.person_id for e in entries if e.person_id and e.author == who}
            entries += [e for pid in people for e in d.history(territory, person_id=pid) if e.event == "annuaire.PersonChanged"]
            reasons = {e.reason for e in entries if e.reason}
            for e in entries:
                if e.author == who and e.event in _REVERTIBLE:
                    reverted = _revert_reason(e.position, link.name) in reasons
                    out.append(Correction(link.structure_id, link.name, e, reverted))
        return sorted(out, key=lambda c: c.entry.position, reverse=True)

    def revert(self, territory: str, campaign_id: str, position: int, author: str) -> None:
        """Restore what one link change replaced, if those fields still hold what it wrote."""
        campaign = campaigns(self.trame).get(territory, campaign_id)
        found = next((c for c in self.made(territory, campaign) if c.entry.position == position), None)
        if found is None:
            raise absent("Cette correction n'existe pas dans cette campagne.")
        if found.reverted:
            raise conflict("Cette correction a déjà été annulée.")
        _Revert(self.trame, territory, found, author).run()


class _Revert:
    """The inverse of one change, by event type."""

    def __init__(self, trame: Trame, territory: str, correction: Correction, author: str) -> None:
        self.d = directory(trame)
        self.territory, self.c, self.author = territory, correction, author
        self.reason = _revert_reason(correction.entry.position, correction.structure_name)
        self.before = {ch.field: ch.before for ch in correction.entry.changes}
        self.after = {ch.field: ch.after for ch in correction.entry.changes}

    def _unchanged_since(self, now: dict[str, Any]) -> None:
        moved = [f for f, value in self.after.items() if f in now and now[f] != value]
        if moved:
            raise conflict("La fiche a été modifiée depuis cette correction : annulez à la main ce qui doit l'être.")

    def run(self) -> None:
        e, sid = self.c.entry, self.c.structure_id
        if e.event == "annuaire.StructureChanged":
            s = self.d.get_structure(self.territory, sid)
            if s is None:
                raise conflict("Cette structure n'est plus dans le réseau.")
            self._unchanged_since({f: getattr(s, f) for f in self.after if hasattr(s, f)})
            values = {f: (v if v is not None or f not in LIST_FIELDS else []) for f, v in self.before.items()}
            self.d.update_structure(
                self.territory,
                sid,
                _patch(StructurePatch, {**values, "reason": self.reason}),
                self.d.version(self.territory, sid),
                self.author,
            )
        elif e.event == "annuaire.PersonChanged" and e.person_id:
            person = self.d.person(self.territory, e.person_id)
            if person is None or person.erased:
                raise conflict("Les données de cette personne ont été effacées.")
            self._unchanged_since({f: getattr(person, _PERSON_FIELDS[f]) for f in self.after if f in _PERSON_FIELDS})
            values = {_PERSON_FIELDS[f]: v for f, v in self.before.items() if f in _PERSON_FIELDS}
            self.d.update_person(self.territory, e.person_id, _patch(PersonPatch, {**values, "reason": self.reason}), self.author)
        elif e.event == "annuaire.ContactStarted":
            self.d.end_contact(self.territory, sid, e.subject_id, ContactEnd(until=clock.now(), reason=self.reason), self.author)
        elif e.event == "annuaire.ContactCorrected":
            patch = _patch(ContactPatch, {"title": self.before.get("title"), "reason": self.reason})
            self.d.correct_contact(self.territory, sid, e.subject_id, patch, self.author)
        elif e.event == "annuaire.ContactEnded":
            self.d.correct_contact(self.territory, sid, e.subject_id, ContactPatch(until=None, reason=self.reason), self.author)


def corrections(trame: Trame) -> Corrections:
    return Corrections(trame)
