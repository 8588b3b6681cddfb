"""The directory: search and filters over the structures at a date, paged by cursor links, and
the structures that left the network a search still finds."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import get
from litestar.response import Template
from markupsafe import Markup

from core import clock
from core.application import Trame
from core.refusals import invalid
from core.text import fold
from core.web.access import access_of
from core.web.rendering import memo_fragment, render
from plugins.annuaire import kinds
from plugins.annuaire.display import READ, P, Req, common
from plugins.annuaire.form_checks import page_number
from plugins.annuaire.moments import moment
from plugins.annuaire.service import Position, directory, listed

PAGE_SIZE = 50


# == directory ==================================================================================
@get(f"{P}/", opt=READ, sync_to_thread=False)
def index(
    request: Req,
    trame: Trame,
    territory: str,
    q: str | None = None,
    kind: str | None = None,
    theme: str | None = None,
    commune: str | None = None,
    role: str | None = None,
    as_of: str | None = None,
    known_at: str | None = None,
    apres: str | None = None,
    avant: str | None = None,
    page: str | None = None,
) -> Template:
    # A date the person mistyped: the directory of today, the filters kept, the reason beside the field.
    date_errors: dict[str, str] = {}
    m = moment(as_of, known_at, date_errors)
    after, before = position_of(apres, "apres"), position_of(avant, "avant")
    number = page_number(page) if after or before else 1  # only a label carried by the links: the page is found by apres / avant
    filters = {"q": (q or "").strip(), "kind": kind or "", "theme": theme or "", "commune": (commune or "").strip(), "role": role or ""}
    found = directory(trame).browse(
        territory, filters["q"] or None, kind=filters["kind"] or None, commune=filters["commune"] or None,
        theme=filters["theme"] or None, role=filters["role"] or None, as_of=m.as_of, known_at=m.known_at,
        after=after, before=before, limit=PAGE_SIZE,
    )  # fmt: skip
    if found.previous is None:
        number = 1
    kept = [(k, v) for k, v in (*filters.items(), ("as_of", m.as_of_text), ("known_at", m.known_at_text)) if v]

    def page_url(key: str, at: Position, n: int) -> str:
        return "?" + urlencode([*kept, (key, cursor_text(at)), ("page", n)])

    pages = None if found.capped else max(1, -(-found.count // PAGE_SIZE))
    here, at = f"/t/{territory}/annuaire/", m.query

    def row_context(row: tuple[str, str]) -> Callable[[], dict[str, Any]]:
        return lambda: {"s": listed(*row), "here": here, "at": at}

    # Each row is rendered once per (stored state, links) and kept: a page joins 50 fragments.
    rows_html = Markup(  # noqa: S704 - a join of fragments rendered by the autoescaping environment
        "".join(memo_fragment(trame, "annuaire/_directory_row.html", (row, here, at), row_context(row)) for row in found.rows)
    )
    options = {name: filter_options(trame, name, filters[name]) for name in _CHOICES}
    return render(
        request, "annuaire/index.html", rows_html=rows_html, options=options, filters=filters,
        count_text=count_text(found.count, found.capped), page=number, pages=pages if pages is None or pages >= number else number,
        prev_url=page_url("avant", found.previous, number - 1) if found.previous else None,
        next_url=page_url("apres", found.next, number + 1) if found.next else None,
        first_url="?" + urlencode(kept) if after or before else None,
        filtered=any(filters.values()), may_create=access_of(request).at_least("coordinator"), date_errors=date_errors,
        departed=departed(trame, territory, filters["q"]) if filters["q"] and not m.as_of and not (after or before) else [],
        status_code=400 if date_errors else 200, **common(m),
    )  # fmt: skip


@dataclass(frozen=True)
class Departed:
    """A structure that matched a search before it left the network (or merged into another)."""

    structure_id: str
    name: str
    left_on: str  # the effective instant it left or merged
    before: str  # an instant just before, to open its sheet as it was
    merged_into: str | None
    merged_into_name: str | None


def departed(trame: Trame, territory: str, q: str) -> list[Departed]:
    """Structures out of the network today whose name, acronym or former names matched ``q``
    just before they left: read from the sheets' history (who left or merged, when), then each
    sheet as of that moment, so that « DDJS » today says where it went."""
    wanted = fold(q.strip())
    if not wanted:
        return []
    last: dict[str, tuple[str, str | None]] = {}  # structure -> (when it left, what it merged into)
    with trame.db.read() as cur:
        for r in cur.execute(
            "SELECT structure_id, effective, changes FROM annuaire_structure_history WHERE territory = ? "
            "AND event IN ('annuaire.StructureLeft', 'annuaire.StructureMerged') ORDER BY position",
            (territory,),
        ).fetchall():
            into = next((c[2] for c in json.loads(r["changes"] or "[]") if c[0] == "merged_into"), None)
            last[r["structure_id"]] = (r["effective"], into)
    svc = directory(trame)
    today = svc.structures(territory, list(last))
    out: list[Departed] = []
    for sid, (left_on, into) in last.items():
        if sid in today:
            continue  # back in the network: today's results show it
        before = clock.instant(clock.to_datetime(left_on) - timedelta(seconds=1))
        s = svc.get_structure(territory, sid, as_of=before)
        if s is None or not any(wanted in fold(text) for text in (s.name, s.acronym or "", *s.former_names)):
            continue
        successor = svc.structures(territory, [into]).get(into) if into else None
        out.append(Departed(sid, s.name, left_on, before, into, successor.name if successor else None))
    return sorted(out, key=lambda d: d.left_on, reverse=True)


_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "kind": tuple((k.code, k.label) for k in kinds.KINDS),
    "theme": tuple(kinds.THEMES.items()),
    "role": tuple(kinds.PARTNER_ROLES.items()),
}


def filter_options(trame: Trame, name: str, selected: str) -> Markup:
    """The <option>s of a filter of the directory, rendered once per selected value."""
    choices = _CHOICES[name]
    key = (name, selected if any(selected == value for value, _ in choices) else "")
    return memo_fragment(trame, "annuaire/_filter_options.html", key, lambda: {"choices": choices, "selected": key[1]})


def count_text(count: int, capped: bool) -> str:
    """The heading: « Aucune structure », « 1 structure », « 1 234 structures », « Plus de 1 000 structures »."""
    number = f"{count:,}".replace(",", "\u00a0")  # French thousands, never split across lines
    if capped:
        return f"Plus de {number} structures"
    return "Aucune structure" if count == 0 else "1 structure" if count == 1 else f"{number} structures"


def cursor_text(at: Position) -> str:
    """A page boundary in a link: URL-safe, opaque, read back by :func:`position_of`."""
    fields = [at.sort_name, at.entity_id] if at.score is None else [at.sort_name, at.entity_id, at.score]
    return base64.urlsafe_b64encode(msgspec.json.encode(fields)).rstrip(b"=").decode()


def position_of(text: str | None, name: str) -> Position | None:
    if not text:
        return None
    """The boundary given by ``apres`` / ``avant``; a mangled one is a 400 that says where to go."""
    try:
        fields = msgspec.json.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), type=list[str | float])
        sort_name, entity_id, *rest = fields
        if not isinstance(sort_name, str) or not isinstance(entity_id, str) or len(rest) > 1 or not all(isinstance(x, float) for x in rest):
            raise ValueError(text)
    except (ValueError, msgspec.DecodeError):
        raise invalid(f"Lien de page ({name}) illisible : repartez de la première page de l'annuaire.", name) from None
    return Position(sort_name=sort_name, entity_id=entity_id, score=float(rest[0]) if rest else None)


ROUTES = [index]
