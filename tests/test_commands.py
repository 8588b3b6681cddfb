"""Commands decide from the stored history and decide again when they lose a race."""

from __future__ import annotations

import threading
import uuid

import pytest

from core.application import Trame
from core.commands import History, run
from core.refusals import Refused, Why, invalid
from core.store import Context
from tests.events_for_tests import NoteWritten

CTX = Context(author="system", territory="agen")


def test_a_rule_checked_by_concurrent_commands_still_holds_after_all_of_them(trame: Trame) -> None:
    """Eight writers each add a note while a stream has fewer than three: three are written.
    A rule checked on a stale state and appended blindly would let more through."""
    stream = uuid.uuid4()
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def add(history: History) -> dict[uuid.UUID, list[NoteWritten]]:
        if len(history.of(stream)) >= 3:
            raise invalid("Trois notes au plus sur ce fil.", field="body")
        return {stream: [NoteWritten(body=f"note {len(history.of(stream)) + 1}")]}

    def writer() -> None:
        start.wait()
        try:
            run(trame, CTX, [stream], add)
            result = "écrite"
        except Refused as refused:
            result = refused.why.name
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("écrite") == 3
    assert [r.event.body for r in trame.store.stream(stream)] == ["note 1", "note 2", "note 3"]  # type: ignore[attr-defined]


def test_a_command_over_two_streams_writes_both_and_a_refused_one_neither(trame: Trame) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    run(trame, CTX, [a, b], lambda h: {a: [NoteWritten(body="a1")], b: [NoteWritten(body="b1")]})
    assert [len(trame.store.stream(s)) for s in (a, b)] == [1, 1]

    def refuse_after_reading(history: History) -> dict[uuid.UUID, list[NoteWritten]]:
        raise Refused("La fiche n'existe plus.", why=Why.ABSENT)

    with pytest.raises(Refused) as refused:
        run(trame, CTX, [a, b], refuse_after_reading)
    assert refused.value.status == 404
    assert [len(trame.store.stream(s)) for s in (a, b)] == [1, 1]


def test_a_command_may_not_write_a_stream_it_did_not_read(trame: Trame) -> None:
    a, other = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(ValueError, match="did not read"):
        run(trame, CTX, [a], lambda h: {other: [NoteWritten(body="ailleurs")]})
    assert trame.store.stream(other) == []
