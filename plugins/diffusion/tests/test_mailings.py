"""Mailings to the group through the core's queue, read from a real local SMTP server: one
message per address, generic addresses first, a queue that survives a restart and retries a
failing server, a log per recipient, unsubscribe per list, and the addresses to copy without SMTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock, mailings
from core.application import Trame
from core.database import open_database
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import url_of
from plugins.annuaire.public import directory
from plugins.annuaire.schemas import ContactIn, PersonIn, StructureIn
from tests.smtp import smtp_capture, text_of

AUTHOR = "coordination"


def _territory(trame: Trame) -> dict[str, str]:
    trame.territories.create("meaux", "Meaux et Provins", author=SYSTEM)
    for p in ("annuaire", "diffusion"):
        trame.territories.enable("meaux", p, author=SYSTEM)
    svc = directory(trame)

    def structure(name: str, email: str | None, themes: list[str]) -> str:
        return svc.create_structure("meaux", StructureIn(name=name, email=email, themes=themes), SYSTEM)[0]

    ids = {
        "ccas": structure("CCAS de Meaux", "accueil@ccas-meaux.example", ["logement"]),
        "secours": structure("Secours populaire, comité de Meaux", None, ["logement"]),
        "ml": structure("Mission locale du Pays de Meaux", "contact@ml-meaux.example", ["emploi-insertion"]),
    }
    people = {
        "benevole": ("Odile Garnier", "odile.garnier@perso.example", "secours", "referent"),
        "directrice": ("Nadia Lefort", "n.lefort@ccas-meaux.example", "ccas", "direction"),
        "conseiller": ("Karim Vasseur", "k.vasseur@ml-meaux.example", "ml", "referent"),
    }
    for key, (name, email, sid, role) in people.items():
        person_id, _ = svc.create_person("meaux", PersonIn(name=name, email=email), SYSTEM)
        svc.start_contact("meaux", ids[sid], ContactIn(person_id=person_id, role=role, since="2011-01-01"), SYSTEM)
        ids[key] = person_id
    return ids


def _later(minutes: float) -> str:
    return clock.instant(clock.to_datetime(clock.now()) + timedelta(minutes=minutes))


def test_a_mailing_goes_to_generic_addresses_first_one_message_each(trame: Trame) -> None:
    ids = _territory(trame)
    with smtp_capture(trame) as inbox:
        mailing_id = mailings.queue(
            trame,
            "meaux",
            author=AUTHOR,
            list_key="annuaire.territoire",
            subject="Compte rendu du groupe de travail",
            body="Bonjour,\nVoici le compte rendu.",
            attachments=[mailings.Attachment(filename="compte-rendu.txt", content_type="text/plain", data="Aide-mémoire".encode())],
        )
        assert inbox.messages == []  # queued: nothing is sent while the coordinator waits
        report = mailings.send_due(trame)
    assert report.sent == 3
    # The CCAS and the Mission locale have generic addresses; the Secours populaire has none, so its volunteer's.
    assert sorted(r for rcpt, _ in inbox.messages for r in rcpt) == [
        "accueil@ccas-meaux.example",
        "contact@ml-meaux.example",
        "odile.garnier@perso.example",
    ]
    for rcpt, message in inbox.messages:
        assert message["To"] == rcpt[0] and len(rcpt) == 1
        assert [p.get_filename() for p in message.walk() if p.get_filename()] == ["compte-rendu.txt"]
    (personal,) = inbox.to("odile.garnier@perso.example")
    assert "/t/meaux/diffusion/desabonnement/" in text_of(personal) and personal["List-Unsubscribe"]
    assert "desabonnement" not in text_of(inbox.to("accueil@ccas-meaux.example")[0])
    log = mailings.log(trame, "meaux", mailing_id)
    assert {line.status for line in log} == {"sent"} and len(log) == 3
    assert ids["directrice"]  # a manager of a structure with a generic address is not written to personally


def test_the_queue_survives_a_restart_and_retries_a_failing_server(trame: Trame) -> None:
    _territory(trame)
    with smtp_capture(trame) as inbox:
        mailing_id = mailings.queue(trame, "meaux", author=AUTHOR, list_key="annuaire.theme.logement", subject="Réunion", body="Texte")
        inbox.stop()  # the SMTP server goes down
        report = mailings.send_due(trame)
        assert report.deferred == 2 and report.sent == 0
        lines = mailings.log(trame, "meaux", mailing_id)
        assert all(line.status == "pending" and line.attempts == 1 and line.status_label.startswith("nouvel essai le") for line in lines)
        assert mailings.send_due(trame).done == 0  # not before its retry time
        inbox.start()

        # A restart: a new process on the same store finds the queue where it was.
        again = Trame(trame.settings, db=open_database(url_of(trame)))
        try:
            report = mailings.send_due(again, now=_later(2))
        finally:
            again.close()
    assert report.sent == 2
    assert sorted(r for rcpt, _ in inbox.messages for r in rcpt) == ["accueil@ccas-meaux.example", "odile.garnier@perso.example"]
    assert {(line.status, line.attempts) for line in mailings.log(trame, "meaux", mailing_id)} == {("sent", 2)}


def test_a_refused_address_is_logged_and_never_retried(trame: Trame) -> None:
    _territory(trame)
    with smtp_capture(trame) as inbox:
        inbox.refuse.add("contact@ml-meaux.example")
        mailing_id = mailings.queue(trame, "meaux", author=AUTHOR, list_key="annuaire.territoire", subject="Objet", body="Texte")
        report = mailings.send_due(trame)
        assert (report.sent, report.refused) == (2, 1)
        assert mailings.send_due(trame, now=_later(60 * 24)).done == 0
    refused = next(line for line in mailings.log(trame, "meaux", mailing_id) if line.address == "contact@ml-meaux.example")
    assert refused.status == "refused" and "550" in (refused.detail or "")
    (summary,) = mailings.history(trame, "meaux")
    assert (summary.total, summary.sent, summary.refused, summary.pending) == (3, 2, 1, 0)


def test_a_person_unsubscribes_from_one_list_only(trame: Trame) -> None:
    ids = _territory(trame)
    token = mailings.unsubscribe_token(trame, "meaux", "annuaire.territoire", ids["benevole"])
    assert mailings.read_token(trame, "meaux", token).already is False
    mailings.unsubscribe(trame, "meaux", token)
    mailings.unsubscribe(trame, "meaux", token)  # a second click changes nothing
    assert mailings.read_token(trame, "meaux", token).already is True
    assert "odile.garnier@perso.example" not in mailings.addresses(trame, "meaux", "annuaire.territoire")
    assert "odile.garnier@perso.example" in mailings.addresses(trame, "meaux", "annuaire.theme.logement")
    with pytest.raises(Refused):
        mailings.unsubscribe(trame, "meaux", token[:-3] + "xyz")  # a forged link
    with pytest.raises(Refused):
        mailings.read_token(trame, "agen", token)  # another territory's


def test_the_managers_list_writes_to_direction_contacts(trame: Trame) -> None:
    _territory(trame)
    assert mailings.addresses(trame, "meaux", "annuaire.responsables") == ["n.lefort@ccas-meaux.example"]


def test_without_smtp_the_page_gives_addresses_to_copy_and_nothing_is_queued(trame: Trame) -> None:
    _territory(trame)
    assert sorted(mailings.addresses(trame, "meaux", "annuaire.territoire")) == [
        "accueil@ccas-meaux.example",
        "contact@ml-meaux.example",
        "odile.garnier@perso.example",
    ]
    with pytest.raises(Refused) as refused:
        mailings.queue(trame, "meaux", author=AUTHOR, list_key="annuaire.territoire", subject="Objet", body="Texte")
    assert "copiez les adresses" in refused.value.message


def test_an_erased_person_leaves_the_queue_and_its_log(trame: Trame) -> None:
    ids = _territory(trame)
    with smtp_capture(trame) as inbox:
        mailing_id = mailings.queue(trame, "meaux", author=AUTHOR, list_key="annuaire.theme.logement", subject="Objet", body="Texte")
        directory(trame).erase_person("meaux", ids["benevole"], SYSTEM)
        mailings.send_due(trame)
    assert [r for rcpt, _ in inbox.messages for r in rcpt] == ["accueil@ccas-meaux.example"]
    lines = mailings.log(trame, "meaux", mailing_id)
    assert "odile.garnier@perso.example" not in [line.address for line in lines]
    assert any(line.personal and line.address is None and line.status == "abandoned" for line in lines)
