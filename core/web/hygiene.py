"""Input no person types: control characters in text, and paging bounds. One place for every route.

A NUL byte or another C0 control character (tab, line feed and carriage return excepted) in
a field is refused with a French message before any handler runs: the middleware reads the
query string, JSON bodies and form bodies (the decoded strings, so ``\\u0000`` in JSON and
``%00`` in a form are caught too). Such characters would truncate a value in C libraries,
break CSV, vCard and iCalendar files, and hide text from a reader. Files sent as a body
(CSV, data·inclusion imports) are read by their own importers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.params import Parameter
from litestar.types import ASGIApp, Receive, Scope, Send

from core.web.bodies import read_body
from core.web.errors import UserError

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_BODY = 20 * 1024 * 1024  # a larger text body is left to the handler's own limits
MAX_LIMIT = 200

Limit = Annotated[int, Parameter(description=f"nombre d'éléments par page, {MAX_LIMIT} au plus (une valeur plus grande vaut {MAX_LIMIT})")]
Offset = Annotated[int, Parameter(description="nombre d'éléments sautés, positif ou nul")]


def refusal(field: str | None) -> str:
    where = f"Le champ « {field} »" if field else "Le texte envoyé"
    return (
        f"{where} contient un caractère de contrôle invisible (octet nul ou semblable), souvent venu d'un copier-coller : "
        "retirez-le et réessayez."
    )


def find_control(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a control character in a decoded JSON value, or None."""
    if isinstance(value, str):
        return path or "" if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and CONTROL.search(key):
                return key
            found = find_control(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = find_control(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def check_text(field: str, value: str) -> None:
    """Raise the French 400 if ``value`` holds a control character."""
    if CONTROL.search(value):
        raise UserError(400, refusal(field))


def _check_pairs(raw: str) -> None:
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if CONTROL.search(key):
            raise UserError(400, refusal(None))
        check_text(key, value)


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """``limit`` capped at :data:`MAX_LIMIT`; a negative ``offset`` or a ``limit`` under 1 is a French 400."""
    if offset < 0:
        raise UserError(400, "« offset » doit être positif ou nul (0 pour la première page).")
    if limit < 1:
        raise UserError(400, f"« limit » doit être compris entre 1 et {MAX_LIMIT}.")
    return min(limit, MAX_LIMIT), offset


class ControlCharacters:
    """ASGI middleware (inside the app's error handler: its refusal is the usual French page or JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        _check_pairs(scope.get("query_string", b"").decode("latin-1"))
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind not in (b"application/json", b"application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        body, replayed = await read_body(receive)
        if len(body) <= MAX_BODY:
            self._check_body(kind, body)
        await self.app(scope, replayed, send)

    @staticmethod
    def _check_body(kind: bytes, body: bytes) -> None:
        if kind == b"application/x-www-form-urlencoded":
            _check_pairs(body.decode("utf-8", "replace"))
            return
        try:
            value = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return  # malformed JSON: the handler says so
        found = find_control(value)
        if found is not None:
            raise UserError(400, refusal(found or None))
