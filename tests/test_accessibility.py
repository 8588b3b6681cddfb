"""WCAG 2.1 AA, checked by axe-core in a real Chromium on the pages a coordinator reaches.

The demo is built, each territory's coordinator then its member signs in, and the pages their
links lead to (same site, GET, no downloads; one of each kind, see ``tests/crawl.py``) are
opened at 1280 px and audited by axe-core, a checker nobody here wrote; none may be cut or
scroll sideways at that width either. ``./scripts/test`` installs axe-core from npm into ``.venv/axe``; without it
(no npm) the test is skipped with a notice, and fails under ``TRAME_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.application import Trame
from core.demo import TERRITORIES, build_demo
from core.testing import REQUIRE_BROWSER
from tests.crawl import accounts, crawl, sign_in

AXE = Path(__file__).resolve().parents[1] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Pages audited per account; the crawl visits one page of each kind (tests/crawl.py), so the
#: later territories add the kinds of their own modules (charter, partnerships, immersions...).
PAGES_PER_ACCOUNT = 30
DESKTOP = 1280
#: At desktop width nothing is cut either: the page's width and the boxes that scroll sideways.
OVERFLOW = """() => {
  const boxes = [];
  for (const el of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(el);
    if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      boxes.push(el.tagName.toLowerCase() + ' ' + el.scrollWidth + ' px in ' + el.clientWidth);
  }
  return {width: document.documentElement.scrollWidth, boxes};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_pages_a_coordinator_reaches_have_no_wcag_21_aa_violation(trame: Trame, live_server: str, browser_page: Any) -> None:
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing: run ./scripts/test")
        pytest.skip("axe-core not installed (./scripts/test installs it with npm): accessibility audit skipped")
    build_demo(trame)
    # axe is injected as a script: this context only lets it past the pages' CSP.
    context = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": DESKTOP, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    cut: list[str] = []
    audited: set[str] = set()
    kinds: dict[str, int] = {}
    for slug, email in accounts(tuple(TERRITORIES)):
        sign_in(page, live_server, email)
        for visit in crawl(page, live_server, slug, per_kind=1, limit=PAGES_PER_ACCOUNT, seen_kinds=kinds):
            assert visit.status < 500, f"{visit.url} answered {visit.status}"
            audited.add(visit.path)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
            for v in result["violations"]:
                targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
                violations.append(f"{visit.path}: {v['id']} ({v['impact']}) {v['help']} — {targets}")
            seen = page.evaluate(OVERFLOW)
            if seen["width"] > DESKTOP:
                cut.append(f"{visit.path}: {seen['width']} px wide at {DESKTOP} px")
            cut += [f"{visit.path}: {box} scrolls sideways at {DESKTOP} px" for box in seen["boxes"]]
    context.close()
    print(f"\n{len(audited)} pages audited by axe-core")
    assert len(audited) >= 100, f"only {len(audited)} pages reached"
    assert {"marseille", "joigny"} <= {path.split("/")[2] for path in audited if path.startswith("/t/")}
    assert violations == [], "\n".join(violations)
    assert cut == [], "\n".join(cut)
