"""The directory's pages, through HTTP as a person would use them (forms, CSRF, redirects)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from markupsafe import Markup, escape

from core import clock
from core.application import Trame
from core.hookspecs import hookimpl
from core.plugins import PageSection, PluginInfo
from core.store import SYSTEM
from core.testing import User, login, make_user, post_form
from plugins.annuaire.schemas import ContactEnd, ContactIn, ContactPatch, PersonIn, PersonPatch, StructureIn, StructurePatch
from plugins.annuaire.service import directory


class SectionsPlugin:
    """Adds a section to structure pages, as the meetings plugin would."""

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="rubriques", title="Rubriques d'essai")

    @hookimpl
    def page_sections(
        self, trame: Trame, page: str, territory: str, subject_id: str, as_of: str, known_at: str | None
    ) -> list[PageSection]:
        if page != "annuaire.structure":
            return []
        name = directory(trame).get_structure(territory, subject_id, as_of).name  # type: ignore[union-attr]
        body = Markup("<p>Rencontres de <em>{}</em> au {}</p>").format(name, as_of[:10])
        return [PageSection(title="Rencontres <récentes>", html=str(body), order=20, plugin="rubriques")]


@pytest.fixture
def extra_plugins() -> list[object]:
    return [SectionsPlugin()]


T = "agen"
ROOT = f"/t/{T}/annuaire"


def territory(trame: Trame, slug: str = T, plugins: tuple[str, ...] = ("annuaire",)) -> None:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    for plugin in plugins:
        trame.territories.enable(slug, plugin, author=SYSTEM)


def network(trame: Trame, author: str = SYSTEM) -> dict[str, str]:
    """Pôle emploi (2008) renamed France Travail (2024), a CCAS, an MDS; a contact in 2009-2011."""
    d = directory(trame)
    ft, v = d.create_structure(
        T, StructureIn(name="Pôle emploi", kind="france-travail", email="agence.agen@pole-emploi.example", communes=["Agen"],
                       effective="2008-12-19", reason="Fusion ANPE et Assédic"), author)  # fmt: skip
    d.update_structure(T, ft, StructurePatch(name="France Travail", email="agence.agen@francetravail.example", effective="2024-01-01",
                       reason="Loi pour le plein emploi"), v, author)  # fmt: skip
    ccas, _ = d.create_structure(
        T, StructureIn(name="CCAS d'Épernon", acronym="CCAS", kind="ccas", email="accueil@ccas-epernon.example", communes=["Épernon"],
                       themes=["acces-aux-droits"], effective="2005-01-01"), author)  # fmt: skip
    mds, _ = d.create_structure(T, StructureIn(name="Maison départementale des solidarités", acronym="MDS", kind="mds",
                                               phone="05 53 00 00 00", effective="2006-01-01"), author)  # fmt: skip
    marie, _ = d.create_person(T, PersonIn(name="Marie Dupont", email="marie.dupont@pole-emploi.example"), author)
    d.start_contact(T, ft, ContactIn(person_id=marie, role="referent", since="2009-01-05"), author)
    return {"ft": ft, "ccas": ccas, "mds": mds, "marie": marie}


def signed_in(client: Any, trame: Trame, email: str, role: str, structure_id: str | None = None) -> User:
    user = make_user(trame, email, territory=T, role=role, structure_id=structure_id)
    login(client, email)
    return user


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


def results(page: Any) -> str:
    """The results part of the directory page (the filters name kinds too)."""
    return str(page.text).split('id="resultats"')[1]


def sheet_form(s: Any, **changes: str) -> dict[str, str]:
    """The edit form as the browser would post it, with some fields changed."""
    data = {
        "name": s.name, "acronym": s.acronym or "", "kind": s.kind or "", "public": "", "email": s.email or "", "phone": s.phone or "",
        "website": s.website or "", "address": s.address or "", "opening_hours": s.opening_hours or "", "missions": s.missions or "",
        "publics": "\n".join(s.publics), "communes": "\n".join(s.communes), "effective": "", "reason": "",
    }  # fmt: skip
    return {**data, **changes}


def test_directory_lists_and_searches(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "membre@agen.example", "member")
    page = client.get(f"{ROOT}/")
    assert page.status_code == 200
    for name in ("France Travail", "CCAS d&#39;Épernon", "Maison départementale des solidarités"):
        assert name in page.text
    assert "agence.agen@francetravail.example" in page.text  # the generic e-mail, in the results
    assert "Marie Dupont" not in page.text  # nothing personal in the list
    assert f'href="{ROOT}/structures/{ids["ccas"]}"' in page.text
    found = client.get(f"{ROOT}/", params={"q": "epernon"})
    assert "CCAS d&#39;Épernon" in results(found) and ">France Travail</a>" not in results(found)
    assert 'value="epernon"' in found.text  # the query stays in the box
    by_acronym = client.get(f"{ROOT}/", params={"q": "mds"})
    assert "Maison départementale des solidarités" in results(by_acronym) and "CCAS" not in results(by_acronym)
    by_kind = client.get(f"{ROOT}/", params={"kind": "ccas"})
    assert "1 structure" in by_kind.text and "CCAS d&#39;Épernon" in results(by_kind)
    by_theme = client.get(f"{ROOT}/", params={"theme": "acces-aux-droits"})
    assert "CCAS d&#39;Épernon" in results(by_theme) and ">France Travail</a>" not in results(by_theme)
    nothing = client.get(f"{ROOT}/", params={"q": "introuvable"})
    assert "Aucune structure" in nothing.text


def test_directory_and_structure_as_of_a_past_date(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "membre@agen.example", "member")
    then = client.get(f"{ROOT}/", params={"q": "Pôle emploi", "as_of": "2010-06-01"})
    assert then.status_code == 200
    assert "Annuaire tel qu&#39;il était au 01/06/2010" in then.text
    assert "Pôle emploi" in results(then) and ">France Travail</a>" not in results(then)
    assert f"{ROOT}/structures/{ids['ft']}?as_of=2010-06-01" in then.text  # the date follows the link
    assert 'value="2010-06-01"' in then.text

    typed = client.get(f"{ROOT}/", params={"q": "Pôle emploi", "as_of": "01/06/2010"})  # typed the French way
    assert typed.status_code == 200 and "Annuaire tel qu&#39;il était au 01/06/2010" in typed.text
    mistyped = client.get(f"{ROOT}/", params={"q": "emploi", "as_of": "30/02/2010"})
    assert mistyped.status_code == 400  # the directory of today, the search kept, the reason beside the field
    assert 'id="erreur-as_of"' in mistyped.text and "« 30/02/2010 » n&#39;est pas une date valide" in mistyped.text
    assert 'aria-describedby="aide-as_of erreur-as_of"' in mistyped.text
    assert 'value="emploi"' in mistyped.text and "France Travail</a>" in results(mistyped)

    sheet_then = client.get(f"{ROOT}/structures/{ids['ft']}", params={"as_of": "2010-06-01"})
    assert sheet_then.status_code == 200
    assert re.search(r"<h1[^>]*>Pôle emploi", sheet_then.text)
    assert "Fiche telle qu&#39;elle était au 01/06/2010" in sheet_then.text
    assert "Marie Dupont" in sheet_then.text  # our contact in 2010
    assert "agence.agen@pole-emploi.example" in sheet_then.text

    now = client.get(f"{ROOT}/structures/{ids['ft']}")
    assert re.search(r"<h1[^>]*>France Travail", now.text)
    assert "Anciens noms : Pôle emploi" in now.text
    assert "Changement de nom" in now.text and "Loi pour le plein emploi" in now.text  # the timeline with its reason

    before = client.get(f"{ROOT}/structures/{ids['ft']}", params={"as_of": "2005-01-01"})
    assert before.status_code == 404
    assert "ne faisait pas partie du réseau au 01/01/2005" in before.text

    bad = client.get(f"{ROOT}/", params={"as_of": "2010-13-45"})
    assert bad.status_code == 400 and "as_of" in bad.text
    bad_sheet = client.get(f"{ROOT}/structures/{ids['ft']}", params={"known_at": "hier"})
    assert bad_sheet.status_code == 400 and "known_at" in bad_sheet.text
    assert client.get(f"{ROOT}/structures/00000000-0000-0000-0000-000000000000").status_code == 404


def test_known_at_ignores_later_corrections(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    d = directory(trame)
    contact = d.contacts(T, ids["ft"])[0]
    before_fix = clock.now()
    d.correct_contact(T, ids["ft"], contact.id, ContactPatch(until="2010-03-01", reason="Partie en mars 2010"), SYSTEM)
    signed_in(client, trame, "membre@agen.example", "member")
    corrected = client.get(f"{ROOT}/structures/{ids['ft']}", params={"as_of": "2010-06-01"})
    assert "Aucun contact enregistré à cette date" in corrected.text
    as_known = client.get(f"{ROOT}/structures/{ids['ft']}", params={"as_of": "2010-06-01", "known_at": before_fix})
    assert as_known.status_code == 200
    assert "Marie Dupont" in as_known.text.split('id="contacts"')[1].split("</table>")[0]


def test_referent_edits_own_structure_only(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "referente@ccas.example", "referent", ids["ccas"])
    own = client.get(f"{ROOT}/structures/{ids['ccas']}")
    assert "Modifier la fiche" in own.text
    # A past view offers no change (changes go to today's sheet, with their effective date).
    past = client.get(f"{ROOT}/structures/{ids['ccas']}", params={"as_of": "2012-01-01"})
    assert "Modifier la fiche" not in past.text and "/contacts/nouveau" not in past.text and "/corriger" not in past.text
    assert "revenez à la fiche d'aujourd'hui" in past.text
    form = client.get(f"{ROOT}/structures/{ids['ccas']}/modifier")
    assert form.status_code == 200
    s = directory(trame).get_structure(T, ids["ccas"])
    data = sheet_form(
        s, phone="02 37 00 00 00", reason="Nouveau standard", version=hidden(form.text, "version"), base=hidden(form.text, "base")
    )
    saved = post_form(client, f"{ROOT}/structures/{ids['ccas']}/modifier", f"{ROOT}/structures/{ids['ccas']}/modifier", data)
    assert saved.status_code == 303, saved.text
    sheet = client.get(saved.headers["location"])
    assert "02 37 00 00 00" in sheet.text and "La fiche a été enregistrée." in sheet.text
    assert "referente@ccas.example" in sheet.text  # the author, in the timeline
    assert "Nouveau standard" in sheet.text

    other = client.get(f"{ROOT}/structures/{ids['mds']}")
    assert "Modifier la fiche" not in other.text
    assert client.get(f"{ROOT}/structures/{ids['mds']}/modifier").status_code == 403
    refused = post_form(client, f"{ROOT}/structures/{ids['ccas']}", f"{ROOT}/structures/{ids['mds']}/modifier",
                        {"name": "Piraté", "version": "1"})  # fmt: skip
    assert refused.status_code == 403
    assert directory(trame).get_structure(T, ids["mds"]).name == "Maison départementale des solidarités"  # type: ignore[union-attr]
    confirmed = post_form(client, f"{ROOT}/structures/{ids['ccas']}", f"{ROOT}/structures/{ids['ccas']}/confirmer", {})
    assert confirmed.status_code == 303
    assert "Fiche confirmée" in client.get(f"{ROOT}/structures/{ids['ccas']}").text
    assert client.get(f"{ROOT}/nouvelle").status_code == 403  # creating is for coordinators


def test_member_sees_no_edit_buttons_and_cannot_post(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "membre@agen.example", "member")
    page = client.get(f"{ROOT}/structures/{ids['ccas']}")
    assert page.status_code == 200
    for button in ("Modifier la fiche", "Ajouter un contact", "toujours exacte", "Départ du réseau", "Corriger"):
        assert button not in page.text
    assert "Ajouter une structure" not in client.get(f"{ROOT}/").text
    url = f"{ROOT}/structures/{ids['ccas']}"
    assert post_form(client, url, f"{url}/modifier", {"name": "Autre nom", "version": "1"}).status_code == 403
    assert post_form(client, url, f"{url}/confirmer", {}).status_code == 403
    assert post_form(client, url, f"{ROOT}/nouvelle", {"name": "Nouvelle"}).status_code == 403
    assert post_form(client, url, f"{ROOT}/personnes/{ids['marie']}/effacer", {"confirmation": "oui"}).status_code == 403
    assert client.get(f"{ROOT}/journal").status_code == 403
    assert directory(trame).get_structure(T, ids["ccas"]).name == "CCAS d'Épernon"  # type: ignore[union-attr]


def test_conflict_shows_both_versions_and_the_second_save_succeeds(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    colleague = make_user(trame, "collegue@agen.example", territory=T, role="coordinator")
    url = f"{ROOT}/structures/{ids['mds']}/modifier"
    form = client.get(url)
    version, base = hidden(form.text, "version"), hidden(form.text, "base")
    s = directory(trame).get_structure(T, ids["mds"])
    # Meanwhile, a colleague changes the phone number.
    directory(trame).update_structure(T, ids["mds"], StructurePatch(phone="05 53 99 99 99", reason="Standard"), int(version),
                                      colleague.account_id)  # fmt: skip
    mine = sheet_form(s, email="accueil@mds.example", version=version, base=base)
    clash = post_form(client, url, url, mine)
    assert clash.status_code == 409
    assert "Quelqu'un a enregistré cette fiche" in clash.text
    assert "collegue@agen.example" in clash.text
    table = clash.text.split('class="stack-sm versions"')[1].split("</table>")[0]
    assert "05 53 99 99 99" in table and "05 53 00 00 00" in table  # their phone, and the one still in my form
    assert "accueil@mds.example" in table  # my e-mail
    # The form keeps their phone and my e-mail, on top of the new version.
    assert 'value="05 53 99 99 99"' in clash.text and 'value="accueil@mds.example"' in clash.text
    new_version = hidden(clash.text, "version")
    assert new_version == str(int(version) + 1)
    again = {**mine, "phone": "05 53 99 99 99", "version": new_version, "base": hidden(clash.text, "base")}
    saved = post_form(client, url, url, again)
    assert saved.status_code == 303, saved.text
    final = directory(trame).get_structure(T, ids["mds"])
    assert final is not None and final.phone == "05 53 99 99 99" and final.email == "accueil@mds.example"


def test_forms_keep_input_and_name_the_field_in_error(trame: Trame, client: Any) -> None:
    territory(trame)
    network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    new = f"{ROOT}/nouvelle"
    empty = post_form(client, new, new, {"name": "", "acronym": "CS", "missions": "Accueil des familles", "effective": "2012-02-30"})
    assert empty.status_code == 400
    assert 'aria-describedby="erreur-name"' in empty.text and 'id="erreur-name"' in empty.text
    assert "Indiquez le nom de la structure." in empty.text
    assert 'id="erreur-effective"' in empty.text and "Date d&#39;effet" in empty.text
    # The summary names the field once: « Date d'effet : « 2012-02-30 » n'est pas une date valide ».
    assert "Date d&#39;effet</a> : « 2012-02-30 » n&#39;est pas une date valide" in empty.text
    assert "Date d&#39;effet : Date d&#39;effet" not in empty.text.replace("</a>", "")
    assert 'value="CS"' in empty.text and "Accueil des familles</textarea>" in empty.text  # input kept
    assert 'href="#name"' in empty.text  # the error summary links to the field
    bad_mail = post_form(client, new, new, {"name": "Centre social", "email": "pas une adresse"})
    assert bad_mail.status_code == 400 and 'id="erreur-email"' in bad_mail.text
    ok = post_form(client, new, new, {"name": "Centre social Montanou", "acronym": "CS", "kind": "centre-social", "themes": "famille",
                                      "communes": "Agen, Boé", "relay_add": "CCAS d'Épernon", "effective": "2012-01-05"})  # fmt: skip
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"])
    assert "Centre social Montanou" in page.text and "Agen, Boé" in page.text and "Famille, parentalité" in page.text
    assert "CCAS d&#39;Épernon</a>" in page.text  # the relay, as a link
    assert "La structure a été ajoutée" in page.text


def test_contacts_added_ended_and_corrected_through_forms(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    base = f"{ROOT}/structures/{ids['ccas']}"
    missing = post_form(client, f"{base}/contacts/nouveau", f"{base}/contacts/nouveau", {"person_name": "", "role": "referent"})
    assert missing.status_code == 400 and 'id="erreur-person_name"' in missing.text
    added = post_form(client, f"{base}/contacts/nouveau", f"{base}/contacts/nouveau",
                      {"person_id": "nouvelle", "person_name": "Jean Martin", "person_email": "j.martin@ccas.example",
                       "role": "direction", "since": "2011-09-01"})  # fmt: skip
    assert added.status_code == 303, added.text
    page = client.get(base)
    assert "Jean Martin" in page.text and "Direction" in page.text
    contact = directory(trame).contacts(T, ids["ccas"])[0]
    found = client.get(f"{base}/contacts/nouveau", params={"cherche": "martin"})
    assert "Jean Martin" in found.text and 'type="radio"' in found.text
    ended = post_form(client, f"{base}/contacts/{contact.id}/fin", f"{base}/contacts/{contact.id}/fin", {"until": "2015-06-30"})
    assert ended.status_code == 303
    fix = f"{base}/contacts/{contact.id}/corriger"
    correction = {"role": "direction", "theme": "", "since": "2011-09-01", "until": "2014-06-30", "reason": "Erreur de saisie"}
    fixed = post_form(client, fix, fix, correction)
    assert fixed.status_code == 303, fixed.text
    assert directory(trame).contacts(T, ids["ccas"], include_past=True)[0].until == "2014-06-30"
    sheet = client.get(base)
    assert "Contacts précédents" in sheet.text and "Correction d&#39;un contact" in sheet.text
    person = client.get(f"{ROOT}/personnes/{contact.person.id}")
    assert person.status_code == 200 and "CCAS d&#39;Épernon" in person.text and "j.martin@ccas.example" in person.text


def test_erasure_shows_personne_effacee(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    person_url = f"{ROOT}/personnes/{ids['marie']}"
    assert "Effacer les données" in client.get(person_url).text
    step = client.get(f"{person_url}/effacer")
    assert "irréversible" in step.text
    unconfirmed = post_form(client, f"{person_url}/effacer", f"{person_url}/effacer", {})
    assert unconfirmed.status_code == 400 and 'id="erreur-confirmation"' in unconfirmed.text
    assert directory(trame).person(T, ids["marie"]).erased is False  # type: ignore[union-attr]
    erased = post_form(client, f"{person_url}/effacer", f"{person_url}/effacer", {"confirmation": "oui"})
    assert erased.status_code == 303
    for url, params in ((f"{ROOT}/structures/{ids['ft']}", {"as_of": "2010-06-01"}), (f"{ROOT}/structures/{ids['ft']}", {}),
                        (person_url, {}), (f"{ROOT}/journal", {})):  # fmt: skip
        page = client.get(url, params=params)
        assert page.status_code == 200
        assert "Marie Dupont" not in page.text and "marie.dupont" not in page.text
        assert "personne effacée" in page.text


def test_plugin_off_pages_404_and_no_navigation(trame: Trame, client: Any) -> None:
    territory(trame, "joigny", plugins=())
    make_user(trame, "coord@joigny.example", territory="joigny", role="coordinator")
    login(client, "coord@joigny.example")
    assert client.get("/t/joigny/annuaire/").status_code == 404
    assert client.get("/t/joigny/annuaire/nouvelle").status_code == 404
    assert client.get("/t/joigny/annuaire/journal").status_code == 404
    home = client.get("/t/joigny/")
    assert home.status_code == 200 and 'href="/t/joigny/annuaire/"' not in home.text
    trame.territories.enable("joigny", "annuaire", author=SYSTEM)
    assert client.get("/t/joigny/annuaire/").status_code == 200
    assert 'href="/t/joigny/annuaire/"' in client.get("/t/joigny/").text


def test_page_sections_from_plugins_enabled_in_the_territory(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "membre@agen.example", "member")
    url = f"{ROOT}/structures/{ids['ccas']}"
    assert "Rencontres de" not in client.get(url).text  # the plugin is off here
    trame.territories.enable(T, "rubriques", author=SYSTEM)
    page = client.get(url, params={"as_of": "2010-06-01"})
    assert "<p>Rencontres de <em>CCAS d&#39;Épernon</em> au 2010-06-01</p>" in page.text  # its HTML, as given
    # The directory's own section (the structure's services, order 5) comes first, then the plugin's (order 20).
    assert '<h2 id="section-1">Services proposés</h2>' in page.text
    assert f'<h2 id="section-2">{escape("Rencontres <récentes>")}</h2>' in page.text  # its title, escaped


def test_audit_for_coordinators_with_filters(trame: Trame, client: Any) -> None:
    territory(trame)
    coord = signed_in(client, trame, "coord@agen.example", "coordinator")
    ids = network(trame, author=coord.account_id)
    other = make_user(trame, "autre@agen.example", territory=T, role="coordinator")
    directory(trame).update_structure(T, ids["mds"], StructurePatch(phone="01 02 03 04 05"), 1, other.account_id)
    page = client.get(f"{ROOT}/journal")
    assert page.status_code == 200
    assert "coord@agen.example" in page.text and "autre@agen.example" in page.text and "Changement de nom" in page.text
    by_author = client.get(f"{ROOT}/journal", params={"auteur": "autre@agen.example"})
    assert "01 02 03 04 05" in by_author.text and "Changement de nom" not in by_author.text
    by_structure = client.get(f"{ROOT}/journal", params={"structure": ids["ft"]})
    assert "Changement de nom" in by_structure.text and "01 02 03 04 05" not in by_structure.text
    future = client.get(f"{ROOT}/journal", params={"depuis": "2999-01-01"})
    assert "Aucune modification" in future.text
    typed = client.get(f"{ROOT}/journal", params={"depuis": "01/02/2999"})  # the French way is understood
    assert typed.status_code == 200 and "Aucune modification" in typed.text
    bad = client.get(f"{ROOT}/journal", params={"depuis": "31/02/2010"})
    assert bad.status_code == 400 and "depuis" in bad.text and "par exemple 15/03/2010" in bad.text


def test_leave_merge_and_rejoin(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    base = f"{ROOT}/structures/{ids['ccas']}"
    no_date = post_form(client, f"{base}/sortie", f"{base}/sortie", {"effective": ""})
    assert no_date.status_code == 400 and 'id="erreur-effective"' in no_date.text
    left = post_form(client, f"{base}/sortie", f"{base}/sortie", {"effective": "2015-01-01", "reason": "Fin de la convention"})
    assert left.status_code == 303
    gone = client.get(base)
    assert gone.status_code == 200 and "Départ du réseau" in gone.text and "Enregistrer son retour" in gone.text
    assert "Cette structure a quitté le réseau le 1er janvier 2015." in gone.text
    assert client.get(base, params={"as_of": "2014-01-01"}).status_code == 200
    back = post_form(client, f"{base}/retour", f"{base}/retour", {"effective": "2016-01-01"})
    assert back.status_code == 303 and client.get(base).status_code == 200
    merge = f"{ROOT}/structures/{ids['mds']}/fusion"
    merged = post_form(client, merge, merge, {"into": ids["ccas"], "effective": "2020-01-01"})
    assert merged.status_code == 303 and merged.headers["location"].startswith(base)
    assert "Maison départementale des solidarités" in client.get(base).text  # listed as absorbed


def test_merged_structure_page_says_where_it_went(trame: Trame, client: Any) -> None:
    """An old link to ANPE leads to Pôle emploi, with the date, the history and the sheet before."""
    territory(trame)
    ids = network(trame)
    d = directory(trame)
    anpe, _ = d.create_structure(T, StructureIn(name="ANPE – agence d'Agen", acronym="ANPE", effective="1990-01-01"), SYSTEM)
    d.merge_structure(T, anpe, ids["ft"], "2008-12-19", SYSTEM, "Fusion ANPE et Assédic")
    signed_in(client, trame, "membre@agen.example", "member")
    url = f"{ROOT}/structures/{anpe}"
    page = client.get(url)
    assert page.status_code == 200
    assert re.search(r"<h1[^>]*>ANPE – agence d&#39;Agen</h1>", page.text)
    link = f'<a href="{ROOT}/structures/{ids["ft"]}">Pôle emploi</a>'
    assert f"Cette structure a fusionné dans {link} le 19 décembre 2008." in page.text  # its name on the day of the merge
    assert "Pôle emploi s'appelle aujourd'hui France Travail." in page.text
    assert "Fusion dans une autre structure" in page.text and "Fusion ANPE et Assédic" in page.text  # the history
    assert 'id="as_of"' in page.text  # the as-of picker
    assert f'href="{url}?as_of=2008-12-18"' in page.text
    before = client.get(url, params={"as_of": "2008-12-18"})
    assert before.status_code == 200 and "Fiche telle qu&#39;elle était au 18/12/2008" in before.text
    assert "a fusionné" not in before.text
    later = client.get(url, params={"as_of": "2012-01-01"})
    assert later.status_code == 200 and "a fusionné dans" in later.text
    assert client.get(url, params={"as_of": "1980-01-01"}).status_code == 404  # before it joined: nothing to show
    known_before = client.get(url, params={"known_at": "2000-01-01"})  # before anything was recorded
    assert known_before.status_code == 404


def person_form(page: str, **values: str) -> dict[str, str]:
    """The person edit form as the browser would post it, with some fields changed."""
    data = {k: hidden_value(page, k) for k in ("person_name", "person_email", "person_phone")}
    return {**data, "reason": "", "version": hidden(page, "version"), "base": hidden(page, "base"), **values}


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'id="{name}" name="{name}" type="[a-z]+" value="([^"]*)"', page)
    assert match, f"no field {name}"
    return html.unescape(match.group(1))


def test_person_details_edited_by_coordinators_and_the_referent_of_their_structure(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    url = f"{ROOT}/personnes/{ids['marie']}"
    edit = f"{url}/modifier"
    # The referent of another structure: no link, no form, no write.
    signed_in(client, trame, "referente@ccas.example", "referent", ids["ccas"])
    assert "Modifier les coordonnées" not in client.get(url).text
    refused = client.get(edit)
    assert refused.status_code == 403 and "coordonnées" in refused.text
    assert post_form(client, url, edit, {"person_name": "Autre", "version": "1"}).status_code == 403
    # The referent of France Travail, where Marie is the referent contact.
    client.cookies.clear()
    signed_in(client, trame, "referent@ft.example", "referent", ids["ft"])
    assert "Modifier les coordonnées" in client.get(url).text
    form = client.get(edit)
    assert form.status_code == 200 and 'value="Marie Dupont"' in form.text and 'for="person_email"' in form.text
    saved = post_form(client, edit, edit, person_form(form.text, person_email="marie.dupont@francetravail.example",
                                                      person_phone="05 53 11 22 33", reason="Nouvelle adresse"))  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    assert "Les coordonnées de la personne ont été enregistrées." in page.text
    assert "marie.dupont@francetravail.example" in page.text and "05 53 11 22 33" in page.text
    assert "referent@ft.example" in page.text and "Nouvelle adresse" in page.text  # the timeline: who and why
    person = directory(trame).person(T, ids["marie"])
    assert person is not None and person.email == "marie.dupont@francetravail.example"
    # Attaching her to another structure hands her details to neither referent: the CCAS's
    # could otherwise redirect the e-mail France Travail's sheet and campaigns use.
    direction = ContactIn(person_id=ids["marie"], role="direction", since="2015-01-01")
    extra, _ = directory(trame).start_contact(T, ids["ccas"], direction, SYSTEM)
    assert client.get(edit).status_code == 403
    client.cookies.clear()
    login(client, "referente@ccas.example")
    assert client.get(edit).status_code == 403
    directory(trame).end_contact(T, ids["ccas"], extra, ContactEnd(until="2016-01-01"), SYSTEM)
    client.cookies.clear()
    login(client, "referent@ft.example")
    assert client.get(edit).status_code == 200
    # Once her role there has ended, that referent no longer edits her details.
    contact = directory(trame).contacts(T, ids["ft"])[0]
    directory(trame).end_contact(T, ids["ft"], contact.id, ContactEnd(until="2020-01-01"), SYSTEM)
    assert client.get(edit).status_code == 403
    # A member never; a coordinator anyone, with or without a role somewhere.
    client.cookies.clear()
    signed_in(client, trame, "membre@agen.example", "member")
    assert client.get(edit).status_code == 403
    assert "Modifier les coordonnées" not in client.get(url).text
    client.cookies.clear()
    signed_in(client, trame, "coord@agen.example", "coordinator")
    alone, _ = directory(trame).create_person(T, PersonIn(name="Paul Sans Poste"), SYSTEM)
    assert client.get(f"{ROOT}/personnes/{alone}/modifier").status_code == 200
    assert client.get(f"{ROOT}/personnes/00000000-0000-0000-0000-000000000000/modifier").status_code == 404
    directory(trame).erase_person(T, alone, SYSTEM)
    erased = client.get(f"{ROOT}/personnes/{alone}/modifier")
    assert erased.status_code == 410 and "effacées" in erased.text


def test_person_form_keeps_refused_input_and_shows_a_conflict(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    edit = f"{ROOT}/personnes/{ids['marie']}/modifier"
    form = client.get(edit).text
    bad = post_form(client, edit, edit, person_form(form, person_name="", person_email="marie chez ft", person_phone="05 53"))
    assert bad.status_code == 400
    assert 'id="erreur-person_name"' in bad.text and 'aria-describedby="erreur-person_name"' in bad.text
    assert "Indiquez le nom et le prénom de la personne." in bad.text
    assert 'id="erreur-person_email"' in bad.text and 'aria-invalid="true"' in bad.text
    assert "« marie chez ft » n&#39;est pas une adresse e-mail valide" in bad.text
    assert 'href="#person_email"' in bad.text  # the error summary links to the field
    assert 'value="marie chez ft"' in bad.text and 'value="05 53"' in bad.text  # the input is kept
    unchanged = post_form(client, edit, edit, person_form(form))
    assert unchanged.status_code == 400 and "Vous n&#39;avez modifié aucun champ" in unchanged.text
    too_long = post_form(client, edit, edit, person_form(form, person_phone="0" * 301))
    assert too_long.status_code == 400 and 'id="erreur-person_phone"' in too_long.text
    # A colleague adds her phone while the form is open: both versions are shown, and the form
    # keeps their phone with my e-mail.
    directory(trame).update_person(T, ids["marie"], PersonPatch(phone="05 53 99 99 99"), SYSTEM)
    mine = person_form(form, person_email="m.dupont@francetravail.example")
    clash = post_form(client, edit, edit, mine)
    assert clash.status_code == 409 and "Quelqu'un a modifié ces coordonnées" in clash.text
    table = clash.text.split('class="stack-sm versions"')[1].split("</table>")[0]
    assert "05 53 99 99 99" in table and "m.dupont@francetravail.example" in table
    assert 'value="m.dupont@francetravail.example"' in clash.text and 'value="05 53 99 99 99"' in clash.text
    again = post_form(client, edit, edit, person_form(clash.text))
    assert again.status_code == 303, again.text
    person = directory(trame).person(T, ids["marie"])
    assert person is not None and person.email == "m.dupont@francetravail.example" and person.phone == "05 53 99 99 99"


def test_links_to_a_persons_contact_elide_de_before_a_vowel(trame: Trame, client: Any) -> None:
    territory(trame)
    ids = network(trame)
    d = directory(trame)
    eric, _ = d.create_person(T, PersonIn(name="Éric Lacoste"), SYSTEM)
    d.start_contact(T, ids["ccas"], ContactIn(person_id=eric, role="direction", since="2015-01-01"), SYSTEM)
    signed_in(client, trame, "coord@agen.example", "coordinator")
    page = client.get(f"{ROOT}/structures/{ids['ccas']}").text
    assert 'Terminer<span class="sr"> le contact d&#39;Éric Lacoste</span>' in page
    assert "le contact de Éric" not in page


def test_a_long_history_stays_off_the_sheet_and_pages_on_its_own(trame: Trame, client: Any) -> None:
    """A sheet shows its latest changes only, newest first; "voir tout l'historique" pages through the rest."""
    territory(trame)
    d = directory(trame)
    sid, _ = d.create_structure(T, StructureIn(name="CCAS d'Agen", effective="2007-10-05"), SYSTEM)
    for i in range(130):
        d.update_structure(T, sid, StructurePatch(missions=f"Accueil, version {i}"), d.version(T, sid), SYSTEM)
    signed_in(client, trame, "membre@agen.example", "member")
    sheet = client.get(f"{ROOT}/structures/{sid}").text
    history = sheet.split('id="historique"')[1]
    assert history.count("<tr>") - 1 == 15  # header row aside
    assert history.index("version 120") < history.index("version 116")  # newest first
    assert "version 114" in history and "version 113" not in history  # each row shows before and after
    assert f'href="{ROOT}/structures/{sid}/historique"' in history
    first = client.get(f"{ROOT}/structures/{sid}/historique").text
    assert "version 129" in first and "version 29" in first and "version 28" not in first and "Plus anciens" in first
    second = client.get(f"{ROOT}/structures/{sid}/historique", params={"page": 2}).text
    assert "version 28" in second and "version 0" in second and "Plus anciens" not in second


def test_known_at_takes_a_time_to_look_past_a_same_day_correction(trame: Trame, client: Any, monkeypatch: Any) -> None:
    """Entered at 09:10, corrected at 16:45 the same day: "known at" that day at 12:00 shows the first entry."""
    from datetime import datetime

    from core.clock import PARIS

    territory(trame)
    d = directory(trame)
    morning, afternoon = (datetime(2026, 3, 12, h, m, tzinfo=PARIS) for h, m in ((9, 10), (16, 45)))
    monkeypatch.setattr(clock, "now", lambda: clock.instant(morning))
    sid, _ = d.create_structure(T, StructureIn(name="CCAS d'Agen", effective="2007-10-05"), SYSTEM)
    monkeypatch.setattr(clock, "now", lambda: clock.instant(afternoon))
    d.update_structure(T, sid, StructurePatch(name="CCAS d'Agen (corrigé)"), d.version(T, sid), SYSTEM)
    monkeypatch.undo()
    before = datetime(2026, 3, 12, 12, 0, tzinfo=PARIS)
    signed_in(client, trame, "membre@agen.example", "member")
    day, at = before.date().isoformat(), before.strftime("%H:%M")
    whole_day = client.get(f"{ROOT}/structures/{sid}", params={"known_at": day}).text
    assert "CCAS d&#39;Agen (corrigé)" in whole_day.split("<h1")[1].split("</h1>")[0]
    earlier = client.get(f"{ROOT}/structures/{sid}", params={"known_at": day, "known_time": at})
    assert earlier.status_code == 200
    heading = earlier.text.split("<h1")[1].split("</h1>")[0]
    assert "corrigé" not in heading and f'value="{at}"' in earlier.text
