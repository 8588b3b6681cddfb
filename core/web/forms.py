"""Reading an HTML form: what every page handler of every plugin receives the same way.

A form arrives URL-encoded as a dict whose values are a string, or a list when a field is
repeated (checkboxes, multiple selects). Handlers read it through :func:`one` and
:func:`many` (or :func:`rows` for a table of inputs) so that a repeated field, a textarea's CRLF or surrounding spaces mean the same
thing on every page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

if TYPE_CHECKING:
    from core.refusals import Refused

#: The body parameter of a form handler: ``data: Form``.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def one(data: dict[str, Any], key: str, default: str = "") -> str:
    """A single value (the last one if the field was repeated), stripped, with LF line ends."""
    value = data.get(key, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return str(value).replace("\r\n", "\n").strip()  # browsers send CRLF in textareas


def many(data: dict[str, Any], key: str) -> list[str]:
    """Every non-blank value of a repeated field, stripped, in the order sent."""
    value = data.get(key, [])
    return [s for s in (str(v).strip() for v in (value if isinstance(value, list) else [value])) if s]


def rows(data: dict[str, Any], first: str, *others: str) -> list[dict[str, str]]:
    """A table of inputs, each column a repeated field: the n-th value of every key together.
    ``first`` decides how many rows there are; a shorter column reads as blank there."""

    def column(key: str) -> list[str]:
        value = data.get(key, [])
        return [str(v).replace("\r\n", "\n").strip() for v in (value if isinstance(value, list) else [value])]

    lead, rest = column(first), {key: column(key) for key in others}
    return [{first: v, **{k: (c[i] if i < len(c) else "") for k, c in rest.items()}} for i, v in enumerate(lead)]


def errors_of(exc: Refused, summary: str = "_form") -> dict[str, str]:
    """A refusal as a form's errors: beside the input it names (whose label the page shows), or
    in the summary (``summary``) with the input's label when there is no such input."""
    return {exc.field: exc.beside} if exc.field else {summary: exc.detail}
