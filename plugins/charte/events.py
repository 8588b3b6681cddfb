"""The charter's events: texts and their versions, signatures, status, polls, meeting cycle, evaluation.

A charter is one stream (its text, versions, signatures and status, so that a signature is
checked against the version and status it was given under); each date poll is its own
stream, so votes do not contend with signatures. The signatory's name is personal data:
sealed with a per-signature subject key, erasable without touching the rest of the log.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Time = Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}$")]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Commitments = Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]], msgspec.Meta(min_length=1, max_length=60)]
Form = Literal["initiative", "palliatif", "impose"]
Channel = Literal["referent", "papier"]
NewStatus = Literal["active", "suspended", "ended"]


class CharterDrafted(Event, frozen=True, kw_only=True):
    """A charter is drafted: its first text (version 1, not yet adopted)."""

    name = "charte.CharterDrafted"
    journal_label = "Charte rédigée"
    charter_id: Id
    title: Title
    preamble: Text = ""
    commitments: Commitments
    carrier_structure_id: Id
    form: Form


class CharterRevised(Event, frozen=True, kw_only=True):
    """The text changed: a new version, to be adopted; earlier versions stay readable."""

    name = "charte.CharterRevised"
    journal_label = "Nouvelle version de la charte"
    charter_id: Id
    version_no: int
    title: Title
    preamble: Text = ""
    commitments: Commitments


class VersionAdopted(Event, frozen=True, kw_only=True):
    name = "charte.VersionAdopted"
    journal_label = "Version de la charte adoptée"
    charter_id: Id
    version_no: int
    adopted_on: Day


class CharterStatusChanged(Event, frozen=True, kw_only=True):
    """Suspended, ended, or back in force; with the reason ("n'est plus portée par le CCAS")."""

    name = "charte.CharterStatusChanged"
    journal_label = "Statut de la charte modifié"
    charter_id: Id
    status: NewStatus
    on: Day
    reason: Short | None = None


class CharterSigned(Event, frozen=True, kw_only=True):
    """A structure signs a version through a person with authority, online or from paper."""

    name = "charte.CharterSigned"
    journal_label = "Charte signée"
    personal = ("signatory_name",)
    subject = "signatory_id"
    charter_id: Id
    signature_id: Id
    structure_id: Id
    version_no: int
    signatory_id: Id  # the erasure subject of this signatory's name, one per signature
    signatory_name: Short | None  # None once erased
    signatory_role: Short
    signed_on: Day
    adaptation: Text | None = None  # how the structure applies the charter in its context
    channel: Channel = "referent"
    document_ref: Short | None = None  # the paper copy's reference, when recorded by the coordination
    replaces: str | None = None  # the signature this one supersedes (re-signing a new version)


class SignatureWithdrawn(Event, frozen=True, kw_only=True):
    name = "charte.SignatureWithdrawn"
    journal_label = "Signature retirée"
    charter_id: Id
    signature_id: Id
    structure_id: Id
    withdrawn_on: Day
    reason: Short | None = None


class SignatoryErased(Event, frozen=True, kw_only=True):
    """The signatory's name was erased (its key shredded); the signature itself stays."""

    name = "charte.SignatoryErased"
    journal_label = "Nom d'un signataire effacé (RGPD)"
    charter_id: Id
    signature_id: Id


class PartnerInvited(Event, frozen=True, kw_only=True):
    """A partner invited to the meetings without signing (yet)."""

    name = "charte.PartnerInvited"
    journal_label = "Partenaire invité aux rencontres"
    charter_id: Id
    structure_id: Id
    since: Day
    note: Short | None = None


class PartnerInvitationEnded(Event, frozen=True, kw_only=True):
    name = "charte.PartnerInvitationEnded"
    journal_label = "Fin de l'invitation d'un partenaire"
    charter_id: Id
    structure_id: Id
    until: Day


class Slot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slot_id: Id
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    start: Time
    end: Time


class PollOpened(Event, frozen=True, kw_only=True):
    name = "charte.PollOpened"
    journal_label = "Sondage de dates ouvert"
    poll_id: Id
    charter_id: Id
    question: Short
    slots: Annotated[list[Slot], msgspec.Meta(min_length=2, max_length=30)]


class PollVoted(Event, frozen=True, kw_only=True):
    """A structure's choice of the slots it can make; a later vote replaces its earlier one."""

    name = "charte.PollVoted"
    journal_label = "Vote au sondage de dates"
    poll_id: Id
    charter_id: Id
    structure_id: Id
    slot_ids: list[Id]


class PollLinkIssued(Event, frozen=True, kw_only=True):
    """A structure's own voting link for a date poll, used without an account; only the SHA-256
    ``digest`` of its token is kept (the journal drops it), and a new link replaces the previous one."""

    name = "charte.PollLinkIssued"
    journal_label = "Lien de vote au sondage de dates émis"
    poll_id: Id
    charter_id: Id
    structure_id: Id
    digest: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class PollAdopted(Event, frozen=True, kw_only=True):
    """The majority slot is adopted; the poll is then closed."""

    name = "charte.PollAdopted"
    journal_label = "Créneau du sondage retenu"
    poll_id: Id
    charter_id: Id
    slot_id: Id
    votes: int


class CyclePlanned(Event, frozen=True, kw_only=True):
    """The partner meetings of the charter, planned as a series of the meetings plugin."""

    name = "charte.CyclePlanned"
    journal_label = "Cycle de rencontres planifié"
    charter_id: Id
    series_id: Id
    rule: Short
    first_day: Day
    start: Time
    end: Time
    poll_id: str | None = None


class PresenterChosen(Event, frozen=True, kw_only=True):
    """Part 3 of a meeting's agenda: the partner presenting its missions, chosen in turn."""

    name = "charte.PresenterChosen"
    journal_label = "Structure présentatrice désignée"
    charter_id: Id
    meeting_id: Id
    structure_id: Id


class EvaluationWritten(Event, frozen=True, kw_only=True):
    """The coordination's written part of a yearly evaluation (seed 002 grid); figures come from data."""

    name = "charte.EvaluationWritten"
    journal_label = "Évaluation annuelle rédigée"
    charter_id: Id
    year: Annotated[int, msgspec.Meta(ge=1990, le=2200)]
    what_works: Text = ""
    obstacles: Text = ""
    steering: Text = ""
    communication: Text = ""
    public_feedback: Text = ""
    evolution: Text = ""


EVENTS: list[type[Event]] = [
    CharterDrafted,
    CharterRevised,
    VersionAdopted,
    CharterStatusChanged,
    CharterSigned,
    SignatureWithdrawn,
    SignatoryErased,
    PartnerInvited,
    PartnerInvitationEnded,
    PollOpened,
    PollVoted,
    PollLinkIssued,
    PollAdopted,
    CyclePlanned,
    PresenterChosen,
    EvaluationWritten,
]
