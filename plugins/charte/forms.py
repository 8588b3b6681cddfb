"""Refused forms come back filled in, with the message next to the field it is about.

The service raises :class:`Refused` (a core ``UserError``, so the API still answers JSON)
naming the input at fault; a page handler turns it into a :func:`refusal` and renders its
form again with what the person typed (HTTP 400, 409 or 422). Other errors (403, 404)
keep the error page: there is no form to come back to.
"""

from __future__ import annotations

from typing import Any

from core.web.errors import UserError

FORM_STATUSES = (400, 409, 422)


class Refused(UserError):
    """A command refused because of what was typed; ``field`` is the input at fault (None: the whole form).

    ``label`` names the input in the message of the API (« Date de signature : … »); a page
    leaves it out, since it shows the field's own label next to the message (stated once)."""

    def __init__(self, status: int, detail: str, field: str | None = None, *, label: str | None = None) -> None:
        super().__init__(status, f"{label} : {detail}" if label else detail)
        self.field = field
        self.bare = detail[:1].upper() + detail[1:]


def refusal(form: str, exc: UserError, data: dict[str, Any], shown: set[str] | None = None) -> dict[str, Any]:
    """What a page needs to show a refused form again; re-raises what is not about the form.
    ``shown``: the fields the form displays, when some are hidden (an error about those goes to the summary)."""
    if exc.status not in FORM_STATUSES:
        raise exc
    values = {k: (v if not isinstance(v, list) or k in ("slot",) else (v[-1] if v else "")) for k, v in data.items()}
    values.pop("_csrf_token", None)
    field = getattr(exc, "field", None) or "_form"
    if shown is not None and field not in shown:
        field = "_form"
    # Next to its field (and in the summary, after the field's label) the message leaves the label out.
    message = getattr(exc, "bare", exc.detail) if field != "_form" else exc.detail
    return {"form": form, "errors": {field: message}, "values": values, "status": exc.status}


def parts(refused: dict[str, Any] | None, form: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(errors, values) of ``form`` if it is the one refused, else empty ones."""
    if refused and refused["form"] == form:
        return refused["errors"], refused["values"]
    return {}, {}
