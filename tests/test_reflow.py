"""WCAG 1.4.10 reflow, measured in a real Chromium: no page scrolls sideways at 320 px.

The demo is built; each territory's coordinator, then its member, signs in at a 320 px wide
window and follows the links from the territory's home (``tests/crawl.py``). On every page:

- ``document.documentElement.scrollWidth`` does not exceed the window, and no box scrolls
  sideways inside it either (a table squeezed into a scrolling box is not reflow);
- every table of three columns or more is shown as stacked cards, each cell led by its column's
  name (``data-label``), instead of columns a few letters wide;
- no date is written the ISO way (2027-01-31): French readers get 31/01/2027.

The widest pages are printed (run with ``-s``), so that a regression says where it is.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.application import Trame
from core.demo import TERRITORIES, build_demo
from tests.crawl import accounts, crawl, sign_in

WIDTH = 320

#: What a person sees overflow: the page's width, the boxes that scroll sideways inside it,
#: the tables still drawn as columns (3 or more) and the cells of stacked tables without their
#: column's name, and the page's visible text (inputs' values are not part of it).
MEASURE = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const scrollers = [];
  for (const el of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(el);
    if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      scrollers.push(name(el) + ' ' + el.scrollWidth + ' px in ' + el.clientWidth);
  }
  const columns = [], unlabelled = [];
  for (const table of document.querySelectorAll('table')) {
    if (!table.getClientRects().length) continue;
    const width = Math.max(0, ...Array.from(table.rows, r => r.cells.length));
    if (width < 3) continue;
    const caption = (table.caption ? table.caption.textContent : name(table)).trim().slice(0, 60);
    const row = table.tBodies[0] && table.tBodies[0].rows[0];
    if (row && getComputedStyle(row).display !== 'block') { columns.push(caption); continue; }
    for (const r of table.tBodies[0] ? table.tBodies[0].rows : []) {
      if (r.cells.length < 2) continue;
      for (const cell of r.cells)
        if (!cell.dataset.label && !(cell.tagName === 'TH' && cell.scope === 'row')
            && cell.textContent.trim() && cell.getClientRects().length)
          unlabelled.push(caption + ' : « ' + cell.textContent.trim().slice(0, 30) + ' »');
    }
  }
  return {width: document.documentElement.scrollWidth, scrollers, columns, unlabelled: unlabelled.slice(0, 3),
          text: document.body.innerText};
}"""
ISO_DATE = re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_page_scrolls_sideways_at_320_px_nor_writes_iso_dates(trame: Trame, live_server: str, browser_page: Any) -> None:
    build_demo(trame)
    context = browser_page.context.browser.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    widths: dict[str, int] = {}
    problems: list[str] = []
    kinds: dict[str, int] = {}
    for slug, email in accounts(tuple(TERRITORIES)):
        sign_in(page, live_server, email)
        for visit in crawl(page, live_server, slug, per_kind=2, seen_kinds=kinds):
            assert visit.status < 500, f"{visit.url} answered {visit.status}"
            seen = page.evaluate(MEASURE)
            widths[visit.path] = seen["width"]
            if seen["width"] > WIDTH:
                problems.append(f"{visit.path}: {seen['width']} px wide")
            problems += [f"{visit.path}: {box} scrolls sideways" for box in seen["scrollers"]]
            problems += [f"{visit.path}: table « {caption} » is drawn as columns" for caption in seen["columns"]]
            problems += [f"{visit.path}: cell without its column's name in {cell}" for cell in seen["unlabelled"]]
            problems += [f"{visit.path}: ISO date {day}" for day in sorted(set(ISO_DATE.findall(seen["text"])))]
    context.close()
    print(f"\n{len(widths)} pages at {WIDTH} px; widest:")
    for path, measured in sorted(widths.items(), key=lambda item: -item[1])[:8]:
        print(f"  {measured:5d} px  {path}")
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
    assert len(widths) >= 150, f"only {len(widths)} pages reached"
    assert {path.split("/")[3] for path in widths if path.count("/") > 3} >= {
        "annuaire",
        "rencontres",
        "cafe",
        "charte",
        "lexique",
        "partenariats",
        "immersions",
        "diffusion",
    }, "a module's pages were not reached"
