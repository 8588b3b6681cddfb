"""Refused forms come back filled in, with the message next to the field it is about.

The service raises :class:`Refused` (a core ``UserError``: the API still answers JSON with the
same message) naming, in ``about``, the input of the meetings' pages at fault; a page handler
turns it into a :func:`refusal` and renders its form again with what was typed (HTTP 400 for
bad input, 409 for a state conflict, 422). Other errors (403, 404) keep the error page: there
is no form to come back to.

The input is named ``about`` rather than ``field`` on purpose: other plugins calling this
service (the charter) read ``field`` for their own forms, whose inputs are named differently.
"""

from __future__ import annotations

from typing import Any

from core.web.errors import UserError

FORM_STATUSES = (400, 409, 422)


class Refused(UserError):
    """A command refused because of what was typed; ``about``: the input at fault (None: the whole form)."""

    def __init__(self, status: int, detail: str, about: str | None = None) -> None:
        super().__init__(status, detail)
        self.about = about


def refusal(
    form: str, exc: UserError, data: dict[str, Any], shown: set[str] | None = None, keep_lists: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What a page needs to show a refused form again; re-raises what is not about a form.

    ``shown``: the inputs the form displays (an error about another goes to the summary);
    ``keep_lists``: inputs whose repeated values are all kept (checkboxes, repeated parts)."""
    if exc.status not in FORM_STATUSES:
        raise exc
    values = {k: (v if not isinstance(v, list) or k in keep_lists else (v[-1] if v else "")) for k, v in data.items()}
    values.pop("_csrf_token", None)
    field = getattr(exc, "about", None) or "_form"
    if shown is not None and field not in shown:
        field = "_form"
    return {"form": form, "errors": {field: exc.detail}, "values": values, "status": exc.status}


def parts(refused: dict[str, Any] | None, form: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(errors, values) of ``form`` if it is the one refused, else empty ones."""
    if refused and refused["form"] == form:
        return refused["errors"], refused["values"]
    return {}, {}
