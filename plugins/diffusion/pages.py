"""Pages of the mailings: choose a list, see who is on it (addresses to copy without SMTP),
write and queue the message, follow its log per recipient; and the public unsubscribe link."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import mail, mailings
from core.application import Trame
from core.refusals import Refused
from core.web.access import author_of
from core.web.forms import Form, one
from core.web.rendering import render

P = "/t/{territory:str}/diffusion"


def _index(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    liste: str = "",
    refused: Refused | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    offered = mailings.lists(trame, territory)
    chosen = next((ml for ml in offered if ml.key == liste), None)
    recipients = mailings.recipients(trame, territory, chosen.key) if chosen else []
    return render(
        request,
        "diffusion/index.html",
        status_code=refused.status if refused else 200,
        lists=offered,
        chosen=chosen,
        recipients=recipients,
        can_send=mail.configured(trame.settings),
        history=mailings.history(trame, territory),
        refused=refused,
        values=values or {},
    )


@get(f"{P}/", opt={"role": "coordinator"}, sync_to_thread=True)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str, liste: str = "") -> Template:
    return _index(request, trame, territory, liste)


@post(f"{P}/", opt={"role": "coordinator"}, sync_to_thread=True)
def queue(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Template | Redirect:
    values = {k: one(data, k) for k in ("list_key", "subject", "body")}
    try:
        mailing_id = mailings.queue(
            trame, territory, author=author_of(request), list_key=values["list_key"], subject=values["subject"], body=values["body"]
        )
    except Refused as exc:
        return _index(request, trame, territory, values["list_key"], exc, values)
    return Redirect(f"/t/{territory}/diffusion/{mailing_id}", status_code=303)


@get(f"{P}/{{mailing_id:uuid}}", opt={"role": "coordinator"}, sync_to_thread=True)
def mailing(request: Request[Any, Any, Any], trame: Trame, territory: str, mailing_id: UUID) -> Template:
    return render(
        request,
        "diffusion/mailing.html",
        m=mailings.get(trame, territory, str(mailing_id)),
        log=mailings.log(trame, territory, str(mailing_id)),
    )


@get(f"{P}/desabonnement/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def unsubscribe_form(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    return render(
        request, "diffusion/unsubscribe.html", u=mailings.read_token(trame, territory, token), token=token, territory=territory, done=False
    )


@post(f"{P}/desabonnement/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def unsubscribe(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str) -> Template:
    return render(
        request, "diffusion/unsubscribe.html", u=mailings.unsubscribe(trame, territory, token), token=token, territory=territory, done=True
    )


ROUTES = [index, queue, mailing, unsubscribe_form, unsubscribe]
