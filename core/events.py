"""Events: msgspec payloads in a bitemporal envelope, versioned and upcast on read.

A payload class is a frozen msgspec Struct with a dotted ``name`` (``plugin.PastTense``)
and a ``class_version``. When its shape changes, bump ``class_version`` and add a
static ``upcast_vN_vN1(data: dict) -> dict``: events stored under older versions are
then read through the chain of upcasters, and the stored bytes are never rewritten.

Fields listed in ``personal`` are encrypted with the key of the person whose id is in
the ``subject`` field (see :mod:`core.erasure`); once that key is shredded they read
back as ``None`` and the event says ``erased``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every event payload."""

    name: ClassVar[str]
    #: What happened, in French, for the journal ("Structure entrée dans le réseau").
    journal_label: ClassVar[str] = ""
    class_version: ClassVar[int] = 1
    personal: ClassVar[tuple[str, ...]] = ()
    subject: ClassVar[str | None] = None


E = TypeVar("E", bound=Event)


class UnknownEvent(LookupError):
    pass


class InvalidEvent(ValueError):
    """A payload does not match its declared type; the message names the field."""


class Recorded(msgspec.Struct, frozen=True):
    """An event as stored: the payload and its envelope (a Struct: built fast in rebuilds)."""

    position: int  # position in the whole log (notification id)
    stream_id: UUID
    version: int  # position in its stream, from 1
    event: Event
    author: str
    recorded_at: str
    effective: str
    territory: str
    reason: str | None
    erased: bool = False

    @property
    def name(self) -> str:
        return self.event.name


class StoredEnvelope(msgspec.Struct, frozen=True, array_like=True):
    """The bytes kept in the event store's ``state`` column."""

    class_version: int
    author: str
    recorded_at: str
    effective: str
    territory: str
    reason: str | None
    payload: msgspec.Raw


class EventRegistry:
    """Every event type the enabled code knows, by name, with fast typed codecs."""

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._decoders: dict[str, msgspec.json.Decoder[Any]] = {}
        self._stored: dict[str, msgspec.json.Decoder[Any] | None] = {}

    def register(self, *classes: type[Event]) -> None:
        for cls in classes:
            known = self._types.get(cls.name)
            if known is not None and known is not cls:
                raise ValueError(f"two event classes are named {cls.name!r}: {known!r} and {cls!r}")
            self._types[cls.name] = cls
            self._decoders[cls.name] = msgspec.json.Decoder(cls)
            # Envelope and payload in one decode, for the common case (current version,
            # nothing to decrypt); anything else takes the general path.
            typed = msgspec.defstruct(
                f"Stored_{cls.__name__}",
                [(f, t) for f, t in _ENVELOPE_FIELDS] + [("payload", cls)],
                frozen=True,
                array_like=True,
            )
            self._stored[cls.name] = None if cls.personal else msgspec.json.Decoder(typed)

    def decode_stored(self, name: str, state: bytes) -> Any | None:
        """The stored envelope with its typed payload in one decode, or None when the general
        path is needed (an older version to upcast, personal fields to decrypt)."""
        decoder = self._stored.get(name)
        if decoder is None:
            return None
        try:
            stored = decoder.decode(state)
        except msgspec.ValidationError:  # an older shape: upcast it
            return None
        return stored if stored.class_version == self._types[name].class_version else None

    def __contains__(self, name: str) -> bool:
        return name in self._types

    def names(self) -> Iterable[str]:
        return self._types.keys()

    def type_of(self, name: str) -> type[Event]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEvent(f"unknown event type {name!r}: is its plugin installed?") from None

    def decode_payload(
        self,
        name: str,
        stored_version: int,
        raw: bytes,
        reveal: Callable[[type[Event], dict[str, Any]], bool] | None = None,
    ) -> tuple[Event, bool]:
        """Decode a payload: upcast old versions first, then let ``reveal`` decrypt the
        personal fields (under their current names) in place; it returns False when they
        had been erased."""
        cls = self.type_of(name)
        if stored_version == cls.class_version and not cls.personal:
            return self._decoders[name].decode(raw), False
        data = self.upcast_payload(name, stored_version, raw)
        erased = False
        if cls.personal and reveal is not None:
            erased = not reveal(cls, data)
        return msgspec.convert(data, cls), erased

    def upcast_payload(self, name: str, stored_version: int, raw: bytes) -> dict[str, Any]:
        """The stored payload as a dict of the current version (personal fields still sealed)."""
        return upcast(self.type_of(name), stored_version, msgspec.json.decode(raw))


_ENVELOPE_FIELDS: list[tuple[str, Any]] = [
    ("class_version", int),
    ("author", str),
    ("recorded_at", str),
    ("effective", str),
    ("territory", str),
    ("reason", str | None),
]


def upcast(cls: type[Event], version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring an old payload up to the current class version, one step at a time."""
    while version < cls.class_version:
        step = getattr(cls, f"upcast_v{version}_v{version + 1}", None)
        if step is None:
            raise InvalidEvent(f"{cls.name} v{version} has no upcaster to v{version + 1}")
        data = step(data)
        version += 1
    return data


def validate(event: Event) -> None:
    """Check a payload against its own type (msgspec does not validate on construction)."""
    try:
        msgspec.convert(msgspec.to_builtins(event), type(event))
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"{event.name}: {exc}") from exc
