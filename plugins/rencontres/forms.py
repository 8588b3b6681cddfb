"""Refused forms come back filled in, with the message next to the field it is about.

The service raises :class:`core.refusals.Refused` naming, in ``field``, the input of the
meetings' pages at fault; a page handler turns it into a :func:`refusal` and renders its form
again with what was typed (HTTP 400 for bad input, 409 for a state conflict). An absent one
(404) keeps the error page: there is no form to come back to.
"""

from __future__ import annotations

from typing import Any

from core.refusals import Refused, Why
from core.web.forms import errors_of


def refusal(
    form: str, exc: Refused, data: dict[str, Any], shown: set[str] | None = None, keep_lists: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What a page needs to show a refused form again; re-raises what is not about a form.

    ``shown``: the inputs the form displays (an error about another goes to the summary);
    ``keep_lists``: inputs whose repeated values are all kept (checkboxes, repeated parts)."""
    if exc.why is Why.ABSENT:
        raise exc
    values = {k: (v if not isinstance(v, list) or k in keep_lists else (v[-1] if v else "")) for k, v in data.items()}
    values.pop("_csrf_token", None)
    errors = {"_form": exc.detail} if shown is not None and exc.field not in shown else errors_of(exc)
    return {"form": form, "errors": errors, "values": values, "status": exc.status}


def parts(refused: dict[str, Any] | None, form: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(errors, values) of ``form`` if it is the one refused, else empty ones."""
    if refused and refused["form"] == form:
        return refused["errors"], refused["values"]
    return {}, {}
