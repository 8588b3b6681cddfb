"""Services of the directory's structures, and "qui peut aider ?", on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from core import clock
from core.application import Trame
from core.refusals import Refused, Why
from core.store import SYSTEM
from core.testing import login, make_user, refused
from plugins.annuaire import demo, demo_services
from plugins.annuaire.schemas import StructureIn
from plugins.annuaire.service import Directory
from plugins.annuaire.services import ServiceIn, ServicePatch, services
from plugins.annuaire.tests.conftest import open_territory


def _demo(trame: Trame, slug: str) -> None:
    open_territory(trame, slug)
    demo_services.load(trame, slug, demo.load(trame, slug))


def _food(**extra: object) -> ServiceIn:
    fields = {
        "name": "Aide alimentaire d'urgence",
        "description": "Colis alimentaires après un entretien.",
        "type": "aide-materielle",
        "themes": ["equipement-et-alimentation--alimentation"],
        "publics": ["tous-publics"],
        "fees": "gratuit",
    }
    return msgspec.convert({**fields, **extra}, ServiceIn)


def test_a_service_changes_stops_and_restarts_with_its_history(trame: Trame, d: Directory, agen: str) -> None:
    sid, _ = d.create_structure(agen, StructureIn(name="CCAS d'Agen", kind="ccas", communes=["Agen"], effective="2005-01-01"), SYSTEM)
    svc = services(trame)
    service_id = svc.offer(agen, sid, _food(effective="2010-01-04"), author="alice@example.org")
    svc.change(
        agen, service_id, ServicePatch(fees="payant", fees_details="1 € par colis", effective="2015-03-02"), author="bob@example.org"
    )
    assert svc.get(agen, service_id, as_of=clock.parse("2012-06-01")).fees == "gratuit"  # type: ignore[union-attr]
    now = svc.get(agen, service_id)
    assert now is not None and now.fees == "payant" and now.fees_label == "Payant"
    assert now.theme_labels == ["Équipement et alimentation › Alimentation"]
    # as known before the change was recorded, 2016 still read "gratuit"
    first = svc.history(agen, service_id)[0]
    assert svc.get(agen, service_id, as_of=clock.parse("2016-01-01"), known_at=first.recorded_at).fees == "gratuit"  # type: ignore[union-attr]
    assert svc.get(agen, service_id, as_of=clock.parse("2009-12-31")) is None  # not offered yet

    svc.stop(agen, service_id, author="bob@example.org", effective="2019-07-01", reason="Fin du financement")
    svc.restart(agen, service_id, author="bob@example.org", effective="2020-01-06")
    assert svc.get(agen, service_id, as_of=clock.parse("2019-09-01")) is None
    assert [s.id for s in svc.of_structure(agen, sid)] == [service_id]
    history = svc.history(agen, service_id)
    assert [(h.label, h.author) for h in history] == [
        ("Nouveau service", "alice@example.org"),
        ("Modification du service", "bob@example.org"),
        ("Arrêt du service", "bob@example.org"),
        ("Reprise du service", "bob@example.org"),
    ]
    assert history[1].changes == [("fees", "gratuit", "payant"), ("fees_details", None, "1 € par colis")]
    assert history[2].reason == "Fin du financement"
    with pytest.raises(Refused) as stopped_twice:
        svc.restart(agen, service_id, author="bob@example.org")
    assert stopped_twice.value.status == 409


def test_codes_outside_the_referential_are_refused_with_their_field(trame: Trame, d: Directory, agen: str) -> None:
    sid, _ = d.create_structure(agen, StructureIn(name="CCAS d'Agen"), SYSTEM)
    svc = services(trame)
    with pytest.raises(Refused) as bad_theme:
        svc.offer(agen, sid, _food(themes=["alimentation"]), author=SYSTEM)
    assert bad_theme.value.field == "themes" and "référentiel" in bad_theme.value.message
    with pytest.raises(Refused) as mixed:
        svc.offer(agen, sid, _food(publics=["tous-publics", "jeunes"]), author=SYSTEM)
    assert mixed.value.field == "publics"


def test_another_territorys_structure_is_not_found(trame: Trame, d: Directory, agen: str) -> None:
    other = open_territory(trame, "fumel")
    sid, _ = d.create_structure(other, StructureIn(name="CCAS de Fumel"), SYSTEM)
    with refused(Why.ABSENT):
        services(trame).offer(agen, sid, _food(), author=SYSTEM)


def test_food_aid_in_fumel_and_housing_in_one_search(trame: Trame) -> None:
    _demo(trame, "fumel")
    svc = services(trame)
    question = svc.read_question("fumel", "aide alimentaire à Fumel")
    assert question.commune == "Fumel"
    found = svc.who_can_help("fumel", question)
    assert {a.structure.name for a in found} == {"CCAS de Fumel", "Associations caritatives du Fumélois"}
    ccas = next(a for a in found if a.structure.name == "CCAS de Fumel")
    assert ccas.contact is not None and ccas.contact.person.name == "Gilles Pujol"
    housing = svc.who_can_help("fumel", svc.read_question("fumel", "", theme="logement-hebergement", commune="Fumel"))
    names = {a.structure.name for a in housing}
    assert {"CHRS du Fumélois", "Maison relais de l'Udaf"} <= names
    relais = next(a for a in housing if a.structure.name == "Maison relais de l'Udaf")
    assert relais.contact is not None and relais.contact.person.name == "Damien Rouquette"
    # accents and case ignored, the commune named without its accent
    assert svc.who_can_help("fumel", svc.read_question("fumel", "HEBERGEMENT fumel"))


def test_employment_in_meaux_names_the_contact_of_the_date_asked(trame: Trame) -> None:
    _demo(trame, "meaux")
    svc = services(trame)
    question = svc.read_question("meaux", "emploi à Meaux")

    def agency(as_of: str | None) -> tuple[str, str | None]:
        found = svc.who_can_help("meaux", question, as_of=as_of)
        a = next(a for a in found if a.service.referral_link == "https://www.francetravail.fr/")
        return a.structure.name, a.contact.person.name if a.contact else None

    assert agency(clock.parse("2012-01-05", end_of_day=True)) == ("Pôle emploi – agence de Meaux", "Fabrice Noël")
    name, contact = agency(None)
    assert contact == "Sandrine Aubriot" and name.startswith("France Travail")
    assert svc.who_can_help("meaux", question, as_of=clock.parse("2010-01-01")) == []  # before the network's services


def test_food_aid_in_agen(trame: Trame) -> None:
    _demo(trame, "agen")
    svc = services(trame)
    found = svc.who_can_help("agen", svc.read_question("agen", "aide alimentaire à Agen"))
    assert [a.structure.name for a in found][:1] == ["Centre médico-social de Montanou"]
    assert found[0].contact is not None and found[0].contact.person.name == "Marion Sarrazin"


def test_the_territory_page_asks_who_can_help_in_one_search(trame: Trame, client: Any) -> None:
    _demo(trame, "fumel")
    user = make_user(trame, "membre@example.org", territory="fumel", role="member")
    login(client, user.email)
    home = client.get("/t/fumel/")
    assert 'action="/t/fumel/annuaire/qui-peut-aider"' in home.text
    page = client.get("/t/fumel/annuaire/qui-peut-aider", params={"q": "aide alimentaire à Fumel"})
    assert page.status_code == 200
    assert "CCAS de Fumel" in page.text and "Gilles Pujol" in page.text
    service_id = re.findall(r"/annuaire/services/([0-9a-f-]{36})", page.text)[0]
    sheet = client.get(f"/t/fumel/annuaire/services/{service_id}")
    assert sheet.status_code == 200 and "Historique" in sheet.text and "Nouveau service" in sheet.text
