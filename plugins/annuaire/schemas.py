"""The directory's shapes at the edges (JSON API, forms, imports, other plugins).

These Structs are the contract other plugins rely on (through
``plugins.annuaire.service.directory(trame)``): add optional fields freely, never
remove or retype one.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.web.hygiene import Day, OptionalDay, one_of
from plugins.annuaire import kinds

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Items = Annotated[list[Short], msgspec.Meta(max_length=200)]
#: Codes of plugins.annuaire.kinds (the service names the possible values when refusing another).
KindCode = Annotated[str, one_of(*(k.code for k in kinds.KINDS), description="un code de type de structure")]
Roles = Annotated[list[Annotated[str, one_of(*kinds.PARTNER_ROLES)]], msgspec.Meta(max_length=200)]
Themes = Annotated[list[Annotated[str, one_of(*kinds.THEMES)]], msgspec.Meta(max_length=200)]


class StructureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A structure joining the network (POST /structures)."""

    name: Name
    acronym: Short | None = None
    kind: KindCode | None = None
    public: bool | None = None
    roles: Roles = msgspec.field(default_factory=list)
    email: Short | None = None  # the generic address of the structure
    phone: Short | None = None
    website: Short | None = None
    address: Short | None = None
    opening_hours: Short | None = None
    communes: Items = msgspec.field(default_factory=list)
    missions: Text | None = None
    publics: Items = msgspec.field(default_factory=list)
    themes: Themes = msgspec.field(default_factory=list)
    relays: Items = msgspec.field(default_factory=list)  # ids of relay structures
    effective: OptionalDay | None = None  # YYYY-MM-DD or ISO 8601; default: now
    reason: Short | None = None


class StructurePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Fields to change (PATCH /structures/{id}); absent fields stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    acronym: Short | msgspec.UnsetType | None = msgspec.UNSET
    kind: KindCode | msgspec.UnsetType | None = msgspec.UNSET
    public: bool | msgspec.UnsetType | None = msgspec.UNSET
    roles: Roles | msgspec.UnsetType = msgspec.UNSET
    email: Short | msgspec.UnsetType | None = msgspec.UNSET
    phone: Short | msgspec.UnsetType | None = msgspec.UNSET
    website: Short | msgspec.UnsetType | None = msgspec.UNSET
    address: Short | msgspec.UnsetType | None = msgspec.UNSET
    opening_hours: Short | msgspec.UnsetType | None = msgspec.UNSET
    communes: Items | msgspec.UnsetType = msgspec.UNSET
    missions: Text | msgspec.UnsetType | None = msgspec.UNSET
    publics: Items | msgspec.UnsetType = msgspec.UNSET
    themes: Themes | msgspec.UnsetType = msgspec.UNSET
    relays: Items | msgspec.UnsetType = msgspec.UNSET
    effective: OptionalDay | msgspec.UnsetType | None = msgspec.UNSET
    reason: Short | msgspec.UnsetType | None = msgspec.UNSET


class StructureOut(msgspec.Struct, kw_only=True):
    """A structure as of a date, as known at a time."""

    id: str
    version: int  # the stream version: the ETag, and If-Match for PATCH
    name: str
    acronym: str | None = None
    kind: str | None = None
    kind_label: str | None = None
    public: bool | None = None
    roles: list[str] = msgspec.field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    address: str | None = None
    opening_hours: str | None = None
    communes: list[str] = msgspec.field(default_factory=list)
    missions: str | None = None
    publics: list[str] = msgspec.field(default_factory=list)
    themes: list[str] = msgspec.field(default_factory=list)
    relays: list[str] = msgspec.field(default_factory=list)
    former_names: list[str] = msgspec.field(default_factory=list)
    joined: str | None = None  # effective date it (last) joined
    confirmed_at: str | None = None  # last "still correct" from its referent
    merged_into: str | None = None  # id of the structure it merged into (when it no longer exists)
    absorbed: list[str] = msgspec.field(default_factory=list)  # ids of structures merged into it


class StructurePage(msgspec.Struct):
    items: list[StructureOut]
    total: int


class PersonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    email: Short | None = None
    phone: Short | None = None
    reason: Short | None = None


class PersonPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    email: Short | msgspec.UnsetType | None = msgspec.UNSET
    phone: Short | msgspec.UnsetType | None = msgspec.UNSET
    effective: OptionalDay | msgspec.UnsetType | None = msgspec.UNSET  # the day the new details hold from (default: now)
    reason: Short | msgspec.UnsetType | None = msgspec.UNSET


class PersonOut(msgspec.Struct, kw_only=True):
    id: str
    version: int
    name: str | None  # None once erased ("personne effacée")
    email: str | None = None
    phone: str | None = None
    erased: bool = False


class ContactIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    person_id: str
    role: Annotated[str, one_of("referent", "direction", "personne-ressource")]
    theme: Short | None = None
    title: Short | None = None  # the job title in free text: « conseillère en insertion professionnelle »
    since: OptionalDay | None = None  # default: today
    reason: Short | None = None


class ContactEnd(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    until: Day
    reason: Short | None = None


class ContactPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    role: Annotated[str, one_of("referent", "direction", "personne-ressource")] | msgspec.UnsetType = msgspec.UNSET
    theme: Short | msgspec.UnsetType | None = msgspec.UNSET
    title: Short | msgspec.UnsetType | None = msgspec.UNSET
    since: Day | msgspec.UnsetType = msgspec.UNSET
    until: OptionalDay | msgspec.UnsetType | None = msgspec.UNSET
    reason: Short | msgspec.UnsetType | None = msgspec.UNSET


class ContactOut(msgspec.Struct, kw_only=True):
    id: str
    structure_id: str
    person: PersonOut
    role: str  # code: "referent", "direction", "personne-ressource"
    role_label: str  # in French, as shown on the pages
    theme: str | None
    since: str  # YYYY-MM-DD
    until: str | None  # YYYY-MM-DD, first day no longer held
    title: str | None = None  # the job title in free text, beside the role code


class MergeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    into: str
    effective: Day
    reason: Short | None = None


class LeaveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    effective: Day
    reason: Short | None = None


class FieldChange(msgspec.Struct):
    field: str
    before: object
    after: object


class HistoryEntry(msgspec.Struct, kw_only=True):
    """One change in a timeline: who, when recorded, effective when, why, what."""

    position: int
    event: str
    label: str  # French, e.g. "Changement de nom"
    author: str
    author_email: str | None
    recorded_at: str
    effective: str
    reason: str | None
    changes: list[FieldChange]
    subject_id: str
    structure_id: str | None = None  # the structure concerned (also for a contact)
    person_id: str | None = None  # the person concerned (person and contact entries)
