"""Sixteen API clients at once through a real server: every answer tells the truth.

A request either commits and answers 2xx, or answers an error and wrote nothing; writers
queue instead of failing, and a 409 only ever means that someone else changed the sheet.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import httpx

from core.application import Trame
from core.testing import User
from plugins.annuaire.tests.conftest import open_territory

WRITERS = 16
SHEETS_EACH = 3
EDITS_EACH = 4
API = "/api/v1/territories/meaux/structures"


def _in_threads(work: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return errors


def test_sixteen_writers_lose_nothing_duplicate_nothing_and_never_fail(trame: Trame, admin: User, live_server: str) -> None:
    open_territory(trame, "meaux")
    statuses: Counter[int] = Counter()
    created: dict[str, int] = {}  # sheet id -> 2xx writes acknowledged
    lock = threading.Lock()

    def own_sheets(i: int) -> None:
        with httpx.Client(base_url=live_server, headers=admin.headers, timeout=120) as http:
            for k in range(SHEETS_EACH):
                r = http.post(API, json={"name": f"Structure {i}-{k} {uuid.uuid4().hex[:6]}"})
                with lock:
                    statuses[r.status_code] += 1
                if r.status_code != 201:
                    continue
                sid, version = r.json()["id"], r.json()["version"]
                acknowledged = 1
                for n in range(EDITS_EACH):
                    # One writer per sheet: the version sent is always current, so a 409 would be spurious.
                    r = http.patch(f"{API}/{sid}", json={"phone": f"01 {i:02d} {k}{n}"}, headers={"If-Match": f'"{version}"'})
                    with lock:
                        statuses[r.status_code] += 1
                    if r.status_code == 200:
                        version = r.json()["version"]
                        acknowledged += 1
                with lock:
                    created[sid] = acknowledged

    assert _in_threads(own_sheets) == []
    assert statuses == Counter({201: WRITERS * SHEETS_EACH, 200: WRITERS * SHEETS_EACH * EDITS_EACH})
    for sid, acknowledged in created.items():
        assert len(trame.store.stream(uuid.UUID(sid))) == acknowledged == 1 + EDITS_EACH

    # Everybody edits the same sheet: 409s are real conflicts now, retried after a fresh read.
    with httpx.Client(base_url=live_server, headers=admin.headers) as http:
        shared = http.post(API, json={"name": "CCAS de Meaux"}).json()["id"]
    shared_statuses: Counter[int] = Counter()

    def same_sheet(i: int) -> None:
        with httpx.Client(base_url=live_server, headers=admin.headers, timeout=120) as http:
            for _ in range(50):
                etag = http.get(f"{API}/{shared}").headers["etag"]
                r = http.patch(f"{API}/{shared}", json={"email": f"accueil{i}@ccas-meaux.example"}, headers={"If-Match": etag})
                with lock:
                    shared_statuses[r.status_code] += 1
                if r.status_code == 200:
                    return

    assert _in_threads(same_sheet) == []
    assert set(shared_statuses) <= {200, 409}
    assert shared_statuses[200] == WRITERS
    events = trame.store.stream(uuid.UUID(shared))
    assert len(events) == 1 + WRITERS  # each acknowledged edit once, no refused edit written
    assert sorted(e.event.changes.email for e in events[1:]) == sorted(f"accueil{i}@ccas-meaux.example" for i in range(WRITERS))  # type: ignore[attr-defined]
