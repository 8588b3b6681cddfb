"""Refused forms come back filled in, with the message next to the field it is about.

The service raises :class:`core.refusals.Refused` naming the input at fault (``field``); a
page handler turns it into a :func:`refusal` and renders its form again with what the person
typed (HTTP 400 or 409). An absent one (404) keeps the error page: there is no form to come
back to. A message about a field may start with the field's label (« Date de signature : … »,
see :func:`labelled`) so that the API's message says which input it is about; beside the
field, where the page shows its label already, the message leaves it out (stated once).
"""

from __future__ import annotations

from typing import Any

from core.refusals import Refused, Why, invalid

#: The labels a message may start with (:func:`labelled`): left out beside their field.
LABELS = (
    "Date de signature",
    "Date d'adoption",
    "Date du retrait",
    "À compter du",
    "À partir du",
    "Première rencontre",
    "Jusqu'au",
    "Structure porteuse",
    "Structure",
    "Date",
    "Du",
    "Au",
    "as_of",
    "since",
    "until",
)


def labelled(label: str, detail: str, field: str | None) -> Refused:
    """Bad input named by its label: « Date de signature : indiquez une date… »."""
    assert label in LABELS, label
    return invalid(f"{label} : {detail}", field)


def _bare(message: str) -> str:
    for label in LABELS:
        if message.startswith(f"{label} : "):
            detail = message.removeprefix(f"{label} : ")
            return detail[:1].upper() + detail[1:]
    return message


def refusal(form: str, exc: Refused, data: dict[str, Any], shown: set[str] | None = None) -> dict[str, Any]:
    """What a page needs to show a refused form again; re-raises what is not about the form.
    ``shown``: the fields the form displays, when some are hidden (an error about those goes to the summary)."""
    if exc.why is Why.ABSENT:
        raise exc
    values = {k: (v if not isinstance(v, list) or k in ("slot",) else (v[-1] if v else "")) for k, v in data.items()}
    values.pop("_csrf_token", None)
    field = exc.field or "_form"
    if shown is not None and field not in shown:
        field = "_form"
    # Next to its field (and in the summary, after the field's label) the message leaves the label out.
    message = _bare(exc.message) if field != "_form" else exc.message
    return {"form": form, "errors": {field: message}, "values": values, "status": exc.status}
