"""The Joigny demo (seed 003), loaded once per backend and checked as its users would read it:
the charter and its cycle, attendance recorded through the meetings plugin (the charter and the
meeting pages agree), and fictional signatories whose French titles agree with them."""

from __future__ import annotations

import html
import re
from typing import Any

from core.application import Trame
from core.testing import csrf_of, login
from plugins.charte import links
from plugins.charte.service import Charters, charters
from plugins.charte.tests import helpers as h
from plugins.rencontres.service import meetings

#: French first names and their usual gender, kept here independently of the demo data.
WOMEN = {"Claire", "Sophie", "Hélène", "Isabelle", "Nathalie", "Valérie", "Catherine", "Sandrine", "Anne", "Martine"}
MEN = {"Marc", "Julien", "Olivier", "Pascal", "Thierry", "Stéphane", "Laurent", "Éric"}
FEMININE = re.compile(r"\b(directrice|cheffe|coordinatrice|présidente|adjointe|responsable|cadre)\b")
MASCULINE = re.compile(r"\b(directeur|chef|coordinateur|président|adjoint|responsable|cadre)\b")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_joigny_demo(trame: Trame, client: Any) -> None:
    h.territory(trame)
    from plugins.charte.demo import load

    load(trame, "joigny")
    svc = charters(trame)
    (c,) = svc.all("joigny")
    login(client, h.coordinator(trame).email)
    _charter_and_cycle(svc, c)
    _attendance_is_the_meetings_plugins(trame, client, svc, c["charter_id"])
    _titles_agree_with_the_people(client, svc, c["charter_id"])
    _dates_and_hours_read_the_french_way(client, svc, c["charter_id"])
    _an_ended_charters_meetings_are_read_only(client, svc, c["charter_id"])
    _a_partner_votes_through_its_link_alone(trame, client, svc, c["charter_id"])


def _charter_and_cycle(svc: Charters, c: dict[str, Any]) -> None:
    assert c["status"] == "ended" and c["status_reason"] == "Action plus portée par le CCAS"
    assert len(svc.version("joigny", c["charter_id"], 1)["commitments"]) == 9
    assert len(svc.signatories("joigny", c["charter_id"], "2011-01-01")) == 16  # the CCAS and its 15 partners
    found = svc.meetings("joigny", c["charter_id"])
    assert found[0]["day"] == "2010-03-12" and found[0]["start_time"] == "09:00"
    assert not any(m["day"][5:7] in ("07", "08") for m in found)
    poll, _review = svc.polls("joigny", c["charter_id"])
    assert poll["slot_labels"][poll["adopted_slot_id"]].startswith("vendredi 9 h")
    assert svc.evaluation_years("joigny", c["charter_id"]) == [2010, 2011, 2012]


def _attendance_is_the_meetings_plugins(trame: Trame, client: Any, svc: Charters, cid: str) -> None:
    f = svc.participation("joigny", cid, "2010-01-01", "2012-12-31")
    assert len(f.meetings) == 12 and all(m.recorded for m in f.meetings)
    for m in f.meetings:
        rows = meetings(trame).attendance("joigny", m.meeting_id)
        assert m.present == len({a["structure_id"] for a in rows if a["status"] == "present"}) > 0
    assert f.rate is not None and 0.6 <= f.rate <= 0.8  # Joigny reported 70 %
    assert f.never_came == ["MDPH de l'Yonne"]
    m = f.meetings[4]
    meeting_page = client.get(f"/t/joigny/rencontres/{m.meeting_id}").text
    assert len(re.findall(r'value="present" aria-label="[^"]*" checked', meeting_page)) == m.present
    charter_meeting = _text(client.get(f"/t/joigny/charte/{cid}/rencontres/{m.meeting_id}").text)
    assert f"{m.present} structure(s) présente(s) sur {m.expected} attendue(s)" in charter_meeting


def _titles_agree_with_the_people(client: Any, svc: Charters, cid: str) -> None:
    signatures = svc.signatures("joigny", cid)
    assert len(signatures) == 21
    people: dict[str, set[str]] = {}
    for s in signatures:
        first = s["signatory_name"].split()[0]
        assert first in WOMEN | MEN, s["signatory_name"]
        pattern = FEMININE if first in WOMEN else MASCULINE
        assert pattern.search(s["signatory_role"]), f"{s['signatory_name']}, {s['signatory_role']}"
        people.setdefault(s["signatory_name"], set()).add(s["structure_id"])
    assert all(len(ids) == 1 for ids in people.values())  # nobody signs for two structures
    page = client.get(f"/t/joigny/charte/{cid}", params={"au": "2011-01-01"}).text
    assert "Claire Martin, directrice du CCAS" in page and "Pascal Fournier, président de l&#39;unité locale" in page
    later = client.get(f"/t/joigny/charte/{cid}", params={"au": "2012-01-01"}).text
    assert "Anne Perrin, directrice" in later and "Stéphane Blanc" not in later  # the Udaf's new director re-signed


