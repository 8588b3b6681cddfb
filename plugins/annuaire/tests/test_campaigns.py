"""Update campaigns: review links to referents, "Toujours exact", and the sheets to chase."""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any
from uuid import UUID

import msgspec
import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient

from core import clock
from core.application import Trame
from core.store import SYSTEM
from core.testing import csrf_of, login, post_form
from plugins.annuaire.campaigns import campaigns, digest_of
from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn
from plugins.annuaire.service import directory
from plugins.annuaire.tests.test_exchange import coordinator, territory


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def bodies(self) -> dict[str, str]:
        """recipient -> plain text body"""
        out = {}
        for envelope in self.envelopes:
            mail = message_from_bytes(envelope.original_content, policy=policy.default)
            body = mail.get_body(preferencelist=("plain",))
            assert body is not None
            for rcpt in envelope.rcpt_tos:
                out[rcpt] = body.get_content()
        return out


@pytest.fixture
def smtp(trame: Trame) -> Iterator[Inbox]:
    """A real SMTP server on a free local port, and the application configured to use it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    trame.settings = dataclasses.replace(trame.settings, smtp_host="127.0.0.1", smtp_port=port, mail_from="reseau@meaux.example")
    try:
        yield inbox
    finally:
        controller.stop()


def _past(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    """Record what follows as if entered ``days`` ago."""
    moment = datetime.now(UTC) - timedelta(days=days)
    monkeypatch.setattr(clock, "now", lambda: clock.instant(moment))


def network(trame: Trame, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Meaux's directory, entered two years ago: three structures, two with a referent."""
    _past(monkeypatch, 800)
    slug = territory(trame, "meaux", "Meaux et Provins")
    d = directory(trame)
    ids = {}
    for key, name, email in (
        ("mds", "MDS de Meaux", "mds@meaux.example"),
        ("cr", "Croix-Rouge de Meaux", "meaux@croix-rouge.example"),
        ("cdc", "Cultures du cœur 77", "contact@culturesducoeur77.example"),
    ):
        ids[key], _ = d.create_structure(slug, StructureIn(name=name, email=email), SYSTEM)
    for key, person, email in (
        ("mds", "Cathy Clerc", "cathy.clerc@mds.example"),
        ("cr", "Marie Josée Chaumette", "mj@croix-rouge.example"),
    ):
        pid, _ = d.create_person(slug, PersonIn(name=person, email=email), SYSTEM)
        d.start_contact(slug, ids[key], ContactIn(person_id=pid, role="referent"), SYSTEM)
    monkeypatch.undo()
    return ids


def stale_ids(trame: Trame, months: int = 12) -> set[str]:
    return {s.structure.id for s in campaigns(trame).stale("meaux", months)}


