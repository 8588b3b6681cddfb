"""A partner corrects its own sheet and contacts through the campaign's review link, without an
account (issue 17); each change says it came « via le lien de revue », counts as the structure's
own word for freshness, and the coordinator reviews and reverts it on the campaign's page."""

from __future__ import annotations

import html
from typing import Any

import pytest
from litestar.testing import TestClient

from core.application import Trame
from core.store import SYSTEM
from core.testing import csrf_of, login, post_form
from plugins.annuaire.campaigns import campaigns, freshness
from plugins.annuaire.service import directory
from plugins.annuaire.tests.test_campaigns import network
from plugins.annuaire.tests.test_exchange import coordinator


def _link(trame: Trame, structure_id: str) -> str:
    _, links = campaigns(trame).launch("meaux", title="Mise à jour 2012", author=SYSTEM)
    return next(link.url for link in links if link.structure.id == structure_id).rsplit("/", 1)[1]


def test_a_partner_corrects_its_sheet_and_contacts_through_the_link_and_the_coordinator_reverts_one(
    trame: Trame, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = network(trame, monkeypatch)
    token = _link(trame, ids["cr"])
    base = f"/t/meaux/annuaire/revue/{token}"
    from core.web.app import create_app

    with TestClient(create_app(trame)) as partner:  # no account, no session: the link alone
        review = partner.get(base)
        chosen = partner.post(base, data={"reponse": "modifier", "_csrf_token": csrf_of(review.text)}, follow_redirects=False)
        assert chosen.status_code == 303 and chosen.headers["location"] == f"{base}/corriger"
        form = partner.get(f"{base}/corriger")
        assert form.status_code == 200 and 'value="Croix-Rouge de Meaux"' in form.text
        sheet = {"_csrf_token": csrf_of(form.text), "name": "Croix-Rouge de Meaux", "email": "meaux@croix-rouge.example"}
        saved = partner.post(f"{base}/fiche", data={**sheet, "phone": "01 60 09 12 34", "communes": "Meaux\nTrilport"})
        assert saved.status_code == 200 and "Votre correction est enregistrée" in saved.text
        contact = directory(trame).contacts("meaux", ids["cr"])[0]
        fixed = partner.post(
            f"{base}/contacts/{contact.id}",
            data={"_csrf_token": csrf_of(form.text), "email": "mj.chaumette@croix-rouge.example", "phone": "", "title": "Présidente"},
        )
        assert fixed.status_code == 200
        added = partner.post(
            f"{base}/contacts",
            data={
                "_csrf_token": csrf_of(form.text),
                "contact_name": "Paul Henry",
                "contact_role": "direction",
                "contact_title": "Trésorier",
            },
        )
        assert added.status_code == 200
        refused = partner.post(f"{base}/fiche", data={**sheet, "name": ""})
        assert refused.status_code == 400 and "Le nom de la structure est obligatoire." in html.unescape(refused.text)
        # The link opens this structure only: another's contact is not reachable through it.
        other = directory(trame).contacts("meaux", ids["mds"])[0]
        assert (
            partner.post(f"{base}/contacts/{other.id}", data={"_csrf_token": csrf_of(form.text), "email": "x@y.example"}).status_code == 404
        )

    s = directory(trame).get_structure("meaux", ids["cr"])
    assert s is not None and s.phone == "01 60 09 12 34" and s.communes == ["Meaux", "Trilport"]
    people = {c.person.name: c for c in directory(trame).contacts("meaux", ids["cr"])}
    assert people["Marie Josée Chaumette"].person.email == "mj.chaumette@croix-rouge.example"
    assert people["Marie Josée Chaumette"].title == "Présidente" and people["Paul Henry"].title == "Trésorier"
    history = directory(trame).history("meaux", structure_id=ids["cr"])
    changed = [h for h in history if h.event == "annuaire.StructureChanged"]
    assert changed[-1].reason == "via le lien de revue de Croix-Rouge de Meaux"
    assert all(h.reason == "via le lien de revue de Croix-Rouge de Meaux" for h in history if h.author.startswith("campagne:"))
    assert freshness(trame, "meaux")[ids["cr"]] > "2020"  # the structure's own change: fresh again
    campaign = campaigns(trame).all("meaux")[0]
    assert {link.structure_id: link.status for link in campaigns(trame).get("meaux", campaign.id).links}[ids["cr"]] == "corrigée"

    # The coordinator sees each correction on the campaign's page and reverts the sheet's.
    login(client, coordinator(trame, "meaux").email)
    url = f"/t/meaux/annuaire/campagnes/{campaign.id}"
    page = client.get(url)
    assert "Corrections faites par les liens de revue" in page.text and "01 60 09 12 34" in page.text
    position = changed[-1].position
    reverted = post_form(client, url, f"{url}/annuler", {"position": str(position)})
    assert reverted.status_code == 303, reverted.text
    s = directory(trame).get_structure("meaux", ids["cr"])
    assert s is not None and s.phone is None and s.communes == [] and s.email == "meaux@croix-rouge.example"
    assert "annulée" in client.get(url).text
    again = post_form(client, url, f"{url}/annuler", {"position": str(position)})
    assert again.status_code == 409 and "déjà été annulée" in html.unescape(again.text)
    # The contact added through the link can be reverted too: the role ends.
    started = next(
        h
        for h in directory(trame).history("meaux", structure_id=ids["cr"])
        if h.event == "annuaire.ContactStarted" and h.author.startswith("campagne:")
    )
    assert post_form(client, url, f"{url}/annuler", {"position": str(started.position)}).status_code == 303
    assert "Paul Henry" not in {c.person.name for c in directory(trame).contacts("meaux", ids["cr"])}


def test_a_closed_campaign_s_link_corrects_nothing(trame: Trame, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = network(trame, monkeypatch)
    token = _link(trame, ids["mds"])
    from core.web.app import create_app

    with TestClient(create_app(trame)) as partner:
        form = partner.get(f"/t/meaux/annuaire/revue/{token}/corriger")
        assert form.status_code == 200
        campaigns(trame).close("meaux", campaigns(trame).all("meaux")[0].id, author=SYSTEM)
        posted = partner.post(f"/t/meaux/annuaire/revue/{token}/fiche", data={"_csrf_token": csrf_of(form.text), "name": "Autre nom"})
        assert posted.status_code == 404
        assert partner.get(f"/t/meaux/annuaire/revue/{token}/corriger").status_code == 404
    s = directory(trame).get_structure("meaux", ids["mds"])
    assert s is not None and s.name == "MDS de Meaux"
