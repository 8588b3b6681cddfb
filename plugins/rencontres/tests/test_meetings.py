"""Meetings through the service and the API: scheduling, answers, feed, carry-over, figures, plugin switch."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar

from core.application import Trame
from core.refusals import Refused
from core.store import SYSTEM
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers

API = "/api/v1/territories/agen/rencontres"


@pytest.fixture
def agen(trame: Trame) -> dict[str, str]:
    helpers.territory(trame)
    return helpers.structures(trame)


def _place(trame: Trame, sid: str) -> Any:
    return meetings(trame).place("agen", kind="structure", structure_id=sid)


def test_a_series_flags_holidays_and_keeps_local_time(trame: Trame, agen: dict[str, str], client: Any) -> None:
    user = helpers.coordinator(trame)
    body = {
        "title": "Café partenaires",
        "day": "2026-03-06",
        "start": "09:00",
        "end": "10:30",
        "preset": "mensuel",
        "until": "2026-06-30",
        "place": {"kind": "structure", "structure_id": agen["cs"]},
    }
    response = client.post(f"{API}/meetings", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    out = response.json()
    assert [m["day"] for m in out["meetings"]] == ["2026-03-06", "2026-04-03", "2026-05-01", "2026-06-05"]
    may = out["meetings"][2]
    assert (may["holiday"], may["proposed_day"]) == ("Fête du Travail", "2026-05-15")
    assert [m["start"] for m in out["meetings"]] == ["09:00"] * 4
    assert out["meetings"][0]["starts_at"].startswith("2026-03-06T08:00")
    assert out["meetings"][1]["starts_at"].startswith("2026-04-03T07:00")
    assert out["meetings"][0]["place"] == "Centre social Nord-Est d'Agen, 7 rue des Glycines, 47000 Agen"


def test_an_answer_link_is_refused_for_another_structure(trame: Trame, agen: dict[str, str], client: Any) -> None:
    svc = meetings(trame)
    mid = svc.schedule(
        "agen", author=SYSTEM, title="Groupe de travail", day="2026-03-13", start="14:30", end="16:30", place=_place(trame, agen["cms"])
    )
    delivery = svc.invite("agen", mid, [agen["cs"], agen["ml"]], author=SYSTEM)
    links = {link.structure_id: link.url.rsplit("/", 1)[1] for link in delivery.links}
    assert delivery.to_copy == ["cs@agen.example", "ml@agen.example"]  # no SMTP: a list to copy
    # The Mission locale's link cannot answer for the centre social...
    refused = client.post(
        f"{API}/meetings/{mid}/answers", json={"token": links[agen["ml"]], "structure_id": agen["cs"], "answer": "not_coming"}
    )
    assert refused.status_code == 403
    # ... nor can a guessed token, nor a structure not invited.
    assert (
        client.post(f"{API}/meetings/{mid}/answers", json={"token": "x" * 43, "structure_id": agen["cs"], "answer": "coming"}).status_code
        == 404
    )
    with pytest.raises(Refused) as exc:
        svc.answer_with_token("agen", links[agen["cs"]], structure_id=agen["regie"], answer="coming")
    assert exc.value.status == 403
    assert all(i["answer"] is None for i in svc.invitations("agen", mid))
    ok = client.post(f"{API}/meetings/{mid}/answers", json={"token": links[agen["cs"]], "structure_id": agen["cs"], "answer": "coming"})
    assert ok.status_code == 200 and ok.json()["answer"] == "coming"
    # Only the digest is in the log.
    with trame.db.read() as cur:
        data = " ".join(r["data"] for r in cur.execute("SELECT data FROM journal WHERE event = 'rencontres.StructureInvited'").fetchall())
    assert links[agen["cs"]] not in data and "digest" not in data


def test_answer_page_by_token_needs_no_account(trame: Trame, agen: dict[str, str], client: Any) -> None:
    from core.testing import csrf_of

    svc = meetings(trame)
    mid = svc.schedule("agen", author=SYSTEM, title="Café", day="2026-03-06", start="09:00", end="10:30", place=_place(trame, agen["cs"]))
    token = svc.invite("agen", mid, [agen["ml"]], author=SYSTEM).links[0].url.rsplit("/", 1)[1]
    page = client.get(f"/t/agen/rencontres/reponse/{token}")
    assert page.status_code == 200 and "Mission locale" in page.text
    wrong = client.post(
        f"/t/agen/rencontres/reponse/{token}", data={"structure_id": agen["cs"], "answer": "coming", "_csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 403
    done = client.post(
        f"/t/agen/rencontres/reponse/{token}",
        data={"structure_id": agen["ml"], "answer": "someone_else", "_csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200 and "votre réponse est enregistrée" in done.text
    assert svc.invitations("agen", mid)[0]["answer"] == "someone_else"


def test_feed_uids_are_stable_across_a_reschedule(trame: Trame, agen: dict[str, str], client: Any) -> None:
    svc = meetings(trame)
    mid = svc.schedule("agen", author=SYSTEM, title="Café", day="2026-05-01", start="09:00", end="10:30", place=_place(trame, agen["cs"]))
    token = svc.issue_feed_token("agen", author=SYSTEM)
    assert client.get(f"/t/agen/rencontres/agenda/{'z' * 43}.ics").status_code == 404

    def events() -> list[Any]:
        response = client.get(f"/t/agen/rencontres/agenda/{token}.ics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
        return [c for c in Calendar.from_ical(response.content).walk("VEVENT")]

    before = events()
    svc.reschedule("agen", mid, author=SYSTEM, day="2026-05-15", start="09:00", end="10:30", reason="1er mai férié")
    after = events()
    assert [str(e["UID"]) for e in before] == [str(e["UID"]) for e in after] == [f"{mid}@trame"]
    assert int(before[0]["SEQUENCE"]) == 0 and int(after[0]["SEQUENCE"]) == 1
    assert after[0].decoded("DTSTART").isoformat() == "2026-05-15T09:00:00+02:00"
    svc.cancel("agen", mid, author=SYSTEM)
    assert str(events()[0]["STATUS"]) == "CANCELLED"
    api = client.get(f"{API}/feed.ics", params={"token": token, "plugin": "rencontres"})
    assert api.status_code == 200 and f"UID:{mid}@trame" in api.text
    # A new secret replaces the old one.
    svc.issue_feed_token("agen", author=SYSTEM)
    assert client.get(f"/t/agen/rencontres/agenda/{token}.ics").status_code == 404


def test_an_empty_feed_is_a_valid_calendar(trame: Trame, agen: dict[str, str], client: Any) -> None:
    """RFC 5545: a VCALENDAR holds at least one component; a territory with no meeting yet still
    serves one that calendar clients subscribe to (icalendar and vobject both read it)."""
    import vobject

    token = meetings(trame).issue_feed_token("agen", author=SYSTEM)
    response = client.get(f"/t/agen/rencontres/agenda/{token}.ics")
    assert response.status_code == 200
    parsed = Calendar.from_ical(response.content)
    assert parsed.name == "VCALENDAR" and [c.name for c in parsed.subcomponents] == ["VTIMEZONE"]
    assert parsed.walk("VEVENT") == [] and str(parsed.subcomponents[0]["TZID"]) == "Europe/Paris"
    other = vobject.readOne(response.text)
    assert other.validate(raiseException=True)
    assert [c.name for c in other.getChildren() if isinstance(c, vobject.base.Component)] == ["VTIMEZONE"]
    assert other.vtimezone.tzid.value == "Europe/Paris"


def test_open_actions_carry_over_until_closed(trame: Trame, agen: dict[str, str]) -> None:
    svc = meetings(trame)
    _series, ids = svc.plan_series(
        "agen",
        author=SYSTEM,
        title="Groupe",
        first_day="2026-01-09",
        start="14:30",
        end="16:30",
        place=_place(trame, agen["cs"]),
        preset="mensuel",
        count=3,
    )
    first, second, third = ids
    action = svc.open_action(
        "agen", first, author=SYSTEM, title="Mettre à jour l'aide-mémoire", owner_structure_id=agen["ml"], due="2026-02-01"
    )
    svc.open_action("agen", first, author=SYSTEM, title="Faire une fiche projet")
    assert [a["title"] for a in svc.carried_over("agen", second)] == ["Mettre à jour l'aide-mémoire", "Faire une fiche projet"]
    assert svc.carried_over("agen", first) == []
    svc.close_action("agen", action, author=SYSTEM, meeting_id=second)
    at_second = {a["title"]: a["status"] for a in svc.carried_over("agen", second)}
    assert at_second == {"Mettre à jour l'aide-mémoire": "closed", "Faire une fiche projet": "open"}
    assert [a["title"] for a in svc.carried_over("agen", third)] == ["Faire une fiche projet"]
    with pytest.raises(Refused):
        svc.close_action("agen", action, author=SYSTEM)


def test_figures(trame: Trame, agen: dict[str, str], client: Any) -> None:
    from plugins.rencontres.figures import compute

    svc = meetings(trame)
    _, (m1, m2) = svc.plan_series(
        "agen",
        author=SYSTEM,
        title="Café",
        first_day="2026-01-02",
        start="09:00",
        end="10:30",
        place=_place(trame, agen["cs"]),
        preset="mensuel",
        count=2,
    )
    svc.invite("agen", m1, [agen["cs"], agen["cms"], agen["ml"], agen["regie"]], author=SYSTEM)
    svc.invite("agen", m2, [agen["cs"], agen["cms"]], author=SYSTEM)
    svc.record_attendance(
        "agen",
        m1,
        [
            {"structure_id": agen["cs"], "status": "present"},
            {"structure_id": agen["cms"], "status": "present"},
            {"structure_id": agen["ml"], "status": "excused"},
        ],
        author=SYSTEM,
    )
    svc.record_attendance(
        "agen",
        m2,
        [
            {"structure_id": agen["cs"], "status": "present"},
            {"structure_id": agen["ml"], "status": "present", "person_name": "Camille Exemple"},
        ],
        author=SYSTEM,
    )
    upcoming = svc.schedule(
        "agen", author=SYSTEM, title="Café", day="2026-12-04", start="09:00", end="10:30", place=_place(trame, agen["cs"])
    )
    svc.invite("agen", upcoming, [agen["regie"]], author=SYSTEM)  # attendance not entered yet: no rate, nobody absent
    f = compute(trame, "agen", "2026-02-01", "2026-02-28")
    assert [(m.invited, m.present, m.rate) for m in f.meetings] == [(3, 2, 2 / 3)]  # the ML came uninvited: expected too
    assert f.newcomers == ["Mission locale de l'Agenais"]
    assert f.never_seen == ["Centre médico-social de Montanou", "Régie de quartier"]
    year = compute(trame, "agen", "2026-01-01", "2026-12-31")
    assert [(m.invited, m.present, m.excused, m.recorded) for m in year.meetings] == [(4, 2, 1, True), (3, 2, 0, True), (1, 0, 0, False)]
    assert year.meetings[2].rate is None
    rates = {s.name: (s.expected, s.present, s.rate) for s in year.structures}
    assert rates["Centre social Nord-Est d'Agen"] == (2, 2, 1.0)
    assert rates["Centre médico-social de Montanou"] == (2, 1, 0.5)
    assert rates["Mission locale de l'Agenais"] == (2, 1, 0.5)
    assert year.never_seen == ["Régie de quartier"]
    assert year.overall_rate == 4 / 7
    user = helpers.coordinator(trame)
    from core.testing import login

    login(client, user.email)
    page = client.get("/t/agen/rencontres/chiffres", params={"du": "2026-01-01", "au": "2026-12-31"})
    assert page.status_code == 200
    assert "<svg" in page.text and 'aria-describedby="par-rencontre"' in page.text and "57 %" in page.text
    api = client.get(f"{API}/figures", params={"since": "2026-01-01", "until": "2026-12-31"}, headers=user.headers).json()
    assert api["never_seen"] == ["Régie de quartier"]


def test_plugin_off_answers_404(trame: Trame, client: Any) -> None:
    helpers.territory(trame, "joigny", plugins=("annuaire",))
    user = helpers.coordinator(trame, "joigny")
    from core.testing import login

    assert client.get("/api/v1/territories/joigny/rencontres/meetings", headers=user.headers).status_code == 404
    login(client, user.email)
    assert client.get("/t/joigny/rencontres/").status_code == 404
    assert client.get("/t/joigny/rencontres/chiffres").status_code == 404
    assert client.get("/t/joigny/rencontres/agenda/abc.ics").status_code == 404
    assert client.get("/t/joigny/rencontres/reponse/abc").status_code == 404
