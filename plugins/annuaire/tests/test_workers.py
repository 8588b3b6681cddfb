"""Several workers for real: two ``trame serve`` processes and a follower on one store.

What a write through one worker acknowledges is read through the other, sixteen clients
spread over both lose and duplicate nothing, and killing a worker mid-write loses no
acknowledged write.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from core.application import Trame
from core.testing import User, url_of
from plugins.annuaire.tests.conftest import open_territory

API = "/api/v1/territories/meaux/structures"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _process(trame: Trame, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "TRAME_DATABASE_URL": url_of(trame), "TRAME_SECRET_KEY": "test-secret"}
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", *args], env=env, stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def _worker(trame: Trame) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    with _process(trame, "serve", "--port", str(port)) as proc:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the worker did not start")
        yield url, proc


def test_two_workers_and_a_follower_share_one_store(trame: Trame, admin: User) -> None:
    open_territory(trame, "meaux")
    with _worker(trame) as (a, worker_a), _worker(trame) as (b, _), _process(trame, "project", "--follow", "--poll", "0.2"):
        one = httpx.post(f"{a}{API}", json={"name": "Mission locale de Meaux"}, headers=admin.headers)
        assert one.status_code == 201
        read = httpx.get(f"{b}{API}/{one.json()['id']}", headers=admin.headers)
        assert read.status_code == 200 and read.json()["name"] == "Mission locale de Meaux"

        statuses: Counter[int] = Counter()
        acknowledged: dict[str, int] = {}
        lock = threading.Lock()

        def writer(i: int) -> None:
            base = (a, b)[i % 2]
            with httpx.Client(base_url=base, headers=admin.headers, timeout=120) as http:
                for k in range(2):
                    r = http.post(API, json={"name": f"Structure {i}-{k}"})
                    with lock:
                        statuses[r.status_code] += 1
                    sid, version = r.json()["id"], r.json()["version"]
                    r = http.patch(f"{API}/{sid}", json={"phone": f"01 {i:02d}"}, headers={"If-Match": f'"{version}"'})
                    with lock:
                        statuses[r.status_code] += 1
                        acknowledged[sid] = 2 if r.status_code == 200 else 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert statuses == Counter({201: 32, 200: 32})
        for sid, count in acknowledged.items():
            assert len(trame.store.stream(uuid.UUID(sid))) == count == 2

        # Kill worker A while a client writes through it: every answered write stays.
        answered: list[str] = []

        def hammer() -> None:
            with httpx.Client(base_url=a, headers=admin.headers, timeout=10) as http:
                for n in range(10_000):
                    try:
                        r = http.post(API, json={"name": f"Avant l'arrêt {n}"})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 201:
                        answered.append(r.json()["id"])

        thread = threading.Thread(target=hammer)
        thread.start()
        deadline = time.monotonic() + 60
        while len(answered) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        worker_a.send_signal(signal.SIGKILL)
        thread.join(timeout=60)
        assert len(answered) >= 20
        for sid in answered:
            assert httpx.get(f"{b}{API}/{sid}", headers=admin.headers).status_code == 200
        health = httpx.get(f"{b}/health").json()
        assert health["rebuilding"] == []
