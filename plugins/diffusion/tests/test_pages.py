"""The mailing pages as a coordinator uses them, and the unsubscribe link as a contact does."""

from __future__ import annotations

import html
from typing import Any

from litestar.testing import TestClient

from core import mailings
from core.application import Trame
from core.store import SYSTEM
from core.testing import login, make_user, post_form
from plugins.annuaire.public import directory
from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn
from tests.smtp import smtp_capture, text_of


def _setup(trame: Trame) -> str:
    trame.territories.create("meaux", "Meaux et Provins", author=SYSTEM)
    for p in ("annuaire", "diffusion"):
        trame.territories.enable("meaux", p, author=SYSTEM)
    svc = directory(trame)
    svc.create_structure("meaux", StructureIn(name="CCAS de Meaux", email="accueil@ccas-meaux.example"), SYSTEM)
    secours, _ = svc.create_structure("meaux", StructureIn(name="Secours populaire, comité de Meaux"), SYSTEM)
    person_id, _ = svc.create_person("meaux", PersonIn(name="Odile Garnier", email="odile.garnier@perso.example"), SYSTEM)
    svc.start_contact("meaux", secours, ContactIn(person_id=person_id, role="referent", since="2011-01-01"), SYSTEM)
    make_user(trame, "coordination@meaux.example", territory="meaux", role="coordinator")
    return person_id


def test_without_smtp_the_coordinator_copies_the_addresses(trame: Trame, client: TestClient[Any]) -> None:
    _setup(trame)
    login(client, "coordination@meaux.example")
    page = client.get("/t/meaux/diffusion/?liste=annuaire.territoire")
    assert page.status_code == 200
    assert "accueil@ccas-meaux.example\nodile.garnier@perso.example" in page.text
    assert "Aucun serveur d'envoi" in page.text and 'name="subject"' not in page.text


def test_a_coordinator_writes_to_the_territory_and_reads_the_log(trame: Trame, client: TestClient[Any]) -> None:
    _setup(trame)
    login(client, "coordination@meaux.example")
    with smtp_capture(trame) as inbox:
        page_url = "/t/meaux/diffusion/?liste=annuaire.territoire"
        refused = post_form(client, page_url, "/t/meaux/diffusion/", {"list_key": "annuaire.territoire", "subject": "", "body": "Texte"})
        assert refused.status_code == 400 and "Donnez un objet" in refused.text and "Texte" in refused.text
        response = post_form(
            client, page_url, "/t/meaux/diffusion/", {"list_key": "annuaire.territoire", "subject": "Groupe de travail", "body": "Bonjour"}
        )
        assert response.status_code == 303
        mailing_url = response.headers["location"]
        assert "en attente d'envoi" in html.unescape(client.get(mailing_url).text)
        mailings.send_due(trame)
        log = client.get(mailing_url).text
        assert log.count("envoyé") == 2 and "odile.garnier@perso.example (personnelle)" in log
        link = next(line for line in text_of(inbox.to("odile.garnier@perso.example")[0]).splitlines() if "desabonnement" in line)
    path = link[link.index("/t/meaux/") :].strip()
    client.cookies.clear()
    form = client.get(path)
    assert form.status_code == 200 and "Tout le territoire" in form.text
    done = post_form(client, path, path, {})
    assert done.status_code == 200 and "C'est fait" in done.text
    assert mailings.addresses(trame, "meaux", "annuaire.territoire") == ["accueil@ccas-meaux.example"]
