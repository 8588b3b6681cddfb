"""The charter as its users rely on it: signatories at a date, the date poll, who may sign, where it exists."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core import clock
from core.application import Trame
from core.refusals import Refused, Why
from core.store import SYSTEM
from core.testing import login, post_form, refused
from plugins.charte import links
from plugins.charte.events import CharterSigned
from plugins.charte.service import NO_NAMES, charters
from plugins.charte.tests import helpers as h


def _names(trame: Trame, cid: str, on: str, known_at: str | None = None) -> dict[str, int]:
    return {s["structure_name"]: s["version_no"] for s in charters(trame).signatories("joigny", cid, on, known_at)}


def test_signatories_as_of_dates_around_a_withdrawal_and_a_resignature(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    ml = svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["ml"],
        signatory_name="Claire Martin",
        signatory_role="directrice",
        signed_on="2010-03-12",
    )
    svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["clic"],
        signatory_name="Marc Roux",
        signatory_role="coordinateur",
        signed_on="2010-04-01",
        channel="papier",
        document_ref="CCAS-2010-02",
    )
    before_withdrawal = clock.now()
    svc.withdraw("joigny", cid, ml, author=SYSTEM, on="2010-12-01", reason="Réorganisation du service")
    v2 = svc.revise(
        "joigny",
        cid,
        author=SYSTEM,
        title="Charte des rencontres partenariales",
        preamble="Texte révisé.",
        commitments=[*h.COMMITMENTS, "Renforcer le partenariat."],
    )
    svc.adopt("joigny", cid, v2, author=SYSTEM, on="2011-02-01")
    svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["ml"],
        signatory_name="Sophie Dubois",
        signatory_role="directrice",
        signed_on="2011-03-01",
        version_no=v2,
    )
    svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["clic"],
        signatory_name="Marc Roux",
        signatory_role="coordinateur",
        signed_on="2011-04-01",
        version_no=v2,
    )

    assert _names(trame, cid, "2010-03-11") == {}
    assert _names(trame, cid, "2010-03-12") == {"Mission locale de Joigny": 1}
    assert _names(trame, cid, "2010-11-30") == {"CLIC de Joigny": 1, "Mission locale de Joigny": 1}
    assert _names(trame, cid, "2010-12-01") == {"CLIC de Joigny": 1}  # withdrawn that day
    assert _names(trame, cid, "2011-01-01") == {"CLIC de Joigny": 1}
    assert _names(trame, cid, "2011-03-01") == {"CLIC de Joigny": 1, "Mission locale de Joigny": 2}
    assert _names(trame, cid, "2011-04-01") == {"CLIC de Joigny": 2, "Mission locale de Joigny": 2}  # re-signed: v1 superseded
    # As the directory knew it before the withdrawal was recorded, the Mission locale still signed on 2011-01-01.
    assert _names(trame, cid, "2011-01-01", known_at=before_withdrawal) == {"CLIC de Joigny": 1, "Mission locale de Joigny": 1}
    history = svc.signatures("joigny", cid)
    assert [(x["structure_name"], x["end_kind"]) for x in history] == [
        ("Mission locale de Joigny", "withdrawn"),
        ("CLIC de Joigny", "replaced"),
        ("Mission locale de Joigny", None),
        ("CLIC de Joigny", None),
    ]
    with pytest.raises(Refused, match="déjà signé"):
        svc.sign("joigny", cid, author=SYSTEM, structure_id=s["clic"], signatory_name="X", signatory_role="Y", signed_on="2011-05-01")
    assert svc.version("joigny", cid, 1)["commitments"] == h.COMMITMENTS  # the earlier version stays readable


def test_a_late_vote_changes_the_majority_until_adoption(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    poll = svc.open_poll("joigny", cid, author=SYSTEM, question="Quel créneau ?", slots=[(4, "09:00", "11:00"), (1, "14:00", "16:00")])
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["ml"], slot_ids=["c2"])
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["clic"], slot_ids=["c2"])
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["udaf"], slot_ids=["c1"])
    assert svc.poll("joigny", poll)["majority"] == "c2"
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["spip"], slot_ids=["c1", "c2"])
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["ccas"], slot_ids=["c1"])
    assert svc.poll("joigny", poll)["tally"] == {"c1": 3, "c2": 3}
    assert svc.poll("joigny", poll)["majority"] is None  # a tie: nothing adopted without a choice
    with pytest.raises(Refused, match="Égalité"):
        svc.adopt_poll("joigny", poll, author=SYSTEM)
    svc.vote("joigny", poll, author=SYSTEM, structure_id=s["clic"], slot_ids=["c1"])  # a late vote replaces the earlier one
    p = svc.poll("joigny", poll)
    assert p["tally"] == {"c1": 4, "c2": 2} and p["majority"] == "c1"
    assert svc.adopt_poll("joigny", poll, author=SYSTEM) == "c1"
    with pytest.raises(Refused, match="clos"):
        svc.vote("joigny", poll, author=SYSTEM, structure_id=s["ml"], slot_ids=["c1"])
    assert svc.poll("joigny", poll)["slot_labels"]["c1"] == "vendredi 9 h – 11 h"
    # The adopted slot gives the cycle: every two months on that Friday, none in July or August.
    svc.plan_cycle("joigny", cid, author=SYSTEM, first_day="2010-03-12", place="Salle communale", until="2011-03-31", poll_id=poll)
    meetings = svc.meetings("joigny", cid)
    assert [m["day"] for m in meetings] == ["2010-03-12", "2010-05-14", "2010-09-10", "2010-11-12", "2011-01-14", "2011-03-11"]
    assert {(m["start_time"], date.fromisoformat(m["day"]).weekday()) for m in meetings} == {("09:00", 4)}


def test_invited_list_is_signatories_plus_partners_invited_without_signing(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    svc.sign("joigny", cid, author=SYSTEM, structure_id=s["ml"], signatory_name="A B", signatory_role="directrice", signed_on="2010-03-12")
    svc.invite_partner("joigny", cid, s["spip"], author=SYSTEM, since="2010-04-01")
    svc.plan_cycle("joigny", cid, author=SYSTEM, first_day="2010-05-14", place="Salle communale", count=2, start="09:00", end="11:00")
    m = svc.meetings("joigny", cid)[0]
    assert svc.invite_to_meeting("joigny", cid, m["meeting_id"], author=SYSTEM, send=False) == 3
    assert set(svc.expected_at("joigny", cid, m["day"])) == {s["ccas"], s["ml"], s["spip"]}
    assert svc.participation("joigny", cid, "2010-01-01", "2010-12-31").never_came == []  # attendance not entered yet
    links.record_attendance(trame, "joigny", m["meeting_id"], {s["ccas"]: "present", s["spip"]: "present"}, author=SYSTEM)
    f = svc.participation("joigny", cid, "2010-01-01", "2010-12-31")
    assert f.never_came == ["Mission locale de Joigny"]
    assert f.invited_not_signed == ["SPIP de l'Yonne"]


def test_signatory_name_is_personal_data_and_can_be_erased(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    sig = svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["ml"],
        signatory_name="Claire Martin",
        signatory_role="directrice",
        signed_on="2010-03-12",
    )
    svc.erase_signatory("joigny", cid, sig, author=SYSTEM)
    assert svc.signature("joigny", cid, sig)["signatory_name"] is None
    signed = [r for r in trame.store.read(0, 1000) if r.name == "charte.CharterSigned"]
    event = signed[0].event
    assert signed[0].erased and isinstance(event, CharterSigned) and event.signatory_name is None
    trame.runner.rebuild(["charte"])
    assert svc.signature("joigny", cid, sig)["signatory_role"] == "directrice"
    assert svc.signature("joigny", cid, sig)["signatory_name"] is None


def test_a_referent_cannot_sign_for_another_structure(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    ref = h.referent(trame, s["ml"])
    api = f"/api/v1/territories/joigny/charte/charters/{cid}/signatures"
    body = {"signatory_name": "Claire Martin", "signatory_role": "directrice", "signed_on": "2010-03-12"}
    refused = client.post(api, json={**body, "structure_id": s["clic"]}, headers=ref.headers)
    assert refused.status_code == 403, refused.text
    ok = client.post(api, json={**body, "structure_id": s["ml"]}, headers=ref.headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["channel"] == "referent"
    login(client, ref.email)
    page = f"/t/joigny/charte/{cid}"
    response = post_form(client, page, f"{page}/signatures", {**body, "structure_id": s["clic"]})
    assert response.status_code == 403
    assert "propre structure" in response.text


def test_coordinator_records_a_paper_copy_with_its_reference(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    coord = h.coordinator(trame)
    api = f"/api/v1/territories/joigny/charte/charters/{cid}/signatures"
    body = {
        "structure_id": s["udaf"],
        "signatory_name": "Éric Blanc",
        "signatory_role": "directeur",
        "signed_on": "2010-04-02",
        "document_ref": "CCAS-CHARTE-2010-07",
    }
    created = client.post(api, json=body, headers=coord.headers)
    assert created.status_code == 201, created.text
    assert created.json()["channel"] == "papier" and created.json()["document_ref"] == "CCAS-CHARTE-2010-07"
    listed = client.get(api, params={"as_of": "2010-04-02"}, headers=coord.headers).json()
    assert [x["structure_name"] for x in listed] == ["Udaf de l'Yonne"]
    withdrawn = client.post(f"{api}/{listed[0]['id']}/withdrawal", json={"withdrawn_on": "2011-01-05"}, headers=coord.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["end_kind"] == "withdrawn"
    assert client.get(api, params={"as_of": "2011-01-05"}, headers=coord.headers).json() == []
    schema = client.get("/schema/openapi.json").json()
    assert any(p.startswith("/api/v1/territories/{slug}/charte/") for p in schema["paths"])
    assert any("charte" in op.get("tags", []) for ops in schema["paths"].values() for op in ops.values() if isinstance(op, dict))


def test_charte_off_in_agen_answers_404(trame: Trame, client: Any) -> None:
    h.territory(trame, "agen", ("annuaire", "rencontres"))
    coord = h.coordinator(trame, "agen")
    assert client.get("/api/v1/territories/agen/charte/charters", headers=coord.headers).status_code == 404
    login(client, coord.email)
    assert client.get("/t/agen/charte/").status_code == 404
    assert client.get("/t/agen/charte/nouvelle").status_code == 404


def test_charte_needs_the_meetings_plugin(trame: Trame) -> None:
    h.territory(trame, "auxerre", ("annuaire",))
    with refused(Why.INVALID, match="Rencontres"):
        trame.territories.enable("auxerre", "charte", author=SYSTEM)
    assert not trame.territories.is_enabled("auxerre", "charte")


def test_printable_charter_lists_signatories_at_a_date(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    ml = svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["ml"],
        signatory_name="Claire Martin",
        signatory_role="directrice",
        signed_on="2010-03-12",
    )
    svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["clic"],
        signatory_name="Marc Roux",
        signatory_role="coordinateur",
        signed_on="2010-06-01",
    )
    svc.withdraw("joigny", cid, ml, author=SYSTEM, on="2011-06-10")
    svc.set_status("joigny", cid, "ended", author=SYSTEM, on="2012-06-29", reason="Action plus portée par le CCAS")
    coord = h.coordinator(trame)
    login(client, coord.email)
    charter_page = client.get(f"/t/joigny/charte/{cid}")
    assert charter_page.status_code == 200
    assert 'name="au" type="date"' in charter_page.text  # the date picker, one click from the charter
    assert "Action plus portée par le CCAS" in charter_page.text
    page = client.get(f"/t/joigny/charte/{cid}/impression", params={"au": "2011-01-01"})
    assert page.status_code == 200
    assert "Signataires au samedi 1er janvier 2011" in page.text
    assert "Claire Martin, directrice" in page.text and "Marc Roux, coordinateur" in page.text
    assert all(c in page.text for c in h.COMMITMENTS)
    assert "/static/charte/charte.css" in page.text
    later = client.get(f"/t/joigny/charte/{cid}/impression", params={"au": "2011-07-01"})
    assert "Claire Martin" not in later.text and "Marc Roux" in later.text
    css = client.get("/static/charte/charte.css")
    assert css.status_code == 200 and "@media print" in css.text


def test_case_discussions_hold_no_names(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    svc.plan_cycle("joigny", cid, author=SYSTEM, first_day="2010-03-12", place="Salle communale", count=1, start="09:00", end="11:00")
    m = svc.meetings("joigny", cid)[0]
    login(client, h.coordinator(trame).email)
    url = f"/t/joigny/charte/{cid}/rencontres/{m['meeting_id']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "ne nommez aucune personne accompagnée" in page.text
    assert "présentation détaillée des missions" in page.text.lower()
    fields = {f for f in ("person_name", "usager", "beneficiaire", "nom_personne") if f'name="{f}' in page.text}
    assert fields == set()
    saved = post_form(client, url, f"{url}/compte-rendu", {"part1": "Situation d'un ménage sans logement.", "part2": "", "part3": ""})
    assert saved.status_code == 303
    assert NO_NAMES in client.get(url).text


def test_evaluation_report_fills_figures_from_data(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    coord = h.coordinator(trame)
    svc = charters(trame)
    svc.sign("joigny", cid, author=SYSTEM, structure_id=s["ml"], signatory_name="A B", signatory_role="directrice", signed_on="2010-03-12")
    put = client.put(
        f"/api/v1/territories/joigny/charte/charters/{cid}/reports/2010", json={"what_works": "La dynamique."}, headers=coord.headers
    )
    assert put.status_code == 200, put.text
    report = put.json()
    assert report["figures"]["signatories_on_31_december"] == 1 and report["figures"]["signed_in_year"] == 1
    assert report["grid"][0]["text"] == "La dynamique." and len(report["grid"]) == 6
    login(client, coord.email)
    page = client.get(f"/t/joigny/charte/{cid}/evaluation/2010")
    assert page.status_code == 200 and "Retour du public" in page.text


def test_structure_sheet_shows_its_signature(trame: Trame) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    charters(trame).sign(
        "joigny", cid, author=SYSTEM, structure_id=s["ml"], signatory_name="A B", signatory_role="directrice", signed_on="2010-03-12"
    )
    sections = [
        x
        for batch in trame.pm.hook.page_sections(
            trame=trame, page="annuaire.structure", territory="joigny", subject_id=s["ml"], as_of=clock.now(), known_at=None
        )
        for x in batch
    ]
    mine = [x for x in sections if x.plugin == "charte"]
    assert mine and "signataire" in str(mine[0].html) and "12/03/2010" in str(mine[0].html)
