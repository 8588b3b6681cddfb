"""The one way a service says no: what was refused, on which field, why (in French), and
whether it is bad input, a state that forbids it, something that is not there, or a
visitor who may not do it.

Services raise :class:`Refused` and know nothing of HTTP; the web layer maps it once
(``core.web.errors``): 400, 409, 404 or 403 with ``{"detail", "status", "field"}`` on the API,
and on pages the form again with the reason beside the field.
"""

from __future__ import annotations

from enum import Enum


class Why(Enum):
    INVALID = 400  # the input is wrong: say which field and how to write it
    CONFLICT = 409  # the input is fine but the state forbids it now (already cancelled, changed meanwhile)
    ABSENT = 404  # what the command names does not exist here
    FORBIDDEN = 403  # the one asking may not do this (a link sent to another structure)


class Refused(Exception):
    """A command or query refused, with a message a person understands.

    ``label`` names the input in words (« Date de signature ») when the message is about one:
    the API and a form's summary say ``detail`` (« Date de signature : indiquez une date. »),
    beside the input, whose label the page already shows, the form says ``beside``."""

    def __init__(self, message: str, *, field: str | None = None, why: Why = Why.INVALID, label: str | None = None) -> None:
        self.message = message
        self.field = field
        self.why = why
        self.label = label
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"{self.label} : {self.message}" if self.label else self.message

    @property
    def beside(self) -> str:
        return self.message[:1].upper() + self.message[1:]

    @property
    def status(self) -> int:
        return self.why.value


def invalid(message: str, field: str | None = None, *, label: str | None = None) -> Refused:
    return Refused(message, field=field, why=Why.INVALID, label=label)


def conflict(message: str, field: str | None = None, *, label: str | None = None) -> Refused:
    return Refused(message, field=field, why=Why.CONFLICT, label=label)


def absent(message: str, field: str | None = None) -> Refused:
    return Refused(message, field=field, why=Why.ABSENT)


def forbidden(message: str, field: str | None = None) -> Refused:
    return Refused(message, field=field, why=Why.FORBIDDEN)
