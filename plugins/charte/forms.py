"""Refused forms come back filled in, with the message next to the field it is about.

The service raises :class:`core.refusals.Refused` naming the input at fault (``field``); a
page handler turns it into a :func:`refusal` and renders its form again with what the person
typed (HTTP 400 or 409). An absent one (404) keeps the error page: there is no form to come
back to. A refusal about a field may carry the field's label (:func:`labelled`): the API's
message says « Date de signature : … », beside the field only the reason (stated once).
"""

from __future__ import annotations

from typing import Any

from core.refusals import Refused, Why, invalid
from core.web.forms import errors_of


def labelled(label: str, detail: str, field: str | None) -> Refused:
    """Bad input named by its label: « Date de signature : indiquez une date… » on the API,
    « Indiquez une date… » beside the field, whose label the page shows."""
    return invalid(detail, field, label=label)


def refusal(form: str, exc: Refused, data: dict[str, Any], shown: set[str] | None = None) -> dict[str, Any]:
    """What a page needs to show a refused form again; re-raises what is not about the form.
    ``shown``: the fields the form displays, when some are hidden (an error about those goes to the summary)."""
    if exc.why is Why.ABSENT:
        raise exc
    values = {k: (v if not isinstance(v, list) or k in ("slot",) else (v[-1] if v else "")) for k, v in data.items()}
    values.pop("_csrf_token", None)
    errors = {"_form": exc.detail} if shown is not None and exc.field not in shown else errors_of(exc)
    return {"form": form, "errors": errors, "values": values, "status": exc.status}
