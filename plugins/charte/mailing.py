"""The mailing lists the charter offers (``mailing_lists`` hook): each charter's signatories.

A message to a charter's signatories goes to the structures whose signature is in force on the
day it is queued (a withdrawn or superseded one is not; an ended charter's list is that of its
last day), each at its generic address, else its contacts' (``core.mailings``' rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import clock
from core.mailings import MailingList, Target
from plugins.charte import links
from plugins.charte.service import charters

if TYPE_CHECKING:
    from core.application import Trame

GROUP = "Charte"


def key_of(charter_id: str) -> str:
    return f"charte.signataires.{charter_id}"


def offered(trame: Trame, territory: str) -> list[MailingList]:
    svc = charters(trame)
    out: list[MailingList] = []
    for c in svc.all(territory):
        last_day = c["status_on"] if c["status"] == "ended" and c["status_on"] else None

        def targets(charter_id: str = c["charter_id"], last_day: str | None = last_day) -> list[Target]:
            on = min(clock.paris_today(), last_day) if last_day else clock.paris_today()
            ids = [s["structure_id"] for s in svc.signatories(territory, charter_id, on)]
            return links.mailing_targets(trame, territory, ids)

        out.append(MailingList(key_of(c["charter_id"]), f"Signataires de la charte « {c['title']} »", targets, GROUP))
    return out