def test_campaign_mails_each_referent_and_toujours_exact_clears_the_dashboard(
    trame: Trame, client: TestClient[Any], smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = network(trame, monkeypatch)
    user = coordinator(trame, "meaux")
    login(client, user.email)
    dashboard = client.get("/t/meaux/annuaire/campagnes")
    assert dashboard.status_code == 200
    assert "3 fiches non confirmées depuis 12 mois" in dashboard.text
    assert "cathy.clerc@mds.example" in dashboard.text and "contact@culturesducoeur77.example" in dashboard.text  # whom to chase
    assert stale_ids(trame) == set(ids.values())

    launched = post_form(
        client, "/t/meaux/annuaire/campagnes", "/t/meaux/annuaire/campagnes", {"titre": "Mise à jour 2012", "perimetre": "toutes"}
    )
    assert launched.status_code == 303, launched.text
    # One mail per structure, to its referent; the generic address when it has none.
    bodies = smtp.bodies()
    assert sorted(bodies) == ["cathy.clerc@mds.example", "contact@culturesducoeur77.example", "mj@croix-rouge.example"]
    assert len(smtp.envelopes) == 3
    subject = message_from_bytes(smtp.envelopes[0].original_content, policy=policy.default)["Subject"]
    assert "Meaux et Provins" in subject
    link = re.search(r"http://\S+/t/meaux/annuaire/revue/(\S+)", bodies["cathy.clerc@mds.example"])
    assert link, bodies["cathy.clerc@mds.example"]
    token = link.group(1)

    campaign_page = client.get(launched.headers["location"])
    assert campaign_page.status_code == 200 and "3 e-mails envoyés" in campaign_page.text and "en attente" in campaign_page.text

    # The referent opens the link without an account.
    from core.web.app import create_app

    with TestClient(create_app(trame)) as referent:
        review = referent.get(f"/t/meaux/annuaire/revue/{token}")
        assert review.status_code == 200, review.text
        assert "MDS de Meaux" in review.text and "Toujours exact" in review.text and "Cathy Clerc" in review.text
        answered = referent.post(f"/t/meaux/annuaire/revue/{token}", data={"reponse": "exact", "_csrf_token": csrf_of(review.text)})
        assert answered.status_code == 200 and "Merci" in answered.text
        # A forged or mistyped token opens nothing.
        assert referent.get(f"/t/meaux/annuaire/revue/{token[:-2]}xx").status_code == 404

    assert stale_ids(trame) == {ids["cr"], ids["cdc"]}
    dashboard = client.get("/t/meaux/annuaire/campagnes")
    assert "2 fiches non confirmées" in dashboard.text and "MDS de Meaux" not in dashboard.text.split("Lancer une campagne")[0]
    history = directory(trame).history("meaux", structure_id=ids["mds"])
    assert history[-1].label == "Fiche confirmée" and "Toujours exact" in (history[-1].reason or "")
    campaign = campaigns(trame).all("meaux")[0]
    assert campaign.counts == {"total": 3, "confirmed": 1, "edit": 0, "pending": 2}

    # The events keep the digest of the token, never the token itself.
    raw = b"".join(msgspec.json.encode(r.event) for r in trame.store.stream(UUID(campaign.id)))
    assert token.encode() not in raw and digest_of(token).encode() in raw


def test_without_smtp_the_links_are_listed_once_for_copying(trame: Trame, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ids = network(trame, monkeypatch)
    user = coordinator(trame, "meaux")
    login(client, user.email)
    page = post_form(client, "/t/meaux/annuaire/campagnes", "/t/meaux/annuaire/campagnes", {"titre": "Relecture", "perimetre": "toutes"})
    assert page.status_code == 200, page.text
    assert "Liens à transmettre" in page.text and "Aucun serveur" not in page.text
    links = re.findall(r'value="(http://[^"]+/t/meaux/annuaire/revue/[^"]+)"', page.text)
    assert len(links) == 3
    campaign = campaigns(trame).all("meaux")[0]
    assert campaign.counts["pending"] == 3
    assert all(link.channel == "copy" for link in campaign.links)
    # The campaign page, later, no longer shows them.
    later = client.get(f"/t/meaux/annuaire/campagnes/{campaign.id}")
    assert "/annuaire/revue/" not in later.text

    # "Corriger la fiche" is recorded, then leads to the edit form.
    token = links[0].rsplit("/", 1)[1]
    review = client.get(f"/t/meaux/annuaire/revue/{token}")
    edit = client.post(
        f"/t/meaux/annuaire/revue/{token}", data={"reponse": "modifier", "_csrf_token": csrf_of(review.text)}, follow_redirects=False
    )
    assert edit.status_code == 303 and re.fullmatch(r"/t/meaux/annuaire/structures/[0-9a-f-]+/modifier", edit.headers["location"])
    assert campaigns(trame).get("meaux", campaign.id).counts["edit"] == 1

    # Chasing issues new links; the old ones stop working.
    chased = post_form(client, f"/t/meaux/annuaire/campagnes/{campaign.id}", f"/t/meaux/annuaire/campagnes/{campaign.id}/relance", {})
    assert chased.status_code == 200 and len(re.findall(r'value="(http://[^"]+/annuaire/revue/[^"]+)"', chased.text)) == 2
    assert all(client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 404 for link in links[1:])

    # Closing the campaign ends every link.
    closed = post_form(client, f"/t/meaux/annuaire/campagnes/{campaign.id}", f"/t/meaux/annuaire/campagnes/{campaign.id}/cloture", {})
    assert closed.status_code == 303
    assert client.get(f"/t/meaux/annuaire/revue/{token}").status_code == 404
    assert set(ids)  # the structures are untouched


def test_dashboard_months_and_scope_of_a_campaign(trame: Trame, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ids = network(trame, monkeypatch)
    fresh, _ = directory(trame).create_structure("meaux", StructureIn(name="Maison de l'emploi"), SYSTEM)
    assert stale_ids(trame, 12) == set(ids.values())
    assert stale_ids(trame, 30) == set()  # entered 26 months ago
    assert fresh not in stale_ids(trame, 12) and fresh in stale_ids(trame, 0)  # joined just now
    _, links = campaigns(trame).launch("meaux", title="Les anciennes", author=SYSTEM, months=12)
    assert {link.structure.id for link in links} == set(ids.values())

    user = coordinator(trame, "meaux")
    listed = client.get("/api/v1/territories/meaux/structures/unconfirmed?months=12", headers=user.headers)
    assert listed.status_code == 200, listed.text
    chase = {item["name"]: item["chase"] for item in listed.json()}
    assert set(chase) == {"MDS de Meaux", "Croix-Rouge de Meaux", "Cultures du cœur 77"}
    assert chase["MDS de Meaux"] == {
        "kind": "person",
        "label": "Cathy Clerc (référent·e)",
        "email": "cathy.clerc@mds.example",
        "phone": None,
    }
    assert chase["Cultures du cœur 77"]["kind"] == "structure"
    assert client.get("/api/v1/territories/meaux/structures/unconfirmed?months=-1", headers=user.headers).status_code == 400


def test_only_coordinators_run_campaigns(trame: Trame, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    network(trame, monkeypatch)
    from core.testing import make_user

    member = make_user(trame, "membre@meaux.example", territory="meaux", role="member")
    login(client, member.email)
    assert client.get("/t/meaux/annuaire/campagnes").status_code == 403
    assert client.get("/t/meaux/annuaire/livret").status_code == 200


def test_a_referent_confirms_the_structure_services_with_its_sheet(trame: Trame, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.annuaire.services import ServiceIn, services

    ids = network(trame, monkeypatch)
    _past(monkeypatch, 700)  # offered long ago, as its sheet was entered
    svc = services(trame)
    food = svc.offer(
        "meaux", ids["cr"],
        msgspec.convert({"name": "Aide alimentaire", "description": "Colis alimentaires après un entretien.",
                         "themes": ["equipement-et-alimentation--alimentation"], "fees": "gratuit"}, ServiceIn),
        author=SYSTEM,
    )  # fmt: skip
    clothes = svc.offer("meaux", ids["cr"], ServiceIn(name="Vestiboutique", description="Vêtements à petits prix."), author=SYSTEM)
    monkeypatch.undo()
    svc.stop("meaux", clothes, author=SYSTEM)  # no longer offered: nothing to confirm
    assert svc.get("meaux", food).confirmed_at is not None  # type: ignore[union-attr]  # offering is a first confirmation
    before = svc.get("meaux", food).confirmed_at  # type: ignore[union-attr]

    _, links = campaigns(trame).launch("meaux", title="Mise à jour 2012", author=SYSTEM)
    token = next(link.url for link in links if link.structure.id == ids["cr"]).rsplit("/", 1)[1]
    review = campaigns(trame).review("meaux", token)
    assert [s.name for s in review.services] == ["Aide alimentaire"]

    from core.web.app import create_app

    with TestClient(create_app(trame)) as referent:
        page = referent.get(f"/t/meaux/annuaire/revue/{token}")
        assert page.status_code == 200 and "Aide alimentaire" in page.text and "Vestiboutique" not in page.text
        assert "confirme la fiche et ses 1 service" in page.text
        answered = referent.post(f"/t/meaux/annuaire/revue/{token}", data={"reponse": "exact", "_csrf_token": csrf_of(page.text)})
        assert answered.status_code == 200 and "La fiche et ses services sont enregistrés" in answered.text

    confirmed = svc.get("meaux", food)
    assert confirmed is not None and confirmed.confirmed_at is not None and before is not None and confirmed.confirmed_at > before
    line = svc.history("meaux", food)[-1]
    assert line.label == "Service confirmé" and "Toujours exact" in (line.reason or "")
    assert [h.label for h in svc.history("meaux", clothes)] == ["Nouveau service", "Arrêt du service"]
