"""What other plugins may use of the meetings plugin (rencontres): this module and nothing else of it.

Cafés, charters, immersions... are meetings with something more. They schedule, invite,
take attendance and publish minutes through the service below, describe recurrences with
its helpers and count participation with its figures; they never import another module of
``plugins.rencontres`` and never read its tables (``tests/test_plugins.py`` checks it).
"""

from __future__ import annotations

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
]
