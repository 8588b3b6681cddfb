"""One structure's sheet at a date, its whole history, and the page of a structure out of the
network (where it went)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from litestar import get
from litestar.response import Template

from core import clock
from core.application import Trame
from core.web.access import access_of
from core.web.rendering import render
from plugins.annuaire.display import READ, Req, S, Shower, common, ids_in, known, last_name, names_of, sections
from plugins.annuaire.form_checks import page_number
from plugins.annuaire.moments import Moment, moment, with_time
from plugins.annuaire.schemas import HistoryEntry
from plugins.annuaire.service import directory
from plugins.annuaire.sheet_pages import DONE


# == one structure ==============================================================================
@get(S, opt=READ, sync_to_thread=False)
def structure_page(
    request: Req, trame: Trame, territory: str, structure_id: str, as_of: str | None = None, known_at: str | None = None,
    fait: str | None = None, known_time: str | None = None,
) -> Template:  # fmt: skip
    m = moment(as_of, with_time(known_at, known_time))
    svc = directory(trame)
    svc.version(territory, structure_id)  # 404 if it never existed here
    access = access_of(request)
    s = svc.get_structure(territory, structure_id, m.as_of, m.known_at)
    if s is None:
        return _absent_page(request, trame, territory, structure_id, known(svc.history(territory, structure_id=structure_id), m), m)
    # The latest changes only, so that a sheet costs the same whatever its age; the whole
    # history is on its own paged page.
    timeline = recent_changes(trame, territory, structure_id, m, RECENT_CHANGES + 1)
    more_history = len(timeline) > RECENT_CHANGES
    timeline = timeline[:RECENT_CHANGES]
    [s] = svc.with_present_relays(territory, [s], m.as_of, m.known_at)  # relays that were partners at that date only
    at = m.as_of or clock.now()
    current = svc.contacts(territory, structure_id, m.as_of, m.known_at)
    everyone = svc.contacts(territory, structure_id, m.as_of, m.known_at, include_past=True)
    shown = {c.id for c in current}
    former = [c for c in everyone if c.id not in shown and (c.until is not None and clock.parse(c.until) <= at)]
    future = [c for c in everyone if c.id not in shown and c not in former]
    names = names_of(trame, territory, {*s.relays, *s.absorbed, *([s.merged_into] if s.merged_into else []), *ids_in(timeline)}, m)
    today = m.as_of is None and m.known_at is None
    return render(
        request, "annuaire/structure.html", s=s, current=current, former=former, future=future, timeline=timeline,
        show=Shower(names), names=names, sections=sections(trame, territory, structure_id, m),
        # Changes are made to today's sheet (with their effective date): a past view offers none,
        # and its forms would not exist for a structure that has since merged or left.
        may_edit=today and access.may_edit_structure(structure_id), is_coordinator=today and access.at_least("coordinator"),
        edits_today=not today and (access.may_edit_structure(structure_id) or access.at_least("coordinator")),
        done=DONE.get(fait or ""), more_history=more_history, **common(m),
    )  # fmt: skip


#: Changes shown on a sheet, newest first; the rest on its history page.
RECENT_CHANGES = 15
#: Changes per page of a sheet's whole history.
HISTORY_PAGE = 100


def recent_changes(trame: Trame, territory: str, structure_id: str, m: Moment, limit: int, offset: int = 0) -> list[HistoryEntry]:
    """A sheet's changes as known at the page's moment, newest recorded first, one page of them."""
    until = None if m.known_at is None else clock.instant(clock.to_datetime(m.known_at) + timedelta(microseconds=1))
    return directory(trame).audit(territory, structure_id=structure_id, until=until, limit=limit, offset=offset)


@get(f"{S}/historique", opt=READ, sync_to_thread=False)
def history_page(
    request: Req, trame: Trame, territory: str, structure_id: str, page: str | None = None, known_at: str | None = None,
    known_time: str | None = None,
) -> Template:  # fmt: skip
    """Every change of a sheet, newest first, 100 per page."""
    m = moment(None, with_time(known_at, known_time))
    svc = directory(trame)
    svc.version(territory, structure_id)  # 404 if it never existed here
    number = page_number(page)
    entries = recent_changes(trame, territory, structure_id, m, HISTORY_PAGE + 1, (number - 1) * HISTORY_PAGE)
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    s = svc.get_structure(territory, structure_id)
    name = s.name if s else (last_name(svc.history(territory, structure_id=structure_id)) or "Structure")
    names = names_of(trame, territory, ids_in(entries))
    extra = {"known_at": m.known_at_text} if m.known_at_text else {}

    def page_url(n: int) -> str:
        return "?" + urlencode({**extra, "page": n})

    return render(
        request, "annuaire/history.html", structure_id=structure_id, name=name, entries=entries, show=Shower(names), page=number,
        prev_url=page_url(number - 1) if number > 1 else None, next_url=page_url(number + 1) if more else None, **common(m),
    )  # fmt: skip


def _absent_page(request: Req, trame: Trame, territory: str, structure_id: str, timeline: list[HistoryEntry], m: Moment) -> Template:
    """The page of a structure out of the network at the date asked: why, since when, where it went.

    A structure that merged or left answers 200, not 404 or 410: old links, bookmarks and printed
    livrets point at it, and this page is its record (where it went, its history, its sheet before
    the date through the date picker); that state can also be undone by a rejoin, so it is not
    "gone" for good. Only a date before it ever joined keeps 404: there was nothing to show then.
    """
    svc = directory(trame)
    names = names_of(trame, territory, ids_in(timeline))
    gone = svc.departure(territory, structure_id, m.as_of, m.known_at)
    into: dict[str, str | None] | None = None
    before_day = None
    if gone is not None:
        left = str(gone["left"])
        before_day = (clock.to_datetime(left).date() - timedelta(days=1)).isoformat()
        if gone["merged_into"]:
            target = str(gone["merged_into"])
            then = svc.get_structure(territory, target, left, m.known_at)
            now = svc.get_structure(territory, target)
            name_then = then.name if then else names_of(trame, territory, {target}).get(target, "une autre structure")
            into = {"id": target, "name": name_then, "now": now.name if now and now.name != name_then else None}
    return render(
        request, "annuaire/absente.html", status_code=200 if gone else 404, structure_id=structure_id,
        name=(gone or {}).get("name") or last_name(timeline), gone=gone, into=into, before_day=before_day,
        french_date=clock.french_long_date, timeline=timeline, show=Shower(names), may_rejoin=access_of(request).at_least("coordinator"),
        **common(m),
    )  # fmt: skip


ROUTES = [structure_page, history_page]
