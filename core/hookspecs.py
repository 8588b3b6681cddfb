"""The hooks a Trame plugin may implement: the whole contract between the core and a plugin.

A plugin is a Python module (usually a package's ``__init__``) that implements some of
these functions, decorated with :data:`hookimpl`, and is registered under the
entry-point group ``trame.plugins``::

    [project.entry-points."trame.plugins"]
    glossaire = "trame_glossaire"

Call conventions: the core always calls hooks with keyword arguments. Hooks returning
lists are collected from every plugin; unless stated otherwise every plugin's result
is used. ``territory`` arguments are territory slugs. Per-territory hooks
(navigation, page sections) are only called for plugins enabled in that territory.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.glossary import GlossaryTerm
    from core.journal import JournalLine, Subject
    from core.mailings import MailingList
    from core.plugins import NavLink, PageSection, PluginInfo
    from core.projection import Projection

hookspec = pluggy.HookspecMarker("trame")
hookimpl = pluggy.HookimplMarker("trame")


@hookspec
def plugin_info() -> PluginInfo:
    """Describe the plugin: its name (the URL segment and the name used to enable it),
    its French title, what it is for, and the plugins it ``needs``. Every plugin must
    implement it. ``always_on`` marks infrastructure every territory has and cannot
    disable (the core's own read models, ``projections/``, are such a plugin)."""


@hookspec
def register_events() -> list[type[Event]]:
    """Return the event payload classes this plugin writes. Called once at start-up;
    names must be unique across plugins (``plugin.PastTenseVerb``)."""


@hookspec
def register_projections() -> list[Projection]:
    """Return the projection instances that build this plugin's read models (see
    :class:`core.projection.Projection`). Called once at start-up. A projection declares
    the event names it reads in ``topics``: it is applied in the very transaction of each
    command that writes one of them, caught up by ``trame project --follow``, and rebuilt
    by ``trame rebuild NAME`` (large batches with ``cur.rebuilding`` set; the statements of
    ``indexes()`` run once at the end)."""


@hookspec
def register_routes() -> list[Any]:
    """Return Litestar route handlers or controllers. Paths under
    ``/t/{territory:str}/`` (pages) and ``/api/v1/territories/{slug:str}/`` (API) answer
    404 in territories where the plugin is not enabled. Handlers get the application
    as the ``trame`` dependency; the visitor's roles come from
    ``core.web.access.access_of(request)`` and the author of a command from
    ``author_of(request)``. ``opt={"role": ...}`` on a handler is checked by the core's guard."""


@hookspec
def register_templates() -> str | None:
    """Return the directory of this plugin's Jinja templates, kept under a folder named
    after the plugin (``templates/<plugin>/page.html``) so that names never clash. They may
    extend the core's ``base.html`` and import its form macros, ``forms.html`` (a refused
    form shown again with what was typed, errors linked to their fields)."""


@hookspec
def register_static() -> str | None:
    """Return the directory of this plugin's static files (stylesheets, images), served
    publicly at ``/static/<plugin>/``. Templates add their stylesheet in the layout's
    ``head`` block: ``{% block head %}<link rel="stylesheet" href="/static/<plugin>/x.css">{% endblock %}``."""


@hookspec
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    """Return the links this plugin adds to the territory's main navigation, for a
    visitor holding ``role`` there (``None`` for a platform admin without a role)."""


@hookspec
def page_sections(trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None) -> list[PageSection]:
    """Return sections to show on another plugin's page. The page that shows sections
    calls this hook for the plugins enabled in the territory; today the annuaire's
    structure sheet does (``page="annuaire.structure"``, ``subject_id`` the structure), and
    so does its livret, at its end (``page="annuaire.livret"``, ``subject_id`` the territory).
    Sections are rendered in ``order``; their HTML must be built with autoescaping."""


@hookspec
def structures_in(trame: Trame, territory: str, structure_ids: list[str]) -> list[str]:
    """Return the ids among ``structure_ids`` that are structures of ``territory`` (at any
    time). The plugin that keeps the directory answers; the core asks through
    :func:`core.structures.require_structures` before any command takes a structure id,
    so that an id copied from another territory is refused as absent (404)."""


@hookspec
def structure_choices(trame: Trame, territory: str) -> list[tuple[str, str]]:
    """Return ``(id, name)`` of the structures of ``territory`` today, in French alphabetical
    order, so that a person chooses one by its name (inviting a referent). The plugin that
    keeps the directory answers; the core lists every plugin's answers together."""


@hookspec
def glossary_terms(trame: Trame, territory: str) -> list[GlossaryTerm]:
    """Return the terms and acronyms of ``territory``'s glossary (:class:`core.glossary.GlossaryTerm`).
    Called by :mod:`core.glossary` for the plugins enabled there: on every page of the
    territory (the first use of each acronym becomes an ``<abbr title="expansion">``) and on
    each directory search (« MDS » also finds its expansion, and the reverse). It runs on
    every page: answer from memory, not with a query each time."""


@hookspec
def journal_subjects(trame: Trame, territory: str, lines: list[JournalLine]) -> dict[int, Subject]:
    """Name what each journal line touched, for the lines of events this plugin owns: return
    ``{line.position: Subject(label, href)}`` (a structure's name and its sheet, a meeting and
    its page). Called by the territory's journal page for one page of lines at a time, so
    look names up in one query. Lines a plugin does not know are left out of its answer."""


@hookspec
def mailing_lists(trame: Trame, territory: str) -> list[MailingList]:
    """Return the mailing lists this plugin offers in ``territory`` (:class:`core.mailings.MailingList`:
    a stable ``key``, a French ``label``, and ``targets()`` giving each structure with its generic
    address and its contacts). Called by :mod:`core.mailings` for the plugins enabled there, each
    time a page lists them or a message is queued; ``targets`` only for the list used."""


@hookspec
def subject_erased(trame: Trame, territory: str, subject_id: str, names: list[str]) -> list[str]:
    """A person is being erased in ``territory`` (``subject_id`` their erasure subject, ``names``
    what they were called, read just before their key goes): return the erasure subjects of
    the free texts this plugin keeps that name them (a comment sealed under its own key, a
    guest's name typed at a meeting). Called by :func:`core.erasure.erase_free_text`, which
    records one ``core.TextsErased`` event listing them all (projections that keep such text
    consume it and blank their copies), then shreds their keys. Look in read models only:
    match with :func:`core.erasure.names_in`; return ``[]`` when nothing names them."""


@hookspec
def register_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add sub-commands to the ``trame`` CLI. Set ``func(trame, args) -> int`` as the
    parser default to run the command."""


@hookspec
def demo_data(trame: Trame, territory: str) -> None:
    """Write this plugin's demo data into ``territory`` (through commands, as a user
    would). Called by ``trame demo`` after the territory exists and the plugin is on."""
