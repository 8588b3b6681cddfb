import os
import pytest
from core import demo
import tests.test_reflow as r

@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_tmp(trame, live_server, browser_page, monkeypatch):
    skip = os.environ.get("SKIPT", "joigny").split(",")
    t = {k: v for k, v in demo.TERRITORIES.items() if k not in skip}
    monkeypatch.setattr(demo, "TERRITORIES", t)
    monkeypatch.setattr(r, "TERRITORIES", t)
    r.test_no_page_scrolls_sideways_at_320_px_nor_writes_iso_dates(trame, live_server, browser_page)
