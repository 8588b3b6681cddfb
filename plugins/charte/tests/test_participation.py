"""Participation has one source of truth: the attendance recorded on the meetings plugin's pages.

What a coordinator enters on a meeting's page of « rencontres » is what the charter's
meeting page, its participation page and its evaluation report count, and a meeting
whose attendance is not entered yet counts as nobody's absence.
"""

from __future__ import annotations

import re
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, post_form
from plugins.annuaire.service import directory
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h
from plugins.rencontres import figures
from plugins.rencontres.service import meetings


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_attendance_entered_on_the_meeting_page_is_what_the_charter_counts(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    for key in ("ml", "clic"):
        svc.sign(
            "joigny", cid, author=SYSTEM, structure_id=s[key], signatory_name="A B", signatory_role="directrice", signed_on="2010-03-12"
        )
    svc.invite_partner("joigny", cid, s["spip"], author=SYSTEM, since="2010-03-01")
    svc.plan_cycle("joigny", cid, author=SYSTEM, first_day="2010-03-12", place="Salle communale", count=2, start="09:00", end="11:00")
    first, second = svc.meetings("joigny", cid)
    for m in (first, second):
        assert svc.invite_to_meeting("joigny", cid, m["meeting_id"], author=SYSTEM, send=False) == 4
    coord = h.coordinator(trame)
    login(client, coord.email)

    # The coordinator ticks the presences on the meetings plugin's page of the first meeting.
    page = f"/t/joigny/rencontres/{first['meeting_id']}"
    marks = {f"presence_{s['ccas']}": "present", f"presence_{s['ml']}": "present", f"presence_{s['clic']}": "excused"}
    saved = post_form(client, page, f"{page}/presences", {**marks, f"presence_{s['spip']}": "absent"})
    assert saved.status_code == 303, saved.text

    f = svc.participation("joigny", cid, "2010-01-01", "2010-12-31")
    by_day = {m.day: (m.expected, m.present, m.excused, m.recorded) for m in f.meetings}
    assert by_day == {"2010-03-12": (4, 2, 1, True), "2010-05-14": (4, 0, 0, False)}
    assert f.rate == 0.5  # the second meeting, not entered yet, is nobody's absence
    assert f.never_came == ["CLIC de Joigny"]  # a signatory expected and never present
    assert f.invited_not_signed == ["SPIP de l'Yonne"]
    # The territory's figures (meetings plugin) give the same count for the same meeting.
    territory_figures = {
        m.meeting_id: (m.invited, m.present) for m in figures.compute(trame, "joigny", "2010-01-01", "2010-12-31").meetings
    }
    assert territory_figures[first["meeting_id"]] == (4, 2)

    charter_meeting = _text(client.get(f"/t/joigny/charte/{cid}/rencontres/{first['meeting_id']}").text)
    assert "2 structure(s) présente(s) sur 4 attendue(s) (50 %), 1 excusée(s)" in charter_meeting
    assert "CLIC de Joigny : excusée" in charter_meeting and "Mission locale de Joigny : présente" in charter_meeting
    assert "Présences pas encore saisies" in _text(client.get(f"/t/joigny/charte/{cid}/rencontres/{second['meeting_id']}").text)
    charter_page = _text(client.get(f"/t/joigny/charte/{cid}").text)
    assert "2 présente(s) sur 4" in charter_page and "non saisies" in charter_page
    evaluation = _text(client.get(f"/t/joigny/charte/{cid}/evaluation/2010").text)
    assert "taux de participation : 50 %" in evaluation
    assert "Présences pas encore saisies pour 1 rencontre(s)" in evaluation

    # A correction on the meeting page changes the charter's figures at once: still one source.
    meetings(trame).record_attendance(
        "joigny", first["meeting_id"], [{"structure_id": s["clic"], "status": "present"}], author=coord.account_id
    )
    f = svc.participation("joigny", cid, "2010-01-01", "2010-12-31")
    assert (f.meetings[0].present, f.rate, f.never_came) == (3, 0.75, [])
    api = client.get(
        f"/api/v1/territories/joigny/charte/charters/{cid}/participation",
        params={"since": "2010-01-01", "until": "2010-12-31"},
        headers=coord.headers,
    ).json()
    assert api["rate"] == 0.75 and api["meetings"][0]["present"] == 3 and api["meetings"][1]["recorded"] is False

    # A partner that has left the directory since keeps its name in the figures of its years.
    directory(trame).leave_structure("joigny", s["clic"], "2015-01-01", SYSTEM, reason="Service fermé")
    f = svc.participation("joigny", cid, "2010-01-01", "2010-12-31")
    assert "CLIC de Joigny" in {p.name for p in f.partners}
