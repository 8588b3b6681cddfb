"""The printable booklet of the partners, as it is now and as it was on 5 January 2012."""

from __future__ import annotations

import html as markup
import re
from typing import Any

import pytest

from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user
from plugins.annuaire.schemas import ContactEnd, ContactIn, PersonIn, StructureIn, StructurePatch
from plugins.annuaire.service import directory
from plugins.annuaire.tests.test_exchange import territory


def fumel(trame: Trame) -> dict[str, str]:
    """Fumel's partners: the employment agency through its names, a café host, a later newcomer."""
    slug = territory(trame, "fumel", "Circonscription de Fumel")
    d = directory(trame)
    pe, _ = d.create_structure(
        slug,
        StructureIn(
            name="Pôle emploi Fumel",
            kind="france-travail",
            email="ape.fumel@pole-emploi.example",
            phone="39 49",
            themes=["emploi-insertion"],
            missions="Inscription et accompagnement des demandeurs d'emploi.",
            effective="2009-01-05",
        ),
        SYSTEM,
    )
    d.update_structure(slug, pe, StructurePatch(name="France Travail Fumel", effective="2024-01-01"), d.version(slug, pe), SYSTEM)
    cms, _ = d.create_structure(
        slug,
        StructureIn(
            name="Centre médico-social de Fumel",
            kind="cms",
            email="cms.fumel@lotetgaronne.example",
            themes=["sante", "famille"],
            address="Place Voltaire, 47500 Fumel",
            effective="2009-09-15",
        ),
        SYSTEM,
    )
    udaf, _ = d.create_structure(
        slug, StructureIn(name="Maison relais de l'UDAF", kind="maison-relais", themes=["logement"], effective="2013-03-01"), SYSTEM
    )
    old, _ = d.create_person(slug, PersonIn(name="Sylvie Ancienne", email="sylvie@pole-emploi.example"), SYSTEM)
    contact, _ = d.start_contact(slug, pe, ContactIn(person_id=old, role="referent", since="2010-01-15"), SYSTEM)
    d.end_contact(slug, pe, contact, ContactEnd(until="2015-06-30"), SYSTEM)
    new, _ = d.create_person(slug, PersonIn(name="Nadia Nouvelle", email="nadia@francetravail.example"), SYSTEM)
    d.start_contact(slug, pe, ContactIn(person_id=new, role="referent", since="2015-07-01"), SYSTEM)
    return {"pe": pe, "cms": cms, "udaf": udaf}


@pytest.fixture
def reader(trame: Trame, client: Any) -> dict[str, str]:
    ids = fumel(trame)
    member = make_user(trame, "membre@fumel.example", territory="fumel", role="member")
    login(client, member.email)
    return ids


def test_livret_as_of_2012_shows_the_old_name_the_cover_date_and_that_day_contacts(
    trame: Trame, client: Any, reader: dict[str, str]
) -> None:
    page = client.get("/t/fumel/annuaire/livret?as_of=2012-01-05")
    assert page.status_code == 200, page.text
    html = markup.unescape(page.text)
    cover = html.split('class="livret-toc"')[0]
    assert "Livret des partenaires" in cover and "Circonscription de Fumel" in cover
    assert "5 janvier 2012" in cover and 'datetime="2012-01-05"' in cover
    assert re.search(r"<h3 [^>]*>Pôle emploi Fumel", html)
    assert "France Travail Fumel" not in html
    assert "Centre médico-social de Fumel" in html
    assert "Maison relais de l'UDAF" not in html  # joined in 2013
    assert "Sylvie Ancienne" in html and "Nadia Nouvelle" not in html
    assert "Contacts au 5 janvier 2012" in html
    # generic e-mail first on the sheet
    sheet = html.split(f'id="fiche-{reader["pe"]}"')[1].split("</article>")[0]
    assert sheet.index("ape.fumel@pole-emploi.example") < sheet.index("sylvie@pole-emploi.example")
    # the table of contents links each sheet
    toc = html.split('class="livret-toc"')[1].split("</nav>")[0]
    assert f'href="#fiche-{reader["pe"]}"' in toc and f'href="#fiche-{reader["cms"]}"' in toc


def test_livret_today_grouped_by_theme_prints_each_sheet_once(trame: Trame, client: Any, reader: dict[str, str]) -> None:
    page = client.get("/t/fumel/annuaire/livret?group=theme")
    assert page.status_code == 200
    html = markup.unescape(page.text)
    assert re.search(r"<h3 [^>]*>France Travail Fumel", html) and "Nadia Nouvelle" in html and "Sylvie Ancienne" not in html
    assert html.count(f'<article class="sheet-page" id="fiche-{reader["cms"]}"') == 1  # santé, and a reference under famille
    assert "Santé" in html and "Famille, parentalité" in html and "Voir aussi" in html
    assert "Maison relais de l'UDAF" in html


def test_livret_is_printable_and_checks_its_dates(trame: Trame, client: Any, reader: dict[str, str]) -> None:
    css = client.get("/static/trame.css").text
    assert "/* livret */" in css and "break-before: page" in css and "size: A4" in css
    bad = client.get("/t/fumel/annuaire/livret?as_of=5 janvier")
    assert bad.status_code == 400 and "as_of" in bad.text
    # a past state as it was known then (transaction time): nothing recorded later shows
    known = client.get("/t/fumel/annuaire/livret?as_of=2012-01-05&known_at=2000-01-01")
    assert known.status_code == 200 and "Pôle emploi Fumel" not in known.text
    assert "aucune structure" in known.text


def test_livret_of_another_territory_is_refused(trame: Trame, client: Any, reader: dict[str, str]) -> None:
    territory(trame, "agen")
    assert client.get("/t/agen/annuaire/livret").status_code == 403
