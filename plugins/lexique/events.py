"""What happens to a territory's glossary (``lexique.*``): each term is a stream of its own.

A term is added, amended (its expansion, its definition, the structure it names, national
or local), withdrawn and possibly added again; the author, the time and the reason come
with each event's envelope, so a term has a history like a structure's sheet. Adopting the
starter list is one command: the terms it adds and the adoption, in one atomic append.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Term = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Expansion = Annotated[str, msgspec.Meta(max_length=300)]
Definition = Annotated[str, msgspec.Meta(max_length=2000)]


class TermAdded(Event, frozen=True, kw_only=True):
    """A term or acronym enters the territory's glossary (or comes back after a withdrawal)."""

    name = "lexique.TermAdded"
    journal_label = "Terme ajouté au lexique"
    term_id: Id
    term: Term
    expansion: Expansion = ""
    definition: Definition = ""
    structure_id: Id | None = None
    national: bool = False


class TermAmended(Event, frozen=True, kw_only=True):
    """A term's expansion, definition, structure or scope changed; every field holds its new value."""

    name = "lexique.TermAmended"
    journal_label = "Terme du lexique modifié"
    term_id: Id
    expansion: Expansion = ""
    definition: Definition = ""
    structure_id: Id | None = None
    national: bool = False


class TermWithdrawn(Event, frozen=True, kw_only=True):
    """The term leaves the glossary; its history stays."""

    name = "lexique.TermWithdrawn"
    journal_label = "Terme retiré du lexique"
    term_id: Id


class StarterListAdopted(Event, frozen=True, kw_only=True):
    """The coordinator adopted the national starter list (``list_version``); ``added`` terms
    were written by the same command (those already in the glossary were left as they were)."""

    name = "lexique.StarterListAdopted"
    journal_label = "Liste de départ du lexique adoptée"
    list_version: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    added: Annotated[int, msgspec.Meta(ge=0)]


EVENTS: list[type[Event]] = [TermAdded, TermAmended, TermWithdrawn, StarterListAdopted]
