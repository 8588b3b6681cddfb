"""`trame serve` sends the mailing queue by itself when SMTP is configured: a message queued
before a restart leaves once the server is up again, with each structure's own link."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import url_of
from plugins.evaluations.service import evaluations
from plugins.evaluations.tests import helpers
from plugins.evaluations.tests.helpers import T


@pytest.fixture
def smtp(trame: Trame) -> Iterator[helpers.Inbox]:
    yield from helpers.smtp_server(trame)


def test_a_message_queued_before_a_restart_is_sent_by_the_server(trame: Trame, smtp: helpers.Inbox) -> None:
    ids = helpers.territory(trame)
    svc = evaluations(trame)
    qid = svc.draft(T, author=SYSTEM, year=2012)
    svc.send(T, qid, author=SYSTEM, list_key="annuaire.territoire", closes_on="2099-12-31")  # queued, nothing sent yet
    assert smtp.messages == []
    env = {
        **os.environ,
        "TRAME_DATABASE_URL": url_of(trame),
        "TRAME_SECRET_KEY": trame.settings.secret_key,
        "TRAME_SMTP_HOST": "127.0.0.1",
        "TRAME_SMTP_PORT": str(trame.settings.smtp_port),
        "TRAME_MAIL_FROM": "coordination@valfleuri.example",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", "--port", str(helpers.free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _recorded(trame) < len(ids) and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=20)
    assert len(smtp.messages) == len(ids), err.decode(errors="replace")[-2000:]
    links = {i.structure_id: str(i.url).rsplit("/", 1)[1] for i in svc.invited(T, qid, with_links=True)}
    received = smtp.by_address()
    assert links[ids["ml"]] in helpers.text_of(received[f"ml@{T}.example"][0])
    assert _recorded(trame) == len(ids)  # each delivery logged once


def _recorded(trame: Trame) -> int:
    with trame.db.read() as cur:
        return int(cur.scalar("SELECT COUNT(*) FROM mailing_recipients WHERE status = 'sent'") or 0)
