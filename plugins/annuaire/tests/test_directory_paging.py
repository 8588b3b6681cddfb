"""The directory page through its links, as a person without JavaScript pages it: "Page
suivante" and "Page précédente" walk the structures in French name order (keyset paging),
with no structure twice and none skipped, today, at a past date and in a search; the count
says "Plus de N" past its cap; and the guard still keeps other territories out."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
from plugins.annuaire import directory_pages, service
from plugins.annuaire.schemas import StructureIn
from plugins.annuaire.service import directory

T = "agen"
ROOT = f"/t/{T}/annuaire/"

# In French name order: accents and case do not count ("École" beside "Ecole", "Élan" before
# "Épicerie", "Œuvre" as "oeuvre"), and two structures have the same name.
IN_ORDER = [
    "Abri de nuit",
    "CCAS d'Agen",
    "Centre social Montanou",
    "Ecole de musique",
    "École des parents",
    "Élan solidaire",
    "Épicerie sociale",
    "Mission locale",
    "mission locale",
    "Œuvre d'Agen",
    "Zèbre – association",
]


def _territory(trame: Trame, slug: str) -> None:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    trame.territories.enable(slug, "annuaire", author=SYSTEM)


@pytest.fixture
def network(trame: Trame) -> dict[str, str]:
    """The eleven structures, created in an order unrelated to their names: name -> id."""
    _territory(trame, T)
    d = directory(trame)
    ids = {}
    for name in sorted(IN_ORDER, key=lambda n: n[::-1]):
        ids[name], _ = d.create_structure(T, StructureIn(name=name, communes=["Agen"], effective="2010-01-04"), SYSTEM)
    return ids


@pytest.fixture
def member(trame: Trame, client: TestClient[Any], network: dict[str, str]) -> TestClient[Any]:
    make_user(trame, "membre@exemple.fr", territory=T, role="member")
    login(client, "membre@exemple.fr")
    return client


def in_order(network: dict[str, str]) -> list[str]:
    """The ids in French name order; the homonyms in a stable order (their ids)."""
    homonyms = sorted([network["Mission locale"], network["mission locale"]])
    return [network[n] for n in IN_ORDER[:7]] + homonyms + [network[n] for n in IN_ORDER[9:]]


def listed_ids(text: str) -> list[str]:
    """The structures of a results page, in the order shown."""
    results = text.split('id="resultats"')[1]
    return re.findall(r'<th scope="row"><a href="[^"]*/structures/([0-9a-f-]+)', results)


def link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', text)
    return ROOT + html.unescape(found.group(1)) if found else None


def walk(client: TestClient[Any], start: str) -> tuple[list[list[str]], list[str]]:
    """Follow "Page suivante" from ``start`` to the end: (ids of each page, texts of each page)."""
    pages_seen: list[list[str]] = []
    texts: list[str] = []
    url: str | None = start
    while url is not None:
        r = client.get(url)
        assert r.status_code == 200, r.text
        pages_seen.append(listed_ids(r.text))
        texts.append(r.text)
        url = link(r.text, "next")
        assert len(pages_seen) < 20, "the next links go round in circles"
    return pages_seen, texts


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory_pages, "PAGE_SIZE", 4)


def test_next_links_walk_the_directory_in_french_name_order(member: TestClient[Any], network: dict[str, str], small_pages: None) -> None:
    seen, texts = walk(member, ROOT)
    assert [len(p) for p in seen] == [4, 4, 3]
    flat = [i for p in seen for i in p]
    assert len(flat) == len(set(flat)) == len(IN_ORDER)  # none twice, none skipped
    # The same name twice: both listed, side by side (here across the page boundary), in a stable order.
    assert flat == in_order(network)
    assert "11 structures" in texts[0] and "Page 1 sur 3" in texts[0] and 'rel="prev"' not in texts[0]
    assert "Page 2 sur 3" in texts[1] and "Page 3 sur 3" in texts[2] and 'rel="next"' not in texts[2]
    # Back from the last page: exactly the pages seen on the way.
    second = member.get(link(texts[2], "prev"))  # type: ignore[arg-type]
    assert listed_ids(second.text) == seen[1] and "Page 2 sur 3" in second.text
    first = member.get(link(second.text, "prev"))  # type: ignore[arg-type]
    assert listed_ids(first.text) == seen[0] and "Page 1 sur 3" in first.text and 'rel="prev"' not in first.text


def test_paging_keeps_the_filters_and_a_structure_added_meanwhile_shifts_nothing(
    trame: Trame, member: TestClient[Any], network: dict[str, str], small_pages: None
) -> None:
    first = member.get(ROOT + "?commune=Agen")
    assert listed_ids(first.text) == in_order(network)[:4]
    # A structure joins before the boundary while the person reads page 1: page 2 starts after
    # the last structure they saw, not four rows further (OFFSET would show one of them again).
    directory(trame).create_structure(T, StructureIn(name="Accueil de jour", communes=["Agen"]), SYSTEM)
    following = link(first.text, "next")
    assert following is not None and "commune=Agen" in following
    second = member.get(following)
    assert listed_ids(second.text) == in_order(network)[4:8]


def test_a_past_date_pages_through_the_structures_of_that_date(
    trame: Trame, member: TestClient[Any], network: dict[str, str], small_pages: None
) -> None:
    d = directory(trame)
    d.leave_structure(T, network["CCAS d'Agen"], "2015-01-01", SYSTEM)
    later, _ = d.create_structure(T, StructureIn(name="Banque alimentaire", effective="2016-03-01"), SYSTEM)
    seen, texts = walk(member, ROOT + "?as_of=2012-06-01")
    flat = [i for p in seen for i in p]
    assert len(flat) == len(set(flat)) == len(IN_ORDER)  # the CCAS was still there, the bank not yet
    assert later not in flat and "as_of=2012-06-01" in (link(texts[0], "next") or "")
    today = [i for p in walk(member, ROOT)[0] for i in p]
    assert network["CCAS d'Agen"] not in today and later in today and len(today) == len(IN_ORDER)


def test_search_results_page_by_relevance_without_repeats(member: TestClient[Any], network: dict[str, str], small_pages: None) -> None:
    seen, texts = walk(member, ROOT + "?q=agen")  # every structure serves Agen: all match
    flat = [i for p in seen for i in p]
    assert len(flat) == len(set(flat)) == len(IN_ORDER)
    assert "11 structures pour « agen »" in texts[0]
    # Names matching best come first: the two with "Agen" in their name.
    assert set(flat[:2]) == {network["CCAS d'Agen"], network["Œuvre d'Agen"]}
    back = member.get(link(texts[1], "prev"))  # type: ignore[arg-type]
    assert listed_ids(back.text) == seen[0]


def test_the_count_is_capped(member: TestClient[Any], network: dict[str, str], small_pages: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "COUNT_CAP", 5)
    first = member.get(ROOT)
    assert "Plus de 5 structures" in first.text and " sur " not in first.text.split('class="pager')[1]
    seen, _ = walk(member, ROOT)
    assert len([i for p in seen for i in p]) == len(IN_ORDER)  # the cap hides nothing from the pages
    monkeypatch.setattr(service, "COUNT_CAP", 1000)
    directory_text = member.get(ROOT + "?q=zebre").text
    assert "1 structure pour « zebre »" in directory_text


def test_a_mangled_page_link_says_where_to_go(member: TestClient[Any], network: dict[str, str]) -> None:
    r = member.get(ROOT + "?apres=pas-un-curseur&page=2")
    assert r.status_code == 400 and "repartez de la première page" in r.text


def test_other_territories_stay_out_of_every_page(
    trame: Trame, client: TestClient[Any], network: dict[str, str], small_pages: None
) -> None:
    _territory(trame, "fumel")
    make_user(trame, "membre@exemple.fr", territory=T, role="member")
    make_user(trame, "fumel@exemple.fr", territory="fumel", role="coordinator")
    login(client, "membre@exemple.fr")
    second = link(client.get(ROOT).text, "next")
    assert second is not None
    client.cookies.clear()
    login(client, "fumel@exemple.fr")
    for url in (ROOT, second):
        r = client.get(url)
        assert r.status_code == 403 and "Vous ne faites pas partie de ce territoire" in r.text
        assert "Centre social" not in r.text
    trame.territories.disable("fumel", "annuaire", author=SYSTEM)
    assert client.get("/t/fumel/annuaire/").status_code == 404  # the module is off there


def test_the_directory_still_answers_while_a_rebuild_has_dropped_its_read_indexes(trame: Trame, member: TestClient[Any]) -> None:
    """A rebuild (in any process) drops the read-side indexes until its end: pages keep working."""
    with trame.db.write() as cur:
        for statement in trame.runner.projections["annuaire.structures"].indexes(trame.db.dialect):
            name = re.search(r"INDEX IF NOT EXISTS (\w+)", statement)
            assert name
            cur.execute(f"DROP INDEX IF EXISTS {name.group(1)}")
    time.sleep(1.1)  # what the directory knew of its indexes is a second old
    page = member.get(ROOT)
    assert page.status_code == 200 and "Abri de nuit" in page.text
