"""Refused forms come back with what was typed and a French message next to the field at fault.

Each error is linked to its field (aria-describedby, aria-invalid), and a summary that takes
the focus links to the fields; the status says why (400 bad input, 409 already done).
"""

from __future__ import annotations

import html
import re
from typing import Any

from core.application import Trame
from core.store import SYSTEM
from core.testing import csrf_of, login, post_form
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h


def _field(page: str, field_id: str) -> str:
    """The opening tag of the input, select, textarea or fieldset with that id."""
    match = re.search(rf'<(input|select|textarea|fieldset) id="{re.escape(field_id)}"[^>]*>', page)
    assert match, f"no field {field_id}"
    return match.group(0)


def _refused_at(page: str, field_id: str, message: str) -> None:
    """The field is marked invalid, described by its error, and the focusable summary links to it."""
    tag = _field(page, field_id)
    assert 'aria-invalid="true"' in tag and f"erreur-{field_id}" in tag
    error = re.search(rf'<p class="error" id="erreur-{re.escape(field_id)}">(.*?)</p>', page, re.S)
    assert error and message in html.unescape(error.group(1)), error and error.group(1)
    assert re.search(r'class="error-summary" role="alert" tabindex="-1" autofocus', page)
    assert f'href="#{field_id}"' in page


def _value(page: str, field_id: str) -> str:
    tag = _field(page, field_id)
    value = re.search(r'value="([^"]*)"', tag)
    return html.unescape(value.group(1)) if value else ""


