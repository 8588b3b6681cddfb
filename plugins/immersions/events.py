"""What happens in an immersion programme (``immersions.*``): one stream per programme.

A coordinator opens a programme crossing two fields (the social field and the employment
field, in the Maison de l'emploi's day of 2012); professionals join it; structures offer to
host one for a half-day or a day; professionals ask for a slot; the coordination pairs an
offer with a request across the two fields (a « binôme »), each side confirms through its
own link, and afterwards each side answers the seed's four questions. The day itself is a
``rencontres`` meeting (plugin "immersions"), so it has its place, its .ics and its agenda.

Professionals are personal data: a directory contact is referred to by its person id only
(its name stays the directory's, erasable there); a professional named here has the name
and address encrypted under the key of its own ``participant_id`` and is erasable here.
The people helped by the network are never named (shared secrecy).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Digest = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Length = Literal["matin", "apres-midi", "journee"]
Wish = Literal["demi-journee", "journee", "indifferent"]
Side = Literal["host", "visitor"]
Answer = Literal["confirmed", "declined"]


class ProgrammeOpened(Event, frozen=True, kw_only=True):
    """A programme of immersions in pairs between two fields, over a period."""

    name = "immersions.ProgrammeOpened"
    journal_label = "Programme d'immersions ouvert"
    programme_id: Id
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    starts_on: Day
    ends_on: Day
    fields: tuple[Id, Id]  # keys of service.FIELDS, two different ones
    description: Text | None = None


class ParticipantJoined(Event, frozen=True, kw_only=True):
    """A professional of a structure joins the programme, for one of its two fields.

    Either a contact of the directory (``person_id``; no name copied here) or a person named
    here (``full_name``, ``email``: encrypted under ``participant_id``, erasable)."""

    name = "immersions.ParticipantJoined"
    journal_label = "Professionnel·le inscrit·e à un programme d'immersions"
    personal = ("full_name", "email")
    subject = "participant_id"
    programme_id: Id
    participant_id: Id
    structure_id: Id
    field: Id
    person_id: Id | None = None  # a directory contact
    full_name: Short | None = None  # None for a directory contact, and once erased
    email: Short | None = None
    job: Short | None = None  # the professional's function ("conseillère en insertion")


class ParticipantErased(Event, frozen=True, kw_only=True):
    """Right to erasure: the name typed here is shredded (its key deleted); the participation stays."""

    name = "immersions.ParticipantErased"
    journal_label = "Nom d'un·e participant·e à une immersion effacé (RGPD)"
    programme_id: Id
    participant_id: Id


class SlotOffered(Event, frozen=True, kw_only=True):
    """A structure offers to host a professional of the other field for a half-day or a day
    (« accueillir un professionnel »), with the participant who will be their binôme."""

    name = "immersions.SlotOffered"
    journal_label = "Accueil proposé pour une immersion"
    programme_id: Id
    offer_id: Id
    structure_id: Id
    host_participant_id: Id
    day: Day
    length: Length
    note: Text | None = None


class SlotRequested(Event, frozen=True, kw_only=True):
    """A participant asks to spend a half-day or a day beside a partner of the other field."""

    name = "immersions.SlotRequested"
    journal_label = "Immersion demandée"
    programme_id: Id
    request_id: Id
    participant_id: Id
    wish: Wish = "indifferent"
    note: Text | None = None


class PairFormed(Event, frozen=True, kw_only=True):
    """The coordination pairs a request with an offer; the day is the meeting ``meeting_id``."""

    name = "immersions.PairFormed"
    journal_label = "Binôme d'immersion formé"
    programme_id: Id
    pair_id: Id
    offer_id: Id
    request_id: Id
    meeting_id: Id


class PairLinksIssued(Event, frozen=True, kw_only=True):
    """One answer link per side, shown or sent once: only their SHA-256 digests are kept.
    A new issue replaces the previous links (which stop working)."""

    name = "immersions.PairLinksIssued"
    journal_label = "Liens de confirmation d'une immersion émis"
    programme_id: Id
    pair_id: Id
    host_digest: Digest
    visitor_digest: Digest


class PairAnswered(Event, frozen=True, kw_only=True):
    """One side confirms (or declines) the immersion; a later answer replaces it."""

    name = "immersions.PairAnswered"
    journal_label = "Immersion confirmée ou déclinée"
    programme_id: Id
    pair_id: Id
    side: Side
    answer: Answer
    comment: Short | None = None


class PairCancelled(Event, frozen=True, kw_only=True):
    """The binôme is undone: its offer and its request are free to be paired again."""

    name = "immersions.PairCancelled"
    journal_label = "Binôme d'immersion annulé"
    programme_id: Id
    pair_id: Id


class ImmersionHeld(Event, frozen=True, kw_only=True):
    """The coordination records that the immersion took place."""

    name = "immersions.ImmersionHeld"
    journal_label = "Immersion réalisée"
    programme_id: Id
    pair_id: Id


class FeedbackGiven(Event, frozen=True, kw_only=True):
    """One side's answers to the seed's four questions, after the immersion; a later one replaces it.
    About the two fields and their articulation, never about a person helped."""

    name = "immersions.FeedbackGiven"
    journal_label = "Retour d'immersion"
    programme_id: Id
    pair_id: Id
    side: Side
    expectations: Text = ""
    convergences: Text = ""
    obstacles: Text = ""
    recommendations: Text = ""


EVENTS: list[type[Event]] = [
    ProgrammeOpened,
    ParticipantJoined,
    ParticipantErased,
    SlotOffered,
    SlotRequested,
    PairFormed,
    PairLinksIssued,
    PairAnswered,
    PairCancelled,
    ImmersionHeld,
    FeedbackGiven,
]
