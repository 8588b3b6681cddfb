"""What happens to a project sheet (``projets.*``): one stream per « fiche projet ».

A sheet belongs to a group or to the whole network: its objectives, the directory structures
involved, its steps, the meetings' follow-up actions attached to it, its documents (titles and
links), status and dates. Its shared diagnosis gathers the needs observed on the territory, by
theme and with their source, each one written by a structure (its referent, or the
coordinator): never a person helped, only needs (shared secrecy).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.events import Event

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
Scope = Literal["groupe", "reseau"]
Status = Literal["idee", "en-cours", "suspendu", "termine"]


class ProjectOpened(Event, frozen=True, kw_only=True):
    name = "projets.ProjectOpened"
    journal_label = "Fiche projet créée"
    project_id: Id
    title: Title
    scope: Scope
    group: Annotated[str, msgspec.Meta(max_length=300)] = ""  # the group's name, for a group's sheet
    summary: Text = ""
    objectives: list[Title] = msgspec.field(default_factory=list)
    status: Status = "idee"
    starts_on: Day | None = None
    ends_on: Day | None = None


class ProjectAmended(Event, frozen=True, kw_only=True):
    """The sheet's description as it now reads (every field, so history shows each version)."""

    name = "projets.ProjectAmended"
    journal_label = "Fiche projet modifiée"
    project_id: Id
    title: Title
    scope: Scope
    group: Annotated[str, msgspec.Meta(max_length=300)] = ""
    summary: Text = ""
    objectives: list[Title] = msgspec.field(default_factory=list)
    status: Status = "idee"
    starts_on: Day | None = None
    ends_on: Day | None = None


class PartnerInvolved(Event, frozen=True, kw_only=True):
    name = "projets.PartnerInvolved"
    journal_label = "Partenaire associé à un projet"
    project_id: Id
    structure_id: Id
    role: Annotated[str, msgspec.Meta(max_length=300)] = ""


class PartnerWithdrawn(Event, frozen=True, kw_only=True):
    name = "projets.PartnerWithdrawn"
    journal_label = "Partenaire retiré d'un projet"
    project_id: Id
    structure_id: Id


class StepPlanned(Event, frozen=True, kw_only=True):
    name = "projets.StepPlanned"
    journal_label = "Étape de projet prévue"
    project_id: Id
    step_id: Id
    title: Title
    due: Day | None = None
    owner_structure_id: Id | None = None


class StepDone(Event, frozen=True, kw_only=True):
    name = "projets.StepDone"
    journal_label = "Étape de projet réalisée"
    project_id: Id
    step_id: Id


class ActionAttached(Event, frozen=True, kw_only=True):
    """A meeting's follow-up action (« suite à donner », plugin rencontres) followed on this sheet."""

    name = "projets.ActionAttached"
    journal_label = "Suite à donner rattachée à un projet"
    project_id: Id
    action_id: Id


class DocumentLinked(Event, frozen=True, kw_only=True):
    name = "projets.DocumentLinked"
    journal_label = "Document ajouté à un projet"
    project_id: Id
    document_id: Id
    title: Title
    url: Url


class DocumentRemoved(Event, frozen=True, kw_only=True):
    name = "projets.DocumentRemoved"
    journal_label = "Document retiré d'un projet"
    project_id: Id
    document_id: Id


class NeedObserved(Event, frozen=True, kw_only=True):
    """A structure's contribution to the shared diagnosis: a need observed on the territory."""

    name = "projets.NeedObserved"
    journal_label = "Besoin observé ajouté au diagnostic partagé"
    project_id: Id
    need_id: Id
    structure_id: Id
    theme: Id
    need: Text
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class NeedWithdrawn(Event, frozen=True, kw_only=True):
    name = "projets.NeedWithdrawn"
    journal_label = "Besoin retiré du diagnostic partagé"
    project_id: Id
    need_id: Id


EVENTS: list[type[Event]] = [
    ProjectOpened,
    ProjectAmended,
    PartnerInvolved,
    PartnerWithdrawn,
    StepPlanned,
    StepDone,
    ActionAttached,
    DocumentLinked,
    DocumentRemoved,
    NeedObserved,
    NeedWithdrawn,
]
