"""The event store: envelope, validation, versions and conflicts."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from core import clock
from core.application import Trame
from core.events import InvalidEvent, StoredEnvelope
from core.store import Conflict, Context, Write
from tests.events_for_tests import NoteWritten, VisitorNoted


def test_envelope_carries_author_times_territory_and_reason(trame: Trame) -> None:
    stream = uuid.uuid4()
    before = clock.now()
    [rec] = trame.execute(
        Context(author="acct-1", territory="meaux", effective=clock.parse("2010-06-01"), reason="fiche papier de 2010"),
        Write(stream, 0, [NoteWritten(body="Première note")]),
    )
    [read] = trame.store.stream(stream)
    assert read.event == NoteWritten(body="Première note")
    assert (read.author, read.territory, read.reason) == ("acct-1", "meaux", "fiche papier de 2010")
    assert read.effective == "2010-06-01T00:00:00.000000Z"
    assert before <= read.recorded_at <= clock.now()
    assert rec.position > 0 and read.version == 1


def test_effective_defaults_to_recording_time(trame: Trame) -> None:
    stream = uuid.uuid4()
    trame.execute(Context(author="system", territory="agen"), Write(stream, 0, [NoteWritten(body="x")]))
    [read] = trame.store.stream(stream)
    assert read.effective == read.recorded_at


def test_invalid_payload_is_refused_and_nothing_is_stored(trame: Trame) -> None:
    head = trame.store.max_position()
    with pytest.raises(InvalidEvent):
        trame.execute(Context(author="system", territory="agen"), Write(uuid.uuid4(), 0, [NoteWritten(body="")]))
    assert trame.store.max_position() == head


def test_two_writers_from_the_same_version_one_wins_one_conflicts(trame: Trame) -> None:
    stream = uuid.uuid4()
    ctx = Context(author="system", territory="agen")
    trame.execute(ctx, Write(stream, 0, [NoteWritten(body="v1")]))
    trame.execute(ctx, Write(stream, 1, [NoteWritten(body="écrit par Alice")]))
    with pytest.raises(Conflict) as refused:
        trame.execute(ctx, Write(stream, 1, [NoteWritten(body="écrit par Bob")]))
    assert "modifiée par quelqu'un d'autre" in str(refused.value)
    assert [r.event.body for r in trame.store.stream(stream)] == ["v1", "écrit par Alice"]  # type: ignore[attr-defined]


def test_event_stored_under_version_1_reads_back_through_the_upcaster(trame: Trame) -> None:
    stream = uuid.uuid4()
    old_payload = msgspec.json.encode({"text": "écrite avant la version 2"})
    envelope = StoredEnvelope(1, "import", clock.now(), clock.now(), "joigny", None, msgspec.Raw(old_payload))
    trame.store.append_stored([StoredEvent(stream, 1, NoteWritten.name, msgspec.json.encode(envelope))])
    [read] = trame.store.stream(stream)
    assert read.event == NoteWritten(body="écrite avant la version 2", tags=[])


def test_a_renamed_personal_field_stored_under_version_1_reads_back_in_clear(trame: Trame) -> None:
    """Upcast first, then decrypt: the sealed value follows its field to its new name."""
    from core.erasure import seal

    visitor = str(uuid.uuid4())
    data = {"visitor_id": visitor, "visitor_name": "Camille Fictive"}
    seal(trame.keys.key_for(visitor), visitor, data, ("visitor_name",))
    envelope = StoredEnvelope(1, "import", clock.now(), clock.now(), "joigny", None, msgspec.Raw(msgspec.json.encode(data)))
    stream = uuid.uuid4()
    trame.store.append_stored([StoredEvent(stream, 1, VisitorNoted.name, msgspec.json.encode(envelope))])
    [read] = trame.store.stream(stream)
    assert read.event == VisitorNoted(visitor_id=visitor, name_of_visitor="Camille Fictive") and not read.erased
    trame.keys.shred(visitor)
    [erased] = trame.store.stream(stream)
    assert erased.erased and erased.event.name_of_visitor is None  # type: ignore[attr-defined]


def test_personal_fields_are_encrypted_at_rest_and_erasable(trame: Trame) -> None:
    account_id = trame.accounts.create("camille.test@exemple.fr", "un-mot-de-passe")
    rows = trame.db.recorder.select_events(uuid.UUID(account_id))
    assert all(b"camille.test" not in r.state for r in rows)
    assert trame.store.stream(uuid.UUID(account_id))[0].event.email == "camille.test@exemple.fr"  # type: ignore[attr-defined]
    trame.keys.shred(account_id)
    first = trame.store.stream(uuid.UUID(account_id))[0]
    assert first.erased and first.event.email is None  # type: ignore[attr-defined]


def test_expecting_a_version_the_stream_has_not_reached_is_a_conflict(trame: Trame) -> None:
    stream = uuid.uuid4()
    ctx = Context(author="system", territory="agen")
    trame.execute(ctx, Write(stream, 0, [NoteWritten(body="v1")]))
    with pytest.raises(Conflict):
        trame.execute(ctx, Write(stream, 5, [NoteWritten(body="trou")]))
    assert [r.version for r in trame.store.stream(stream)] == [1]
