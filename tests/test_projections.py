"""Projections: exactly once, resumable, rebuildable, equal however they were built."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import pytest

from core.application import Trame
from core.database import Cursor
from core.events import Recorded
from core.projection import Projection, ProjectionRunner
from core.settings import Settings
from core.store import Context, Write
from core.territories import PluginEnabled
from core.testing import run_cli, url_of
from tests.events_for_tests import EssaiPlugin, NoteWritten

#: A projection's ``apply_many``, as a test wraps it.
Apply = Callable[[Cursor, Sequence[Recorded]], None]


def write_notes(trame: Trame, count: int, per_write: int = 50) -> None:
    stream = uuid.uuid4()
    ctx = Context(author="system", territory="agen")
    for version in range(0, count, per_write):
        trame.store.append(ctx, Write(stream, version, [NoteWritten(body=f"note {version + i}") for i in range(per_write)]))


def test_rebuild_equals_incremental(trame: Trame) -> None:
    trame.territories.create("agen", "Agen", author="system")
    for i in range(30):
        trame.execute(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body=f"n{i}")]))
    incremental = trame.runner.snapshot()
    trame.runner.rebuild()
    assert trame.runner.snapshot() == incremental
    assert len(incremental["essai_notes"]) == 30


def test_author_reads_their_own_write_immediately(trame: Trame) -> None:
    trame.execute(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body="tout de suite")]))
    with trame.db.read() as cur:
        assert cur.scalar("SELECT body FROM essai_notes") == "tout de suite"


def test_concurrent_runners_apply_each_event_exactly_once(trame: Trame) -> None:
    """Two processes' runners (separate pools) race on the same projection."""
    write_notes(trame, 600)
    other = Trame(Settings(database_url=url_of(trame), projection_batch=50), plugins=[EssaiPlugin()])
    trame.runner.batch = 50
    errors: list[BaseException] = []

    def run(runner: ProjectionRunner) -> None:
        try:
            runner.catch_up()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in (trame.runner, other.runner)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM essai_notes") == 600
        assert cur.scalar("SELECT COUNT(DISTINCT position) FROM essai_notes") == 600


def _many_core_events(trame: Trame, count: int) -> None:
    """Core events only, so that a CLI subprocess (without the test plugin) can project them."""
    trame.territories.create("agen", "Agen", author="system")
    stream = uuid.uuid4()
    ctx = Context(author="system", territory="agen")
    for version in range(0, count, 500):
        trame.store.append(ctx, Write(stream, version, [PluginEnabled(plugin=f"p{version + i}") for i in range(500)]))
    trame.runner.catch_up()


def test_rebuild_killed_half_way_then_restarted_ends_equal(trame: Trame) -> None:
    _many_core_events(trame, 20_000)
    expected = trame.runner.snapshot(["journal", "territories"])
    env = {**os.environ, "TRAME_DATABASE_URL": url_of(trame), "TRAME_PROJECTION_BATCH": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "rebuild", "journal"], env=env)
    deadline = time.monotonic() + 60
    position = 0
    while time.monotonic() < deadline:
        position = trame.runner.positions().get("journal", 0)
        if 0 < position < trame.store.max_position():
            with trame.db.read() as cur:
                rows = cur.scalar("SELECT COUNT(*) FROM journal")
            if rows and rows > 1000:
                break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < position < trame.store.max_position(), "the rebuild should have been stopped half-way"
    assert trame.runner.snapshot(["journal"]) != {"journal": expected["journal"]}
    # A plain catch-up resumes from the position saved with the last committed batch...
    assert run_cli(trame, "project").returncode == 0
    assert trame.runner.snapshot(["journal", "territories"]) == expected
    # ...and a restarted rebuild ends equal too.
    assert run_cli(trame, "rebuild").returncode == 0
    assert trame.runner.snapshot(["journal", "territories"]) == expected


