import os
import pytest
from core import demo
from tests.crawl import sign_in, same_site_links
@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_shots(trame, live_server, browser_page, monkeypatch):
    slug = os.environ.get("SLUG", "agen")
    monkeypatch.setattr(demo, "TERRITORIES", {slug: demo.TERRITORIES[slug]})
    demo.build_demo(trame)
    context = browser_page.context.browser.new_context(locale="fr-FR", viewport={"width": int(os.environ.get("W", "320")), "height": 800})
    page = context.new_page()
    sign_in(page, live_server, f"coordination.{slug}@trame.example")
    for i, path in enumerate(os.environ["PAGES"].split()):
        if path.startswith("first:"):
            page.goto(live_server + path[6:].split("|")[0])
            path = [u for u in same_site_links(page, live_server) if path.split("|")[1] in u][0][len(live_server):]
        page.goto(live_server + path)
        y = int(os.environ.get("Y", "0"))
        page.screenshot(path=f"/tmp/m/h8_shot{i}.png", full_page=True, clip={"x": 0, "y": y, "width": page.viewport_size["width"], "height": 1800})
