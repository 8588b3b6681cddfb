"""Meetings' rules hold against a concurrent writer: a decision made on a stale version is made again."""

from __future__ import annotations

from uuid import UUID

import pytest

from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers


@pytest.fixture
def agen(trame: Trame) -> dict[str, str]:
    helpers.territory(trame)
    return helpers.structures(trame)


def _meeting(trame: Trame, agen: dict[str, str]) -> str:
    svc = meetings(trame)
    place = svc.place("agen", kind="structure", structure_id=agen["cms"])
    return svc.schedule("agen", author=SYSTEM, title="Groupe de travail", day="2026-03-13", start="14:30", end="16:30", place=place)


def _topics(trame: Trame, meeting_id: str) -> list[str]:
    return [r.name for r in trame.store.stream(UUID(meeting_id))]


def test_a_meeting_cancelled_while_it_was_being_moved_is_not_moved(
    trame: Trame, agen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = meetings(trame)
    mid = _meeting(trame, agen)
    helpers.loses_a_race(trame, monkeypatch, lambda: svc.cancel("agen", mid, author=SYSTEM))
    with pytest.raises(Refused, match="annulée : programmez-en une nouvelle") as refused:
        svc.reschedule("agen", mid, author=SYSTEM, day="2026-03-20", start="14:30", end="16:30")
    assert refused.value.status == 409
    assert _topics(trame, mid) == ["rencontres.MeetingScheduled", "rencontres.MeetingCancelled"]
    assert svc.require("agen", mid)["day"] == "2026-03-13"


def test_two_coordinators_inviting_the_same_structure_at_once_issue_one_link(
    trame: Trame, agen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = meetings(trame)
    mid = _meeting(trame, agen)
    first: list[str] = []
    helpers.loses_a_race(
        trame, monkeypatch, lambda: first.extend(link.url for link in svc.invite("agen", mid, [agen["cs"]], author=SYSTEM).links)
    )
    second = svc.invite("agen", mid, [agen["cs"], agen["ml"]], author=SYSTEM)
    assert [link.structure_id for link in second.links] == [agen["ml"]]  # the centre social's link is the first one
    assert sorted(i["structure_id"] for i in svc.invitations("agen", mid)) == sorted([agen["cs"], agen["ml"]])
    assert svc.invitation_by_token("agen", first[0].rsplit("/", 1)[1]) is not None  # and it still works


def test_an_action_closed_meanwhile_is_not_closed_twice(trame: Trame, agen: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    svc = meetings(trame)
    mid = _meeting(trame, agen)
    action = svc.open_action("agen", mid, author=SYSTEM, title="Mettre à jour l'aide-mémoire")
    helpers.loses_a_race(trame, monkeypatch, lambda: svc.close_action("agen", action, author=SYSTEM, note="fait"))
    with pytest.raises(Refused, match="déjà close") as refused:
        svc.close_action("agen", action, author=SYSTEM, note="fait aussi")
    assert refused.value.status == 409
    assert [a["note"] for a in svc.actions_of("agen", mid)] == ["fait"]