def test_follower_process_projects_what_other_workers_wrote(trame: Trame) -> None:
    env = {**os.environ, "TRAME_DATABASE_URL": url_of(trame)}
    follower = subprocess.Popen([sys.executable, "-m", "core.cli", "project", "--follow", "--poll", "0.1"], env=env)
    try:
        ctx = Context(author="system", territory="fumel")
        trame.store.append(ctx, Write(uuid.uuid4(), 0, [PluginEnabled(plugin="cafe")]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with trame.db.read() as cur:
                if cur.scalar("SELECT COUNT(*) FROM territory_plugins WHERE territory = 'fumel'"):
                    break
            time.sleep(0.05)
        with trame.db.read() as cur:
            assert cur.scalar("SELECT plugin FROM territory_plugins WHERE territory = 'fumel'") == "cafe"
    finally:
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=20) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_follower_wakes_on_notify_not_on_its_poll(trame: Trame) -> None:
    """With a 60 s poll, only PostgreSQL's NOTIFY can bring the event in within seconds."""
    env = {**os.environ, "TRAME_DATABASE_URL": url_of(trame)}
    follower = subprocess.Popen([sys.executable, "-m", "core.cli", "project", "--follow", "--poll", "60"], env=env)
    try:
        time.sleep(3)  # started, caught up, listening
        started = time.monotonic()
        trame.store.append(Context(author="system", territory="fumel"), Write(uuid.uuid4(), 0, [PluginEnabled(plugin="cafe")]))
        while time.monotonic() - started < 20:
            with trame.db.read() as cur:
                if cur.scalar("SELECT COUNT(*) FROM territory_plugins WHERE territory = 'fumel'"):
                    break
            time.sleep(0.02)
        assert time.monotonic() - started < 10
    finally:
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=20) == 0


def test_projection_schema_change_triggers_rebuild(trame: Trame) -> None:
    write_notes(trame, 50)
    trame.runner.catch_up()
    notes = trame.runner.projections["essai.notes"]
    type(notes).version = 2
    try:
        with trame.db.write() as cur:
            cur.execute("DELETE FROM essai_notes")
        trame.runner.setup()
        trame.runner.catch_up()
        with trame.db.read() as cur:
            assert cur.scalar("SELECT COUNT(*) FROM essai_notes") == 50
    finally:
        type(notes).version = 1


def test_a_command_whose_projection_fails_writes_nothing(trame: Trame) -> None:
    """The append and its projections are one transaction: an error leaves no event behind."""
    notes = trame.runner.projections["essai.notes"]
    head = trame.store.max_position()

    def broken(cur: object, rec: object) -> None:
        raise RuntimeError("projection bug")

    notes.apply = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="projection bug"):
            trame.execute(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body="perdue ?")]))
    finally:
        del notes.apply
    assert trame.store.max_position() == head
    assert trame.runner.positions()["essai.notes"] == head


def test_inline_runs_only_the_projections_that_read_the_event(trame: Trame) -> None:
    """A note wakes the notes projection and the journal; the others only move their position."""
    trame.territories.create("agen", "Agen", author="system")
    called: list[str] = []
    for p in trame.runner.projections.values():
        original = p.apply_many

        def spy(cur: Cursor, records: Sequence[Recorded], p: Projection = p, original: Apply = original) -> None:
            called.append(p.name)
            original(cur, records)

        p.apply_many = spy  # type: ignore[method-assign]
    try:
        trame.execute(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body="une note")]))
    finally:
        for p in trame.runner.projections.values():
            del p.apply_many
    assert sorted(called) == ["essai.notes", "journal"]
    head = trame.store.max_position()
    assert set(trame.runner.positions().values()) == {head}  # nobody is left behind


def test_a_restarted_worker_catches_up_before_serving(trame: Trame) -> None:
    """Events written while no worker ran (or by another process) are in the first page served."""
    from litestar.testing import TestClient

    from core.web.app import create_app

    write_notes(trame, 100)  # appended without projecting
    assert trame.runner.positions()["essai.notes"] < trame.store.max_position()
    with TestClient(create_app(trame)) as client:
        health = client.get("/health").json()
    assert set(health["projections_behind"].values()) == {0}
    with trame.db.read() as cur:
        assert cur.scalar("SELECT COUNT(*) FROM essai_notes") == 100


def test_rebuild_reports_progress_and_health_says_it_is_rebuilding(trame: Trame) -> None:
    write_notes(trame, 300)
    trame.runner.catch_up()
    trame.runner.rebuild_batch = 100
    seen: list[tuple[int, int]] = []
    during: list[list[str]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        during.append(sorted(n for n, s in trame.runner.states().items() if s.rebuilding))

    trame.runner.rebuild(["essai.notes"], progress=progress)
    head = trame.store.max_position()
    assert seen[-1] == (head, head) and len(seen) >= 3
    assert ["essai.notes"] in during  # /health lists it while it runs
    assert not any(s.rebuilding for s in trame.runner.states().values())