def _dates_and_hours_read_the_french_way(client: Any, svc: Charters, cid: str) -> None:
    """Days as 29/06/2012 and hours as « 9 h – 11 h » on every charter page, the list and the versions included."""
    index = _text(client.get("/t/joigny/charte/").text)
    assert "depuis le 29/06/2012" in index and "2012-06-29" not in index
    versions = svc.versions("joigny", cid)
    assert len(versions) == 2
    other = _text(client.get(f"/t/joigny/charte/{cid}/versions/1").text).split("Autres versions")[1]
    assert f"adoptée le {versions[1]['adopted_on'][8:]}/{versions[1]['adopted_on'][5:7]}/{versions[1]['adopted_on'][:4]}" in other
    assert not re.search(r"\d{4}-\d{2}-\d{2}", other)
    charter = _text(client.get(f"/t/joigny/charte/{cid}").text)
    assert "9 h – 11 h, à partir du 12/03/2010" in charter and "09:00" not in charter


def _an_ended_charters_meetings_are_read_only(client: Any, svc: Charters, cid: str) -> None:
    """No invitation, presenter or minutes form on the meeting of an ended charter; sent anyway: a 409 in French."""
    m = svc.meetings("joigny", cid)[-1]
    url = f"/t/joigny/charte/{cid}/rencontres/{m['meeting_id']}"
    page = client.get(url).text
    assert "Inviter les signataires et partenaires" not in page and "/invitations" not in page
    assert "/intervenant" not in page and "/compte-rendu" not in page
    assert "La charte est terminée depuis le 29/06/2012" in page
    before = len(links.invitations(svc.trame, "joigny", m["meeting_id"]))
    for action, data in (("invitations", {}), ("intervenant", {"structure_id": m["presenter_id"] or ""}), ("compte-rendu", {"part1": "x"})):
        refused = client.post(f"{url}/{action}", data={**data, "_csrf_token": csrf_of(page)}, follow_redirects=False)
        assert refused.status_code == 409, action
        assert "Cette charte est terminée : ses rencontres restent consultables" in html.unescape(refused.text)
    assert len(links.invitations(svc.trame, "joigny", m["meeting_id"])) == before


def _a_partner_votes_through_its_link_alone(trame: Trame, client: Any, svc: Charters, cid: str) -> None:
    """The review poll is open: the coordination issues the voting links, and a partner that has not
    answered votes through its own link, with no account (issue 17)."""
    review = next(p for p in svc.polls("joigny", cid) if p["status"] == "open")
    waiting = {w["structure_id"]: w["structure_name"] for w in review["waiting"]}
    assert len(review["voters"]) == 3 and "CLIC de Joigny" in waiting.values()
    page = client.get(f"/t/joigny/charte/{cid}/sondages/{review['poll_id']}")
    shown = client.post(f"/t/joigny/charte/{cid}/sondages/{review['poll_id']}/liens", data={"_csrf_token": csrf_of(page.text)})
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[^<]*</td><td><code>[^<]*?/vote/([A-Za-z0-9_-]{43})</code>', shown.text)
    tokens = {html.unescape(name): token for name, token in rows}
    assert set(waiting.values()) <= set(tokens)

    client.cookies.clear()  # the partner has no account
    url = f"/t/joigny/charte/vote/{tokens['CLIC de Joigny']}"
    form = client.get(url)
    assert form.status_code == 200 and "CLIC de Joigny" in form.text
    assert client.post(url, data={"slot": "c2", "_csrf_token": csrf_of(form.text)}, follow_redirects=False).status_code == 303
    after = svc.poll("joigny", review["poll_id"])
    assert "CLIC de Joigny" in [v["structure_name"] for v in after["voters"]]
    assert after["tally"] == {"c1": review["tally"]["c1"], "c2": review["tally"]["c2"] + 1}
    with trame.db.read() as cur:
        authors = [r["author"] for r in cur.execute("SELECT author FROM journal WHERE event = 'charte.PollVoted'").fetchall()]
    assert authors[-1] == f"lien:{review['poll_id']}"
