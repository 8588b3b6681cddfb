"""What happens around a Café partenaires (``cafe.*``); the café itself is a meeting of ``rencontres``.

A café is scheduled as a meeting with plugin "cafe" (kind "cafe", "thematique" or
"pleniere"); these events add what is particular to cafés: who is willing to host,
each structure's news at the round table, and newcomers presenting themselves.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
News = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class HostingOffered(Event, frozen=True, kw_only=True):
    """A structure says whether it is willing to host cafés and has a room; a later offer replaces it."""

    name = "cafe.HostingOffered"
    journal_label = "Proposition d'accueil d'un café"
    structure_id: Id
    willing: bool
    has_room: bool
    note: Short | None = None


class RoundTableEntryRecorded(Event, frozen=True, kw_only=True):
    """A structure's news at the tour de table; one per structure and café, a later one corrects it.
    News of a structure, never about a person helped."""

    name = "cafe.RoundTableEntryRecorded"
    journal_label = "Nouvelle du tour de table"
    meeting_id: Id
    structure_id: Id
    news: News


class NewcomerPresented(Event, frozen=True, kw_only=True):
    """An organisation not yet in the directory presented itself at the café."""

    name = "cafe.NewcomerPresented"
    journal_label = "Nouvelle structure présentée au café"
    meeting_id: Id
    newcomer_id: Id
    organisation: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    presentation: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class NewcomerRegistered(Event, frozen=True, kw_only=True):
    """Its sheet was created in the directory from the café page (the « fiche signalétique »)."""

    name = "cafe.NewcomerRegistered"
    journal_label = "Nouvelle structure ajoutée à l'annuaire"
    meeting_id: Id
    newcomer_id: Id
    structure_id: Id


class CapacitySet(Event, frozen=True, kw_only=True):
    """How many structures a café can welcome (seed 001: past 35 organisations, « réguler la
    fréquentation »); ``None`` lifts the limit. Structures answering « je viens » through their
    answer link take the places in the order they answered; the others wait in that order."""

    name = "cafe.CapacitySet"
    journal_label = "Capacité d'un café fixée"
    meeting_id: Id
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None


EVENTS: list[type[Event]] = [HostingOffered, RoundTableEntryRecorded, NewcomerPresented, NewcomerRegistered, CapacitySet]
