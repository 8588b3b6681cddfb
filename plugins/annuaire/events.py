"""The directory's events: what happened to a structure, a person, a contact.

One stream per structure, per person and per contact (uuid4 ids). The envelope
carries author, recorded time, effective date and reason; payloads carry only what
changed. Personal fields (a person's name, e-mail, phone) are encrypted with the
person's key by the core, so that erasing the person shreds them everywhere.

Dates inside payloads (``since``, ``until``) are instants (``core.clock``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from core.events import Event
from plugins.annuaire.schemas import Items, Name, Short, Text


class Sheet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The identity sheet of a structure, as it joins."""

    name: Name
    acronym: Short | None = None
    kind: Short | None = None
    public: bool | None = None
    roles: Items = []
    email: Short | None = None
    phone: Short | None = None
    website: Short | None = None
    address: Short | None = None
    opening_hours: Short | None = None
    communes: Items = []
    missions: Text | None = None
    publics: Items = []
    themes: Items = []
    relays: Items = []


class SheetChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Fields of a sheet that change; absent ones stay as they are."""

    name: Name | UnsetType = UNSET
    acronym: Short | UnsetType | None = UNSET
    kind: Short | UnsetType | None = UNSET
    public: bool | UnsetType | None = UNSET
    roles: Items | UnsetType = UNSET
    email: Short | UnsetType | None = UNSET
    phone: Short | UnsetType | None = UNSET
    website: Short | UnsetType | None = UNSET
    address: Short | UnsetType | None = UNSET
    opening_hours: Short | UnsetType | None = UNSET
    communes: Items | UnsetType = UNSET
    missions: Text | UnsetType | None = UNSET
    publics: Items | UnsetType = UNSET
    themes: Items | UnsetType = UNSET
    relays: Items | UnsetType = UNSET


def present_fields(struct: msgspec.Struct) -> dict[str, Any]:
    """The fields actually set in a patch-like struct."""
    return {f: getattr(struct, f) for f in struct.__struct_fields__ if getattr(struct, f) is not UNSET}


# -- structures ------------------------------------------------------------------------------
class StructureJoined(Event, frozen=True):
    name = "annuaire.StructureJoined"
    journal_label = "Structure entrée dans le réseau"
    structure_id: str
    sheet: Sheet


class StructureChanged(Event, frozen=True):
    """Any change of the sheet; with ``name`` in it, a renaming ("Changement de nom").

    ``previous_name`` keeps the name it had, so that past names stay searchable."""

    name = "annuaire.StructureChanged"
    journal_label = "Fiche de structure modifiée"
    structure_id: str
    changes: SheetChanges
    previous_name: str | None = None


class StructureMerged(Event, frozen=True):
    """This structure ceased, absorbed by ``into`` (written with StructureAbsorbed on ``into``)."""

    name = "annuaire.StructureMerged"
    journal_label = "Structure fusionnée"
    structure_id: str
    into: str


class StructureAbsorbed(Event, frozen=True):
    name = "annuaire.StructureAbsorbed"
    journal_label = "Absorption d'une autre structure"
    structure_id: str
    absorbed: str
    absorbed_name: str


class StructureLeft(Event, frozen=True):
    name = "annuaire.StructureLeft"
    journal_label = "Structure sortie du réseau"
    structure_id: str


class StructureRejoined(Event, frozen=True):
    name = "annuaire.StructureRejoined"
    journal_label = "Structure revenue dans le réseau"
    structure_id: str


class StructureConfirmed(Event, frozen=True):
    """The referent checked the sheet: "still correct" (update campaigns)."""

    name = "annuaire.StructureConfirmed"
    journal_label = "Fiche de structure confirmée"
    structure_id: str


# -- people ----------------------------------------------------------------------------------
class PersonRegistered(Event, frozen=True):
    name = "annuaire.PersonRegistered"
    journal_label = "Personne ajoutée à l'annuaire"
    personal = ("full_name", "email", "phone")
    subject = "person_id"
    person_id: str
    full_name: str | None  # None once erased (``name`` is the event type's)
    email: str | None = None
    phone: str | None = None


class PersonChanged(Event, frozen=True, omit_defaults=True):
    name = "annuaire.PersonChanged"
    journal_label = "Coordonnées d'une personne modifiées"
    personal = ("full_name", "email", "phone")
    subject = "person_id"
    person_id: str
    full_name: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET


class PersonErased(Event, frozen=True):
    """GDPR erasure: the person's key is shredded right after this is written."""

    name = "annuaire.PersonErased"
    journal_label = "Personne effacée (RGPD)"
    person_id: str


# -- contacts --------------------------------------------------------------------------------
class ContactStarted(Event, frozen=True):
    """A person holds a role at a structure from ``since``.

    Version 2 renamed ``function`` to ``role`` and added ``theme``; version 3 added ``title``,
    the job title in free text beside the role code (« conseillère en insertion professionnelle »)."""

    name = "annuaire.ContactStarted"
    journal_label = "Prise de fonction d'un contact"
    class_version = 3
    contact_id: str
    person_id: str
    structure_id: str
    role: Short
    since: str
    theme: Short | None = None
    title: Short | None = None

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in data.items() if k != "function"}
        return {**out, "role": data["function"], "theme": None}

    @staticmethod
    def upcast_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "title": None}


class ContactEnded(Event, frozen=True):
    name = "annuaire.ContactEnded"
    journal_label = "Fin de fonction d'un contact"
    contact_id: str
    until: str


class ContactCorrected(Event, frozen=True, omit_defaults=True):
    """A correction of what was recorded (dates, role or job title), not a change in the world.

    Version 2 added ``title`` (absent: unchanged, as every field here)."""

    name = "annuaire.ContactCorrected"
    journal_label = "Fonction d'un contact corrigée"
    class_version = 2
    contact_id: str
    role: Short | UnsetType = UNSET
    theme: Short | UnsetType | None = UNSET
    since: str | UnsetType = UNSET
    until: str | UnsetType | None = UNSET
    title: Short | UnsetType | None = UNSET

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return data  # the new field is absent, which means "unchanged"


STRUCTURE_EVENTS: tuple[type[Event], ...] = (
    StructureJoined,
    StructureChanged,
    StructureMerged,
    StructureAbsorbed,
    StructureLeft,
    StructureRejoined,
    StructureConfirmed,
)
PERSON_EVENTS: tuple[type[Event], ...] = (PersonRegistered, PersonChanged, PersonErased)
CONTACT_EVENTS: tuple[type[Event], ...] = (ContactStarted, ContactEnded, ContactCorrected)
EVENTS: list[type[Event]] = [*STRUCTURE_EVENTS, *PERSON_EVENTS, *CONTACT_EVENTS]
