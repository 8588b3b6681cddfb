"""The shared glossary: what coordinators and field professionals rely on, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from core.application import Trame
from core.glossary import GlossaryTerm
from core.refusals import Refused
from core.store import SYSTEM
from core.testing import login, make_user, post_form
from core.web.abbreviations import Abbreviations
from plugins.annuaire import public as annuaire
from plugins.annuaire.schemas import StructureIn
from plugins.lexique.service import TermChange, TermIn, lexique
from plugins.lexique.starter import STARTER

T, OTHER = "meaux", "agen"
MDS = "Maison départementale des solidarités"


def territory(trame: Trame, slug: str = T, *, lexique_on: bool = True) -> None:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    trame.territories.enable(slug, "annuaire", author=SYSTEM)
    if lexique_on:
        trame.territories.enable(slug, "lexique", author=SYSTEM)


def structure(trame: Trame, name: str, slug: str = T, **fields: Any) -> str:
    return annuaire.create(trame, slug, author=SYSTEM, data=StructureIn(name=name, **fields))


def test_every_change_of_a_term_is_in_its_history_with_author_and_reason(trame: Trame) -> None:
    territory(trame)
    coordinator = make_user(trame, "coordination@meaux.example", territory=T, role="coordinator")
    svc = lexique(trame)
    term_id = svc.add(T, TermIn(term="MDS", expansion=MDS, reason="demandé au groupe de travail"), author=coordinator.account_id)
    svc.amend(
        T,
        term_id,
        TermChange(expansion=MDS, definition="Le service social du Département.", reason="définition pour les bénévoles"),
        author=SYSTEM,
    )
    with pytest.raises(Refused) as no_reason:
        svc.amend(T, term_id, TermChange(expansion=MDS, definition="autre", reason=" "), author=SYSTEM)
    assert no_reason.value.field == "reason"
    svc.withdraw(T, term_id, author=SYSTEM, reason="doublon")
    history = svc.history(T, term_id)
    assert [h.label for h in history] == ["Terme ajouté au lexique", "Terme du lexique modifié", "Terme retiré du lexique"]
    assert [h.reason for h in history] == ["demandé au groupe de travail", "définition pour les bénévoles", "doublon"]
    assert history[0].author_email == "coordination@meaux.example"
    assert [(c.field, c.before, c.after) for c in history[1].changes] == [("definition", "", "Le service social du Département.")]
    assert svc.terms(T) == [] and not svc.get(T, term_id).active


def test_the_same_term_twice_is_refused_whatever_its_case(trame: Trame) -> None:
    territory(trame)
    svc = lexique(trame)
    svc.add(T, TermIn(term="CCAS", expansion="Centre communal d'action sociale"), author=SYSTEM)
    with pytest.raises(Refused) as twice:
        svc.add(T, TermIn(term="ccas", expansion="autre chose"), author=SYSTEM)
    assert twice.value.status == 409 and "déjà dans le lexique" in twice.value.message
    with pytest.raises(Refused) as empty:
        svc.add(T, TermIn(term="PLIE"), author=SYSTEM)
    assert empty.value.field == "expansion"


def test_the_starter_list_is_adopted_in_one_action_then_amended(trame: Trame) -> None:
    territory(trame)
    svc = lexique(trame)
    svc.add(T, TermIn(term="MDS", expansion=MDS, definition="Notre définition locale."), author=SYSTEM)
    added = svc.adopt_starter(T, author=SYSTEM)
    assert added == len(STARTER) - 1 >= 60  # the MDS already there is kept as it was
    assert len(svc.terms(T)) == len(STARTER)
    assert next(t for t in svc.terms(T) if t.term == "MDS").definition == "Notre définition locale."
    with pytest.raises(Refused) as again:
        svc.adopt_starter(T, author=SYSTEM)
    assert again.value.status == 409
    caf = next(t for t in svc.terms(T) if t.term == "CAF")
    caf_77 = structure(trame, "CAF de Seine-et-Marne", acronym="CAF")
    svc.amend(
        T,
        caf.id,
        TermChange(expansion=caf.expansion, definition=caf.definition, structure_id=caf_77, national=True, reason="notre CAF"),
        author=SYSTEM,
    )
    assert svc.get(T, caf.id).structure_name == "CAF de Seine-et-Marne"
    adoption = svc.adoption(T)
    assert adoption is not None and adoption.added == added


def test_a_structure_of_another_territory_cannot_be_linked(trame: Trame) -> None:
    territory(trame)
    territory(trame, OTHER)
    elsewhere = structure(trame, "CCAS d'Agen", OTHER)
    with pytest.raises(Exception) as refused:
        lexique(trame).add(T, TermIn(term="CCAS", expansion="Centre communal d'action sociale", structure_id=elsewhere), author=SYSTEM)
    assert "n'existe pas sur ce territoire" in str(refused.value)


def test_search_finds_the_acronym_from_its_expansion_and_the_reverse(trame: Trame) -> None:
    territory(trame)
    short = structure(trame, "MDS de Coulommiers", acronym="MDS")
    spelt = structure(trame, "Maison départementale des solidarités de Provins")
    structure(trame, "Mission locale de la Brie")
    lexique(trame).add(T, TermIn(term="MDS", expansion=MDS), author=SYSTEM)

    def found(q: str) -> set[str]:
        return {s.id for s in annuaire.structures(trame, T, q=q)}

    assert found("MDS") == {short, spelt}
    assert found("maison départementale des solidarités") == {short, spelt}
    assert found("MDS Provins") == {spelt}
    trame.territories.disable(T, "lexique", author=SYSTEM)
    assert found("MDS") == {short}  # without the glossary the spelt-out sheet is not an MDS


def test_an_acronym_on_another_plugins_page_is_explained_once_and_hostile_text_stays_escaped(trame: Trame, client: Any) -> None:
    territory(trame)
    hostile = '<script>alert("x")</script> La MDS reçoit, la MDS oriente <img src=x onerror=alert(1)>'
    sid = structure(trame, "MDS de Meaux", acronym="MDS", missions=hostile, website="https://example.org/MDS")
    lexique(trame).add(T, TermIn(term="MDS", expansion='Maison "départementale" <des> solidarités'), author=SYSTEM)
    make_user(trame, "membre@meaux.example", territory=T, role="member")
    login(client, "membre@meaux.example")
    html = client.get(f"/t/{T}/annuaire/structures/{sid}").text
    assert html.count('<abbr title="Maison &#34;départementale&#34; &lt;des&gt; solidarités">MDS</abbr>') == 1
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="https://example.org/MDS"' in html  # a link's address is never touched
    assert "<abbr" not in html.split("</head>")[0]  # nor the page's title


def test_the_pass_leaves_attributes_scripts_forms_and_existing_abbreviations_alone() -> None:
    glossary = (GlossaryTerm("CAF", "Caisse d'allocations familiales"), GlossaryTerm("ESF", "Économie sociale et familiale"),
                GlossaryTerm("CESF", "Conseiller ou conseillère en ESF"), GlossaryTerm("ML", "Mission locale"))  # fmt: skip
    page = (
        '<head><title>CAF</title></head><a href="/CAF" title="CAF">Aller</a><script>var CAF = 1;</script>'
        "<textarea>CAF</textarea><select><option>CAF</option></select><!-- CAF -->"
        '<p>Une <abbr title="déjà">ML</abbr> puis la ML, la CAF&amp;CAF, une CESF et une ESF, la CAFé.</p><p>CAF encore</p>'
    )
    out = Abbreviations(glossary).apply(page)
    assert out.count("<abbr") == 4
    assert '<p>Une <abbr title="déjà">ML</abbr> puis la ML, la <abbr title="Caisse d&#39;allocations familiales">CAF</abbr>&amp;CAF' in out
    assert '<abbr title="Conseiller ou conseillère en ESF">CESF</abbr> et une <abbr title="Économie sociale et familiale">ESF</abbr>' in out
    assert out.startswith('<head><title>CAF</title></head><a href="/CAF" title="CAF">Aller</a><script>var CAF = 1;</script>')
    assert "<p>CAF encore</p>" in out and "la CAFé" in out


def test_off_in_one_territory_the_glossary_is_not_there_and_on_in_another(trame: Trame, client: Any) -> None:
    territory(trame)
    territory(trame, OTHER, lexique_on=False)
    structure(trame, "CCAS d'Agen", OTHER, acronym="CCAS")
    lexique(trame).adopt_starter(T, author=SYSTEM)
    admin = make_user(trame, "admin@exemple.fr", admin=True)
    login(client, "admin@exemple.fr")
    assert client.get(f"/t/{OTHER}/lexique/").status_code == 404
    assert client.get(f"/api/v1/territories/{OTHER}/lexique/", headers=admin.headers).status_code == 404
    assert "<abbr" not in client.get(f"/t/{OTHER}/annuaire/").text
    assert client.get(f"/t/{T}/lexique/").status_code == 200
    listed = client.get(f"/api/v1/territories/{T}/lexique/", headers=admin.headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == len(STARTER)


def test_csv_export_is_safe_in_a_spreadsheet_and_imports_back_identical(trame: Trame) -> None:
    territory(trame)
    territory(trame, OTHER)
    svc = lexique(trame)
    svc.add(
        T,
        TermIn(term="PLIE", expansion="Plan local pour l'insertion et l'emploi", definition='=HYPERLINK("http://x")', national=True),
        author=SYSTEM,
    )
    svc.add(T, TermIn(term="Tour de table", definition="Chacun donne ses nouvelles, sans ordre du jour."), author=SYSTEM)
    exported = svc.export_csv(T)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["terme", "signification", "definition", "portee", "structure_id"]
    assert rows[1][2] == '\'=HYPERLINK("http://x")'
    report = svc.import_csv(OTHER, exported, author=SYSTEM)
    assert sorted(report.added) == ["PLIE", "Tour de table"]
    key = [(t.term, t.expansion, t.definition, t.national) for t in svc.terms(T)]
    assert [(t.term, t.expansion, t.definition, t.national) for t in svc.terms(OTHER)] == key
    again = svc.import_csv(OTHER, exported.replace("sans ordre du jour", "sans ordre du jour ni obligation"), author=SYSTEM)
    assert (again.added, again.amended, again.unchanged) == ([], ["Tour de table"], 1)


def test_an_import_with_one_wrong_line_imports_nothing(trame: Trame) -> None:
    territory(trame)
    text = "terme;signification;definition;portee\nCAF;Caisse d'allocations familiales;;national\nPLIE;;;régional\n"
    with pytest.raises(Refused) as refused:
        lexique(trame).import_csv(T, text, author=SYSTEM)
    assert "Ligne 3" in refused.value.message
    assert lexique(trame).terms(T) == []


def test_api_adds_amends_with_if_match_and_refuses_in_french(trame: Trame, client: Any) -> None:
    territory(trame)
    coordinator = make_user(trame, "coordination@meaux.example", territory=T, role="coordinator")
    member = make_user(trame, "membre@meaux.example", territory=T, role="member")
    base = f"/api/v1/territories/{T}/lexique"
    created = client.post(
        f"{base}/", json={"term": "SIAO", "expansion": "Service intégré d'accueil et d'orientation"}, headers=coordinator.headers
    )
    assert created.status_code == 201, created.text
    term = created.json()
    assert client.post(f"{base}/", json={"term": "CAF", "expansion": "x"}, headers=member.headers).status_code == 403
    twice = client.post(f"{base}/", json={"term": "siao", "expansion": "x"}, headers=coordinator.headers)
    assert twice.status_code == 409 and "déjà dans le lexique" in twice.json()["detail"]
    change = {"expansion": term["expansion"], "definition": "Le 115 en fait partie.", "reason": "précision"}
    amended = client.put(f"{base}/{term['id']}", json=change, headers={**coordinator.headers, "If-Match": str(term["version"])})
    assert amended.status_code == 200 and amended.json()["definition"] == "Le 115 en fait partie."
    stale = client.put(f"{base}/{term['id']}", json=change, headers={**coordinator.headers, "If-Match": str(term["version"])})
    assert stale.status_code == 409 and "modifié entre-temps" in stale.json()["detail"]
    no_reason = client.delete(f"{base}/{term['id']}", headers=coordinator.headers)
    assert no_reason.status_code == 400 and "pourquoi" in no_reason.json()["detail"]
    assert no_reason.json()["field"] == "reason"  # which input to correct, as the error schema says
    history = client.get(f"{base}/{term['id']}/historique", headers=member.headers).json()["items"]
    assert [h["reason"] for h in history] == [None, "précision"]
    assert client.get(f"{base}/pas-un-terme", headers=member.headers).status_code == 404
    paths = {p.rstrip("/") for p in client.get("/schema/openapi.json").json()["paths"]}
    documented = "/api/v1/territories/{slug}/lexique"
    assert {documented, documented + "/{term_id}", documented + "/{term_id}/historique", documented + "/liste-de-depart"} <= paths


def test_pages_let_a_coordinator_adopt_add_amend_and_print(trame: Trame, client: Any) -> None:
    territory(trame)
    sid = structure(trame, "Mission locale de la Brie", acronym="ML")
    make_user(trame, "coordination@meaux.example", territory=T, role="coordinator")
    login(client, "coordination@meaux.example")
    page = f"/t/{T}/lexique/"
    assert post_form(client, page, f"{page}liste-de-depart", {}).status_code == 303
    refused = post_form(client, page, f"{page}nouveau", {"term": "CCAS", "expansion": "x"})
    assert refused.status_code == 409 and "déjà dans le lexique" in refused.text and 'value="CCAS"' in refused.text
    added = post_form(
        client, page, f"{page}nouveau", {"term": "RESO77", "definition": "Le réseau du groupe de travail.", "structure_id": sid}
    )
    assert added.status_code == 303
    term_page = added.headers["location"]
    amended = post_form(
        client, term_page, f"{term_page}/modifier", {"definition": "Le réseau RESO77.", "reason": "plus court", "structure_id": sid}
    )
    assert amended.status_code == 303
    html = client.get(term_page).text
    assert "plus court" in html and "Le réseau RESO77." in html
    printable = client.get(f"{page}imprimer").text
    assert "Plan local pour l&#39;insertion et l&#39;emploi" in printable and "RESO77" in printable
    livret = client.get(f"/t/{T}/annuaire/livret").text
    assert "Lexique des sigles et des termes" in livret and livret.index("Lexique des sigles") > livret.index("Mission locale de la Brie")
