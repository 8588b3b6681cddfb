"""WCAG 2.1 AA, checked by axe-core in a real Chromium on the pages a coordinator reaches.

The demo is built, each territory's coordinator signs in, and the pages their links lead
to (same site, GET, no downloads) are opened and audited by axe-core, a checker nobody
here wrote. ``./scripts/test`` installs axe-core from npm into ``.venv/axe``; without it
(no npm) the test is skipped with a notice, and fails under ``TRAME_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest

from core.application import Trame
from core.demo import PASSWORD, build_demo
from core.testing import REQUIRE_BROWSER

AXE = Path(__file__).resolve().parents[1] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES_PER_TERRITORY = 18
SKIPPED = ("/deconnexion", "/static/", "/schema", ".ics", ".csv", ".vcf", ".json", "/export", "/agenda/")


def _links(page: Any, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        url = urljoin(page.url, href).split("#")[0]
        if urlparse(url).netloc == urlparse(base).netloc and not any(s in url for s in SKIPPED):
            out.append(url)
    return out


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_pages_a_coordinator_reaches_have_no_wcag_21_aa_violation(trame: Trame, live_server: str, browser_page: Any) -> None:
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (TRAME_REQUIRE_BROWSER=1) but {AXE} is missing: run ./scripts/test")
        pytest.skip("axe-core not installed (./scripts/test installs it with npm): accessibility audit skipped")
    build_demo(trame)
    # axe is injected as a script: this context only lets it past the pages' CSP.
    context = browser_page.context.browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    audited: set[str] = set()
    for slug in ("meaux", "agen", "fumel", "joigny"):
        context.clear_cookies()
        page.goto(f"{live_server}/connexion")
        page.get_by_label("Adresse e-mail").fill(f"coordination.{slug}@trame.example")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
        queue, seen = [f"{live_server}/t/{slug}/"], 0
        while queue and seen < PAGES_PER_TERRITORY:
            url = queue.pop(0)
            path = urlparse(url).path
            if url in audited or (path.startswith("/t/") and not path.startswith(f"/t/{slug}/")):
                continue
            audited.add(url)
            response = page.goto(url)
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            seen += 1
            assert response.status < 500, f"{url} answered {response.status}"
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
            for v in result["violations"]:
                targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
                violations.append(f"{path}: {v['id']} ({v['impact']}) {v['help']} — {targets}")
            queue.extend(u for u in _links(page, live_server) if u not in audited)
    context.close()
    assert len(audited) >= 40, f"only {len(audited)} pages reached"
    assert violations == [], "\n".join(violations)
