"""In a real Chromium: a coordinator schedules a café and records its round table (no JavaScript needed)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.application import Trame
from core.testing import PASSWORD
from plugins.rencontres.tests import helpers

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("TRAME_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TRAME_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed: the real-browser test needs Chromium (apt-get install chromium)")


@pytest.fixture
def server(trame: Trame) -> Iterator[str]:
    import uvicorn

    from core.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(trame), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_schedule_a_cafe_and_record_its_round_table(trame: Trame, server: str) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    helpers.territory(trame, plugins=("annuaire", "rencontres", "cafe"))
    ids = helpers.structures(trame)
    user = helpers.coordinator(trame)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server}/connexion")
            page.get_by_label("Adresse e-mail").fill(user.email)
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.locator("main form button[type=submit]").click()
            page.goto(f"{server}/t/agen/cafe/")
            expect(page.get_by_role("heading", name="Café partenaires", exact=True)).to_be_visible()
            page.fill("#day", "2026-03-06")
            page.select_option("#host_structure_id", ids["regie"])
            page.get_by_role("button", name="Programmer le café").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Café partenaires")
            expect(page.locator("p.lead")).to_contain_text("vendredi 6 mars 2026")
            expect(page.locator("p.lead")).to_contain_text("Régie de quartier, Rue des Iris")
            page.select_option("#structure_id", ids["ml"])
            page.get_by_label("Nouvelles de la structure").fill("Forum de l'alternance le 20 mars au Centre social.")
            page.get_by_role("button", name="Ajouter au tour de table").click()
            expect(page.locator("#tour-de-table ~ dl")).to_contain_text("Mission locale de l'Agenais")
            expect(page.locator("#tour-de-table ~ dl")).to_contain_text("Forum de l'alternance le 20 mars")
            page.select_option("#structure_id", ids["cms"])
            page.get_by_label("Nouvelles de la structure").fill("Permanence PMI le jeudi matin.")
            page.get_by_role("button", name="Ajouter au tour de table").click()
            expect(page.locator("#tour-de-table ~ dl dt")).to_have_count(2)
        finally:
            browser.close()
    from plugins.cafe.service import cafes

    (cafe,) = cafes(trame).cafes("agen")
    assert {e["structure_id"] for e in cafes(trame).round_table("agen", cafe["meeting_id"])} == {ids["ml"], ids["cms"]}
