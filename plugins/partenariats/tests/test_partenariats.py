"""Partnerships as a coordinator, a referent and a member use them, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import icalendar
import vobject
from litestar.testing import TestClient

from core import clock
from core.application import Trame
from core.testing import login, make_user, post_form
from plugins.partenariats.service import partnerships
from plugins.partenariats.tests.helpers import API, coordinator, partnership, rename, structure, territory

T = API.format(t="testville") + "/partenariats"


def _map(client: TestClient[Any], user: Any, sid: str, day: str) -> dict[str, str]:
    r = client.get(f"{T}/structures/{sid}/map?as_of={day}", headers=user.headers)
    assert r.status_code == 200, r.text
    return {p["name"]: p["role"] for p in r.json()["partners"]}


def test_map_as_of_before_and_after_a_convention_ends_and_across_a_rename(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    ccas = structure(client, coord, "CCAS de Testville")
    agency = structure(client, coord, "Pôle emploi – agence de Testville")
    rename(client, coord, agency, "France Travail – agence de Testville", "2024-01-01")
    partnership(client, coord, [(ccas, "terrain"), (agency, "prescripteur")], starts_on="2010-03-01", ends_on="2025-06-30")

    assert _map(client, coord, ccas, "2010-06-01") == {"Pôle emploi – agence de Testville": "prescripteur"}
    assert _map(client, coord, ccas, "2024-06-01") == {"France Travail – agence de Testville": "prescripteur"}
    assert _map(client, coord, agency, "2010-06-01") == {"CCAS de Testville": "terrain"}
    assert _map(client, coord, ccas, "2025-06-30") != {}  # its last day still counts
    assert _map(client, coord, ccas, "2025-07-01") == {}
    assert _map(client, coord, ccas, "2010-02-28") == {}

    # The same on France Travail's sheet in the directory: SVG and table, the 2010 name.
    login(client, coord.email)
    sheet = client.get(f"/t/testville/annuaire/structures/{agency}?as_of=2010-06-01")
    assert sheet.status_code == 200
    section = sheet.text[sheet.text.index("Carte des partenaires") :]
    assert "<svg" in section and 'data-quadrant="terrain"' in section and "CCAS de Testville" in section
    later = client.get(f"/t/testville/annuaire/structures/{ccas}?as_of=2024-06-01").text
    assert "France Travail – agence de Testville" in later and "Pôle emploi – agence de Testville" not in later


def test_a_partner_merged_into_another_shows_as_its_successor(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    ccas = structure(client, coord, "CCAS de Testville", "2005-01-03")
    assedic = structure(client, coord, "Assédic de Testville", "2005-01-03")
    pole = structure(client, coord, "Pôle emploi – agence de Testville", "2005-01-03")
    partnership(client, coord, [(ccas, "terrain"), (assedic, "financeur")], starts_on="2007-01-01")
    r = client.post(
        API.format(t="testville") + f"/structures/{assedic}/merge",
        json={"into": pole, "effective": "2008-12-19"},
        headers=coord.headers,
    )
    assert r.status_code == 201, r.text
    assert _map(client, coord, ccas, "2008-06-01") == {"Assédic de Testville": "financeur"}
    assert _map(client, coord, ccas, "2010-06-01") == {"Pôle emploi – agence de Testville": "financeur"}
    assert _map(client, coord, pole, "2010-06-01") == {"CCAS de Testville": "terrain"}


def test_amended_terms_apply_from_their_day_and_known_at_shows_the_record_as_it_was(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    a, b, c = (structure(client, coord, n) for n in ("CCAS de Testville", "CAF de Testville", "Mission locale de Testville"))
    pid = partnership(client, coord, [(a, "terrain"), (b, "financeur")], starts_on="2010-01-01")
    before_amendment = clock.now()
    r = client.post(
        f"{T}/partnerships/{pid}/amendments",
        json={
            "title": "Convention de test élargie",
            "kind": "convention",
            "form": "impose",
            "effective": "2012-01-01",
            "partners": [
                {"structure_id": a, "role": "terrain"},
                {"structure_id": b, "role": "financeur"},
                {"structure_id": c, "role": "prescripteur"},
            ],
            "reason": "La Mission locale rejoint la convention",
        },
        headers=coord.headers,
    )
    assert r.status_code == 201, r.text
    assert set(_map(client, coord, a, "2011-06-01")) == {"CAF de Testville"}
    assert set(_map(client, coord, a, "2012-06-01")) == {"CAF de Testville", "Mission locale de Testville"}
    known = client.get(f"{T}/structures/{a}/map?as_of=2012-06-01&known_at={before_amendment}", headers=coord.headers).json()
    assert {p["name"] for p in known["partners"]} == {"CAF de Testville"}
    history = client.get(f"{T}/partnerships/{pid}/history", headers=coord.headers).json()
    assert [h["event"] for h in history] == ["partenariats.PartnershipRecorded", "partenariats.PartnershipAmended"]
    assert history[1]["reason"] == "La Mission locale rejoint la convention" and history[1]["author"] == coord.account_id
    assert history[1]["effective"].startswith("2012-01-01")


def _svg_and_table(html: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str], set[str]]:
    svg = html[html.index("<svg") : html.index("</svg>")]
    rest = html[html.index("</svg>") :]
    svg_links = set(re.findall(r'<line data-a="([^"]+)" data-b="([^"]+)"', svg))
    table_links = set(re.findall(r'<tr data-a="([^"]+)" data-b="([^"]+)"', rest))
    svg_isolated = set(re.findall(r'<g data-structure="([^"]+)" data-isolated="oui"', svg))
    table_isolated = set(re.findall(r'<tr data-structure="([^"]+)" data-isolated="oui"', rest))
    return svg_links, table_links, svg_isolated, table_isolated


def test_network_table_equals_the_svg_and_isolated_structures_stand_out(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    a, b, c, alone = (structure(client, coord, n) for n in ("CCAS", "CAF", "Mission locale", "Épicerie solidaire"))
    partnership(client, coord, [(a, "terrain"), (b, "financeur"), (c, "prescripteur")], kind="reseau", form="initiative")
    partnership(client, coord, [(b, "financeur"), (c, "terrain")], kind="financement", starts_on="2011-01-01")
    login(client, coord.email)
    page = client.get("/t/testville/partenariats/reseau?as_of=2012-01-01")
    assert page.status_code == 200
    svg_links, table_links, svg_isolated, table_isolated = _svg_and_table(page.text)
    assert svg_links == table_links == {tuple(sorted(p)) for p in [(a, b), (a, c), (b, c)]}
    assert svg_isolated == table_isolated == {alone}
    assert "Épicerie solidaire (isolée)" in page.text
    funding = client.get("/t/testville/partenariats/reseau?as_of=2012-01-01&kind=financement").text
    svg_links, table_links, svg_isolated, table_isolated = _svg_and_table(funding)
    assert svg_links == table_links == {tuple(sorted((b, c)))}
    assert svg_isolated == table_isolated == {a, alone}
    before = client.get("/t/testville/partenariats/reseau?as_of=2010-06-01").text
    assert _svg_and_table(before)[0] == {tuple(sorted(p)) for p in [(a, b), (a, c), (b, c)]}
    api = client.get(f"{T}/network?as_of=2012-01-01", headers=coord.headers).json()
    assert {(x["a"], x["b"]) for x in api["links"]} == {tuple(sorted(p)) for p in [(a, b), (a, c), (b, c)]}
    assert {x["structure_id"] for x in api["structures"] if x["isolated"]} == {alone}


def test_plugin_off_in_a_territory_answers_404_pages_and_api(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    territory(trame, "ailleurs", ("annuaire",))
    admin = make_user(trame, "admin@exemple.fr", admin=True)
    login(client, admin.email)
    assert client.get("/t/testville/partenariats/").status_code == 200
    assert client.get("/t/ailleurs/partenariats/").status_code == 404
    assert client.get("/t/ailleurs/partenariats/reseau").status_code == 404
    assert client.get(API.format(t="ailleurs") + "/partenariats/partnerships", headers=admin.headers).status_code == 404
    assert client.get(API.format(t="testville") + "/partenariats/partnerships", headers=admin.headers).status_code == 200
    other = structure(client, admin, "CCAS d'ailleurs", slug="ailleurs")
    assert "Carte des partenaires" not in client.get(f"/t/ailleurs/annuaire/structures/{other}").text


def test_roles_are_checked_and_ids_of_another_territory_are_absent(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    territory(trame, "ailleurs", ("annuaire",))
    coord = coordinator(trame)
    a, b, c = (structure(client, coord, n) for n in ("CCAS", "CAF", "Udaf"))
    elsewhere = structure(client, make_user(trame, "admin@exemple.fr", admin=True), "CCAS d'ailleurs", slug="ailleurs")
    member = make_user(trame, "membre@exemple.fr", territory="testville", role="member")
    partner_referent = make_user(trame, "ref.caf@exemple.fr", territory="testville", role="referent", structure_id=b)
    other_referent = make_user(trame, "ref.udaf@exemple.fr", territory="testville", role="referent", structure_id=c)
    body = {"title": "Essai", "kind": "convention", "form": "impose", "starts_on": "2010-01-01",
            "partners": [{"structure_id": a, "role": "terrain"}, {"structure_id": b, "role": "financeur"}]}  # fmt: skip
    refused = client.post(f"{T}/partnerships", json=body, headers=member.headers)
    assert refused.status_code == 403 and "coordinateur" in refused.json()["detail"]
    foreign = {**body, "partners": [{"structure_id": a, "role": "terrain"}, {"structure_id": elsewhere, "role": "financeur"}]}
    assert client.post(f"{T}/partnerships", json=foreign, headers=coord.headers).status_code == 404
    alone = {**body, "partners": [{"structure_id": a, "role": "terrain"}]}
    too_few = client.post(f"{T}/partnerships", json=alone, headers=coord.headers)
    assert too_few.status_code == 400 and "au moins deux structures" in too_few.json()["detail"]
    pid = partnership(client, coord, [(a, "terrain"), (b, "financeur")])
    evaluation = {"evaluated_on": "2011-01-10", "what_works": "Des orientations rapides."}
    assert client.post(f"{T}/partnerships/{pid}/evaluations", json=evaluation, headers=other_referent.headers).status_code == 403
    assert client.post(f"{T}/partnerships/{pid}/evaluations", json=evaluation, headers=member.headers).status_code == 403
    done = client.post(f"{T}/partnerships/{pid}/evaluations", json=evaluation, headers=partner_referent.headers)
    assert done.status_code == 201 and done.json()[0]["what_works"] == "Des orientations rapides."
    empty = client.post(f"{T}/partnerships/{pid}/evaluations", json={"evaluated_on": "2011-02-01"}, headers=coord.headers)
    assert empty.status_code == 400 and "grille" in empty.json()["detail"]
    assert client.get(f"{T}/reminders", headers=member.headers).status_code == 403
    ended = client.post(f"{T}/partnerships/{pid}/end", json={"ended_on": "2012-12-31"}, headers=coord.headers)
    assert ended.status_code == 201 and ended.json()["ended"] is True
    again = client.post(f"{T}/partnerships/{pid}/end", json={"ended_on": "2013-01-31"}, headers=coord.headers)
    assert again.status_code == 409 and "déjà terminé" in again.json()["detail"]


def test_reminders_and_the_ics_feed_of_end_dates(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    a, b, c = (structure(client, coord, n) for n in ("CCAS", "CAF", "Udaf"))
    today = date.fromisoformat(clock.paris_today())
    soon, far = (today + timedelta(days=30)).isoformat(), (today + timedelta(days=200)).isoformat()
    ending = partnership(
        client, coord, [(a, "terrain"), (b, "financeur")], title="Convention qui finit", ends_on=soon, convention_ref="REF-1"
    )
    partnership(client, coord, [(a, "terrain"), (c, "terrain")], title="Convention lointaine", ends_on=far)
    fresh = partnership(client, coord, [(b, "financeur"), (c, "terrain")], title="Évaluée", starts_on="2015-01-01")
    client.post(
        f"{T}/partnerships/{fresh}/evaluations", json={"evaluated_on": clock.paris_today(), "what_works": "Bien."}, headers=coord.headers
    )
    reminders = client.get(f"{T}/reminders", headers=coord.headers).json()
    got = {(r["title"], r["what"]) for r in reminders}
    assert ("Convention qui finit", "fin") in got
    assert ("Convention lointaine", "fin") not in got and ("Convention lointaine", "evaluation") in got
    assert not any(title == "Évaluée" for title, _ in got)
    login(client, coord.email)
    page = client.get("/t/testville/partenariats/rappels")
    assert page.status_code == 200 and "Convention qui finit" in page.text and "À évaluer" in page.text

    feed = client.get("/t/testville/partenariats/echeances.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(feed.content)
    ends = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert ends[f"{ending}-fin@trame"].decoded("dtstart") == date.fromisoformat(soon)
    assert "REF-1" in str(ends[f"{ending}-fin@trame"]["description"])
    parsed = vobject.readOne(feed.content.decode("utf-8"))
    summaries = sorted(v.summary.value for v in parsed.vevent_list)
    assert summaries == ["Fin : Convention lointaine", "Fin : Convention qui finit"]
    assert client.get(f"{T}/echeances.ics", headers=coord.headers).content == feed.content


def test_coordinator_records_through_the_form_and_a_refusal_keeps_what_was_typed(trame: Trame, client: TestClient[Any]) -> None:
    territory(trame)
    coord = coordinator(trame)
    a, b = (structure(client, coord, n) for n in ("CCAS de Testville", "CAF de Testville"))
    login(client, coord.email)
    form = "/t/testville/partenariats/nouveau"
    data = {"title": "Financement <script>alert(1)</script>", "kind": "financement", "form": "impose", "starts_on": "2011-01-01",
            "ends_on": "2010-01-01", "partner_1": a, "role_1": "terrain", "partner_2": b, "role_2": "financeur"}  # fmt: skip
    refused = post_form(client, form, form, data)
    assert refused.status_code == 400 and "ne peut pas précéder" in refused.text
    assert "&lt;script&gt;" in refused.text and "<script>alert" not in refused.text
    done = post_form(client, form, form, {**data, "ends_on": ""})
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert page.status_code == 200 and "&lt;script&gt;" in page.text and "CAF de Testville" in page.text
    assert [p.title for p in partnerships(trame).at("testville")] == ["Financement <script>alert(1)</script>"]
