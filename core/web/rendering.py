"""Rendering pages with the shared layout context: who is signed in, where, and the navigation."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.response import Template
from markupsafe import Markup

from core import clock, glossary
from core.application import Trame
from core.plugins import NavLink
from core.web import abbreviations
from core.web.access import Access, resolve_principal

_environments: WeakKeyDictionary[Trame, Environment] = WeakKeyDictionary()


def environment(trame: Trame) -> Environment:
    """The one Jinja environment of an app: the core's templates, then each plugin's."""
    env = _environments.get(trame)
    if env is None:
        dirs = [str(Path(__file__).parent / "templates")] + [d for d in trame.pm.hook.register_templates() if d]
        # Templates ship with the code: no stat() of every template file on every render.
        env = Environment(
            loader=FileSystemLoader(dirs), autoescape=select_autoescape(default=True, default_for_string=True), auto_reload=False
        )
        env.template_class = abbreviations.AbbreviatingTemplate  # acronyms explained on first use (core/web/abbreviations.py)
        env.globals["today"] = clock.paris_today
        env.filters["day"] = clock.day_of
        env.filters["date_fr"] = clock.french_date
        env.filters["moment_fr"] = clock.french_moment
        _environments[trame] = env
    return env


def fragment(trame: Trame, template: str, **context: Any) -> Markup:
    """A piece of HTML rendered outside a request (page sections), autoescaped like pages."""
    return Markup(environment(trame).get_template(template).render(**context))  # noqa: S704 - autoescaping environment


_fragments: WeakKeyDictionary[Trame, dict[tuple[str, Hashable], Markup]] = WeakKeyDictionary()
#: Fragments kept per app; past this many, the memo starts again (it is only a shortcut).
FRAGMENTS_KEPT = 4096


def memo_fragment(trame: Trame, template: str, key: Hashable, context: Callable[[], dict[str, Any]]) -> Markup:
    """:func:`fragment`, rendered once per ``key``: for pieces repeated from page to page (a
    directory row, a list of options). ``key`` must determine everything the template shows
    (for a row: the stored state it is decoded from, and the links' prefix and suffix);
    ``context`` is only called to render a key not seen yet."""
    kept = _fragments.get(trame)
    if kept is None:
        kept = _fragments[trame] = {}
    out = kept.get((template, key))
    if out is None:
        if len(kept) >= FRAGMENTS_KEPT:
            kept.clear()
        out = kept[(template, key)] = fragment(trame, template, **context())
    return out


_callers: WeakKeyDictionary[Trame, dict[frozenset[str], Any]] = WeakKeyDictionary()


def navigation(trame: Trame, access: Access) -> list[NavLink]:
    """Core links, then those of the plugins enabled in the territory, by order.

    The modules on come with the access (read by the guard); the hook caller of each set of
    plugins that are off is built once per app."""
    links = [NavLink("Accueil du territoire", "", order=0)]
    callers = _callers.setdefault(trame, {})
    off = frozenset(name for name in trame.catalog.info if name not in access.plugins)
    caller = callers.get(off)
    if caller is None:
        removed = [p for p in trame.pm.get_plugins() if p.plugin_info().name in off]
        caller = callers[off] = trame.pm.subset_hook_caller("navigation_links", remove_plugins=removed)
    for contributed in caller(territory=access.territory, role=access.role):
        links.extend(contributed)
    if access.at_least("coordinator"):
        links += [NavLink("Membres", "membres", order=90), NavLink("Modules", "modules", order=91), NavLink("Journal", "journal", order=92)]
    return sorted(links, key=lambda link: link.order)


def render(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    trame: Trame = request.app.state.trame
    access: Access | None = request.state.get("access")
    context.setdefault("principal", resolve_principal(request))
    context["access"] = access
    context["nav"] = navigation(trame, access) if access else []
    context["request_path"] = request.url.path
    if access is not None:
        context[abbreviations.CONTEXT_KEY] = abbreviations.compiled(glossary.terms(trame, access.territory, access.plugins))
    return Template(template, context=context, status_code=status_code)
