"""Date polls through each structure's own voting link: no account, a vote changed until the poll
closes, and the poll page listing who has not answered."""

from __future__ import annotations

import html
import re
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import csrf_of, login
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h

SPIP = "SPIP de l'Yonne"


def _poll(trame: Trame) -> tuple[dict[str, str], str, str]:
    """The CCAS carries the charter, the Mission locale signed it, the SPIP is invited without signing."""
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    svc.sign("joigny", cid, author=SYSTEM, structure_id=s["ml"], signatory_name="A B", signatory_role="directrice", signed_on="2010-03-12")
    svc.invite_partner("joigny", cid, s["spip"], author=SYSTEM, since="2010-04-01")
    poll = svc.open_poll("joigny", cid, author=SYSTEM, question="Quel créneau ?", slots=[(4, "09:00", "11:00"), (1, "14:00", "16:00")])
    return s, cid, poll


def _issue(client: Any, cid: str, poll: str) -> dict[str, str]:
    """Issue the links from the poll page; returns structure name -> token, as shown once."""
    page = client.get(f"/t/joigny/charte/{cid}/sondages/{poll}")
    shown = client.post(f"/t/joigny/charte/{cid}/sondages/{poll}/liens", data={"_csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[^<]*</td><td><code>[^<]*?/vote/([A-Za-z0-9_-]{43})</code>', shown.text)
    return {html.unescape(name): token for name, token in rows}


def test_each_structure_votes_through_its_own_link_and_may_change_its_vote(trame: Trame, client: Any) -> None:
    _s, cid, poll = _poll(trame)
    login(client, h.coordinator(trame).email)
    page = html.unescape(client.get(f"/t/joigny/charte/{cid}/sondages/{poll}").text)
    waiting = page.split("Pas encore répondu", 1)[1].split("</section>", 1)[0]
    assert [n for n in ("CCAS de Joigny", "Mission locale de Joigny", "SPIP de l'Yonne", "CLIC de Joigny") if n in waiting] == [
        "CCAS de Joigny",
        "Mission locale de Joigny",
        "SPIP de l'Yonne",
    ]
    tokens = _issue(client, cid, poll)
    assert sorted(tokens) == ["CCAS de Joigny", "Mission locale de Joigny", "SPIP de l'Yonne"]
    with trame.db.read() as cur:  # only digests are kept, and the journal does not show them
        stored = " ".join(str(tuple(r)) for r in cur.execute("SELECT * FROM charte_poll_links").fetchall())
        journal = " ".join(r["data"] for r in cur.execute("SELECT data FROM journal").fetchall())
    assert all(t not in stored and t not in journal for t in tokens.values())

    client.cookies.clear()  # the partner has no account
    url = f"/t/joigny/charte/vote/{tokens['Mission locale de Joigny']}"
    form = client.get(url)
    assert form.status_code == 200 and "Mission locale de Joigny" in form.text
    voted = client.post(url, data={"slot": "c2", "_csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert voted.status_code == 303
    again = client.get(url)
    assert 'value="c2" checked' in again.text and "Modifier mon vote" in again.text
    client.post(url, data={"slot": ["c1", "c2"], "_csrf_token": csrf_of(again.text)})
    p = charters(trame).poll("joigny", poll)
    assert p["tally"] == {"c1": 1, "c2": 1}  # the later vote replaced the first
    assert [w["structure_name"] for w in p["waiting"]] == ["CCAS de Joigny", "SPIP de l'Yonne"]
    with trame.db.read() as cur:
        authors = {r["author"] for r in cur.execute("SELECT author FROM journal WHERE event = 'charte.PollVoted'").fetchall()}
    assert authors == {f"lien:{poll}"}  # the journal reads « réponse par lien de Mission locale de Joigny »

    charters(trame).adopt_poll("joigny", poll, author=SYSTEM, slot_id="c1")
    closed = client.get(url)
    assert "Ce sondage est clos" in closed.text and "<form" not in closed.text.split("<main", 1)[-1]
    refused = client.post(url, data={"slot": "c2", "_csrf_token": csrf_of(again.text)})
    assert refused.status_code == 409 and charters(trame).poll("joigny", poll)["tally"] == {"c1": 1, "c2": 1}


def test_a_new_link_replaces_the_old_one_and_a_link_votes_for_its_structure_only(trame: Trame, client: Any) -> None:
    s, cid, poll = _poll(trame)
    login(client, h.coordinator(trame).email)
    first = _issue(client, cid, poll)
    second = _issue(client, cid, poll)
    client.cookies.clear()
    assert client.get(f"/t/joigny/charte/vote/{first[SPIP]}").status_code == 404
    url = f"/t/joigny/charte/vote/{second[SPIP]}"
    client.post(url, data={"slot": "c1", "structure_id": s["ml"], "_csrf_token": csrf_of(client.get(url).text)})
    assert [v["structure_name"] for v in charters(trame).poll("joigny", poll)["voters"]] == ["SPIP de l'Yonne"]
    assert client.get("/t/joigny/charte/vote/" + "x" * 43).status_code == 404
