"""Partnerships' events (``partenariats.*``): one stream per partnership, every change dated.

A partnership links two or more structures of the directory (seed 002): its kind, its form
(of initiative, palliative or of resource, imposed by public policy), the role each partner
plays for the others, its dates and convention, and evaluations on the seed's grid. The
envelope's ``effective`` is the day a change takes effect in the world: the partnership's
start for :class:`PartnershipRecorded`, the day of an amendment or of the end.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Kind = Literal["convention", "financement", "prescription", "relais", "reseau"]
Form = Literal["initiative", "palliatif", "impose"]
Role = Literal["interne", "terrain", "financeur", "prescripteur"]


class Partner(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A structure in a partnership and the role it plays for the other partners."""

    structure_id: Id
    role: Role


Partners = Annotated[list[Partner], msgspec.Meta(min_length=2, max_length=200)]


class PartnershipRecorded(Event, frozen=True, kw_only=True):
    """A partnership is recorded, effective from its start (``starts_on``)."""

    name = "partenariats.PartnershipRecorded"
    journal_label = "Partenariat enregistré"
    partnership_id: Id
    title: Title
    kind: Kind
    form: Form
    partners: Partners
    starts_on: Day
    ends_on: Day | None = None  # the last day, when known (a convention's term)
    convention_ref: Short | None = None
    renewal_on: Day | None = None
    description: Text = ""


class PartnershipAmended(Event, frozen=True, kw_only=True):
    """Its terms change from the envelope's effective day on (a partner joins, a convention is renewed)."""

    name = "partenariats.PartnershipAmended"
    journal_label = "Partenariat modifié"
    partnership_id: Id
    title: Title
    kind: Kind
    form: Form
    partners: Partners
    ends_on: Day | None = None
    convention_ref: Short | None = None
    renewal_on: Day | None = None
    description: Text = ""


class PartnershipEnded(Event, frozen=True, kw_only=True):
    """The partnership stops (a partnership is limited in time); ``ended_on`` is its last day."""

    name = "partenariats.PartnershipEnded"
    journal_label = "Fin d'un partenariat"
    partnership_id: Id
    ended_on: Day
    reason: Short | None = None


class PartnershipEvaluated(Event, frozen=True, kw_only=True):
    """An evaluation on the seed 002 grid; a partnership is evaluated continuously, so they add up."""

    name = "partenariats.PartnershipEvaluated"
    journal_label = "Évaluation d'un partenariat"
    partnership_id: Id
    evaluation_id: Id
    evaluated_on: Day
    what_works: Text = ""
    obstacles: Text = ""
    steering: Text = ""
    communication: Text = ""
    public_feedback: Text = ""
    evolution: Text = ""


EVENTS: list[type[Event]] = [PartnershipRecorded, PartnershipAmended, PartnershipEnded, PartnershipEvaluated]
