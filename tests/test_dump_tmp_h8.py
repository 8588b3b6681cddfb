import os, re
import pytest
from core import demo
from tests.crawl import sign_in, same_site_links
@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_dump(trame, live_server, browser_page, monkeypatch):
    slug = os.environ.get("SLUG", "meaux")
    monkeypatch.setattr(demo, "TERRITORIES", {slug: demo.TERRITORIES[slug]})
    demo.build_demo(trame)
    page = browser_page
    sign_in(page, live_server, f"coordination.{slug}@trame.example")
    for path in os.environ["PAGES"].split():
        if path.startswith("first:"):
            page.goto(live_server + path[6:].split("|")[0])
            path = [u for u in same_site_links(page, live_server) if path.split("|")[1] in u][0][len(live_server):]
        page.goto(live_server + path)
        for line in page.evaluate("document.body.innerText").splitlines():
            if re.search(r"\d{4}-\d\d-\d\d", line): print("ISO", path, line[:200])
