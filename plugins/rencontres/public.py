"""What other plugins may use of the meetings plugin (rencontres): this module and nothing else of it.

Cafés, charters, immersions... are meetings with something more. They schedule, invite,
take attendance and publish minutes through the service below, describe recurrences with
its helpers and count participation with its figures; they never import another module of
``plugins.rencontres`` and never read its tables (``tests/test_plugins.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core import mail
from plugins.rencontres import ics as _ics
from plugins.rencontres.events import Section
from plugins.rencontres.figures import Figures, bar_chart, compute
from plugins.rencontres.recurrence import describe, holiday_flag, long_date, occurrences, preset_rule
from plugins.rencontres.service import Delivery, IssuedLink, Meetings, invitation_text, meetings

__all__ = [
    "Delivery",
    "Figures",
    "IssuedLink",
    "Meetings",
    "Section",
    "bar_chart",
    "compute",
    "describe",
    "holiday_flag",
    "invitation_text",
    "long_date",
    "meetings",
    "occurrences",
    "preset_rule",
    "send_with_calendar",
]

if TYPE_CHECKING:
    from core.application import Trame


def send_with_calendar(trame: Trame, territory: str, meeting_id: str, to: Sequence[str], subject: str, body: str) -> bool:
    """Mail a plugin's own invitation to a meeting (an immersion's confirmation link) with the
    meeting's .ics attached: the same UID and SEQUENCE as the agenda feed, so a calendar that
    imports it follows a later move or cancellation. False when nothing was sent (no SMTP, nobody)."""
    m = meetings(trame).require(territory, meeting_id)
    calendar = _ics.calendar([m], name=m["title"], base_url=trame.settings.base_url, method="PUBLISH")
    return mail.send(trame.settings, list(to), subject, body, calendar)