def test_signing_forms_come_back_with_the_input_and_the_reason(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    url = f"/t/joigny/charte/{cid}"
    login(client, h.referent(trame, s["ml"]).email)
    typed = {"structure_id": s["ml"], "form_name": "sign", "signatory_name": "Claire Martin", "signatory_role": "directrice"}
    bad_date = post_form(client, url, f"{url}/signatures", {**typed, "signed_on": "31/02/2010", "adaptation": "Une conseillère."})
    assert bad_date.status_code == 400
    _refused_at(bad_date.text, "signed_on", "« 31/02/2010 » n'est pas une date")
    # The label is stated once: by the summary's link (and the field's own label), not again in the message.
    shown = html.unescape(bad_date.text)
    assert "Date de signature</a> : « 31/02/2010 » n'est pas une date" in shown and "Date de signature : Date" not in shown
    assert _value(bad_date.text, "signatory_name") == "Claire Martin" and _value(bad_date.text, "signed_on") == "31/02/2010"
    assert "Une conseillère.</textarea>" in bad_date.text

    no_role = post_form(client, url, f"{url}/signatures", {**typed, "signatory_role": "", "signed_on": "2010-04-02"})
    assert no_role.status_code == 400
    _refused_at(no_role.text, "signatory_role", "Indiquez la fonction")
    assert charters(trame).signatories("joigny", cid, "2010-04-02") == []

    # The same form sent twice (a second tab): the second one is a conflict, said at the top.
    page = client.get(url).text
    first = client.post(
        f"{url}/signatures", data={**typed, "signed_on": "2010-04-02", "_csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert first.status_code == 303
    again = client.post(
        f"{url}/signatures", data={**typed, "signed_on": "2010-04-02", "_csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert again.status_code == 409
    assert "Cette structure a déjà signé la version 1 de la charte." in html.unescape(again.text)
    assert 'id="top-erreurs"' in again.text
    # The address bar now shows the form's address: reloading it (a GET) leads back to the charter page, not to an error.
    reloaded = client.get(f"{url}/signatures", follow_redirects=False)
    assert reloaded.status_code == 303 and reloaded.headers["location"] == f"{url}#signataires"


def test_coordinator_forms_come_back_with_the_input_and_the_reason(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    svc = charters(trame)
    sig = svc.sign(
        "joigny",
        cid,
        author=SYSTEM,
        structure_id=s["udaf"],
        signatory_name="Éric Blanc",
        signatory_role="directeur",
        signed_on="2010-06-01",
    )
    url = f"/t/joigny/charte/{cid}"
    login(client, h.coordinator(trame).email)

    paper = {
        "form_name": "paper",
        "structure_id": s["clic"],
        "version_no": "1",
        "signatory_name": "Marc Roux",
        "signatory_role": "coordinateur",
    }
    missing_ref = post_form(client, url, f"{url}/signatures", {**paper, "signed_on": "2010-04-01", "document_ref": ""})
    assert missing_ref.status_code == 400
    _refused_at(missing_ref.text, "p-document_ref", "Indiquez la référence de l'exemplaire papier")
    assert _value(missing_ref.text, "p-signatory_name") == "Marc Roux"
    assert f'<option value="{s["clic"]}" selected>' in missing_ref.text
    assert re.search(r"<details class=\"no-print\" open><summary>Enregistrer une signature reçue sur papier", missing_ref.text)

    withdraw = post_form(client, url, f"{url}/signatures/{sig}/retrait", {"withdrawn_on": "2010-05-01", "reason": "Réorganisation"})
    assert withdraw.status_code == 400
    _refused_at(withdraw.text, "w1-withdrawn_on", "Le retrait doit suivre la date de signature")
    assert _value(withdraw.text, "w1-reason") == "Réorganisation"

    end = post_form(client, url, f"{url}/statut", {"status": "ended", "on": "2012-06-29", "reason": ""})
    assert end.status_code == 400
    _refused_at(end.text, "st-reason", "Indiquez la raison")
    assert _value(end.text, "st-on") == "2012-06-29" and 'id="st-e" name="status" value="ended" checked' in end.text
    assert svc.get("joigny", cid)["status"] == "active"

    svc.revise("joigny", cid, author=SYSTEM, title="Charte", preamble="", commitments=["Renforcer le partenariat."])
    adopt = post_form(client, url, f"{url}/adoption", {"version_no": "2", "adopted_on": "2011-02-30"})
    assert adopt.status_code == 400
    _refused_at(adopt.text, "a-adopted_on", "« 2011-02-30 » n'est pas une date")
    assert "Date d'adoption : Date d'adoption" not in html.unescape(adopt.text)

    draft = post_form(
        client,
        "/t/joigny/charte/nouvelle",
        "/t/joigny/charte/nouvelle",
        {"title": "", "preamble": "Mobiliser.", "commitments": "Un\nDeux", "form": "palliatif"},
    )
    assert draft.status_code == 400
    _refused_at(draft.text, "title", "Donnez un titre à la charte.")
    assert "Un\nDeux</textarea>" in draft.text and 'value="palliatif" checked' in draft.text

    unchanged = post_form(
        client, f"{url}/modifier", f"{url}/modifier", {"title": "Charte", "preamble": "", "commitments": "Renforcer le partenariat."}
    )
    assert unchanged.status_code == 400 and "Le texte n&#39;a pas changé" in unchanged.text

    long_text = "x" * 20001
    report = post_form(client, f"{url}/evaluation/2010", f"{url}/evaluation/2010", {"what_works": "La dynamique.", "obstacles": long_text})
    assert report.status_code == 400
    _refused_at(report.text, "obstacles", "20000 caractères au plus (vous en avez saisi 20001).")
    assert "La dynamique.</textarea>" in report.text


def test_a_vote_without_a_slot_comes_back(trame: Trame, client: Any) -> None:
    h.territory(trame)
    s = h.structures(trame)
    cid = h.charter(trame, s)
    poll = charters(trame).open_poll(
        "joigny", cid, author=SYSTEM, question="Quel créneau ?", slots=[(4, "09:00", "11:00"), (1, "14:00", "16:00")]
    )
    ref = h.referent(trame, s["ml"])
    login(client, ref.email)
    url = f"/t/joigny/charte/{cid}/sondages/{poll}"
    refused = post_form(client, url, f"{url}/vote", {"structure_id": s["ml"]})
    assert refused.status_code == 400
    _refused_at(refused.text, "v-slot", "Cochez au moins un des créneaux proposés.")
    assert charters(trame).poll("joigny", poll)["voters"] == []

    # The coordination votes for a structure: without one, the label is said once (not « … : Structure : … »).
    login(client, h.coordinator(trame).email)
    nobody = post_form(client, url, f"{url}/vote", {"structure_id": "", "slot": "c1"})
    assert nobody.status_code == 400
    _refused_at(nobody.text, "v-structure_id", "Choisissez une structure.")
    assert "Vote de la structure</a> : Choisissez une structure." in html.unescape(nobody.text)
    assert "Structure : " not in html.unescape(nobody.text)
    reloaded = client.get(f"{url}/vote", follow_redirects=False)
    assert reloaded.status_code == 303 and reloaded.headers["location"] == url
    charter_url = f"/t/joigny/charte/{cid}"
    cycle = client.get(f"{charter_url}/cycle", follow_redirects=False)
    assert cycle.status_code == 303 and cycle.headers["location"] == f"{charter_url}#rencontres"

    # Once its slot is adopted, the poll page leads the coordination on to planning the cycle at that slot.
    charters(trame).vote("joigny", poll, author=SYSTEM, structure_id=s["ml"], slot_ids=["c1"])
    assert "Planifier le cycle" not in client.get(url).text  # not before adoption
    charters(trame).adopt_poll("joigny", poll, author=SYSTEM)
    adopted = client.get(url).text
    link = f'href="{charter_url}?sondage={poll}#planifier"'
    assert link in adopted and "Planifier le cycle de rencontres à ce créneau" in adopted
    form = client.get(f"{charter_url}?sondage={poll}").text
    assert '<details class="no-print" id="planifier" open>' in form and f'<option value="{poll}" selected>' in form
    login(client, ref.email)
    assert link not in client.get(url).text  # the coordination's action only
