"""A meeting's calendar file, to download from its page: a coordinator without SMTP sends it
from their own mail (an iTIP request naming every invited address), and anyone else adds it
to their calendar (published, without the invitees' addresses)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get

from core.application import Trame
from core.web.access import access_of
from plugins.rencontres import ics
from plugins.rencontres.service import meetings


@get("/t/{territory:str}/rencontres/{meeting_id:uuid}/rencontre.ics", sync_to_thread=True)
def meeting_ics(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID) -> Response[bytes]:
    svc = meetings(trame)
    m = svc.require(territory, str(meeting_id))
    if access_of(request).at_least("coordinator"):
        body, method = svc.invitation_ics(territory, str(meeting_id)), ics.method_of(m)
    else:
        body, method = ics.calendar([m], name=m["title"], base_url=trame.settings.base_url, method="PUBLISH"), "PUBLISH"
    return Response(
        body,
        media_type=f"text/calendar; method={method}",
        headers={"Content-Disposition": 'attachment; filename="rencontre.ics"', "Cache-Control": "private, no-store"},
    )


ROUTES = [meeting_ics]
