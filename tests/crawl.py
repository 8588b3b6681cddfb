"""The pages a demo account reaches by following links, for the real-browser audits.

Shared by the accessibility audit (axe-core) and the reflow test (320 px): sign in as a demo
account, then follow the same-site GET links from the territory's home, breadth first. A page
*kind* is its address with every identifier and query value blanked, so a directory of 60
sheets is visited through a couple of them rather than all: the audits cover every kind of
page a person meets without re-reading the same template sixty times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlparse

from core.demo import PASSWORD

#: Addresses that are not pages to audit: sign-out, files, feeds, the API's schema.
SKIPPED = ("/deconnexion", "/static/", "/schema", ".ics", ".csv", ".vcf", ".json", "/export", "/agenda/", "/api/")
#: A path segment that names one item (uuid, hex digest, number, date), not a kind of page.
_ITEM = re.compile(r"^(?:[0-9a-f]{8,}(?:-[0-9a-f]{4,})*|\d+|\d{4}-\d{2}-\d{2}.*|[A-Za-z0-9_-]{20,})$")


def page_kind(url: str) -> str:
    """``/t/agen/annuaire/structures/3f2a...?as_of=2010-06-01`` -> ``/t/agen/annuaire/structures/*?as_of``."""
    parts = urlparse(url)
    path = "/".join("*" if _ITEM.match(segment) else segment for segment in parts.path.split("/"))
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def sign_in(page: Any, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def same_site_links(page: Any, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        url = urljoin(page.url, href).split("#")[0]
        if urlparse(url).netloc == urlparse(base).netloc and not any(s in url for s in SKIPPED):
            out.append(url)
    return out


@dataclass
class Visit:
    url: str
    path: str
    status: int


def crawl(
    page: Any, base: str, slug: str, *, per_kind: int = 2, limit: int = 200, seen_kinds: dict[str, int] | None = None
) -> Iterator[Visit]:
    """Open each HTML page of territory ``slug`` reachable from its home (at most ``per_kind``
    of each kind, ``limit`` in all), yielding each one while the browser shows it.
    ``seen_kinds`` may be shared between calls so that several accounts split the work."""
    kinds = seen_kinds if seen_kinds is not None else {}
    queue, opened, visited = [f"{base}/t/{slug}/"], set[str](), 0
    while queue and visited < limit:
        url = queue.pop(0)
        path = urlparse(url).path
        kind = page_kind(url)
        if url in opened or kinds.get(kind, 0) >= per_kind or (path.startswith("/t/") and not path.startswith(f"/t/{slug}/")):
            continue
        opened.add(url)
        response = page.goto(url)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        visited += 1
        yield Visit(url, path + (f"?{urlparse(url).query}" if urlparse(url).query else ""), response.status)
        queue.extend(u for u in same_site_links(page, base) if u not in opened)


def accounts(slugs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(territory, e-mail) of each demo coordinator, then one member per territory."""
    return [(s, f"coordination.{s}@trame.example") for s in slugs] + [(s, f"membre.{s}@trame.example") for s in slugs]
