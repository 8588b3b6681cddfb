"""A refused form comes back as typed, the French reason next to its field (aria-describedby), nothing written."""

from __future__ import annotations

import html
from typing import Any

from core.application import Trame
from core.testing import csrf_of, login
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers


def _setup(trame: Trame, client: Any) -> dict[str, str]:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    login(client, helpers.coordinator(trame).email)
    return ids


def _meeting(trame: Trame) -> str:
    svc = meetings(trame)
    return svc.schedule(
        "agen",
        author="test",
        title="Groupe",
        day="2026-03-13",
        start="14:00",
        end="16:00",
        place=svc.place("agen", kind="text", text="Ici"),
    )


def test_create_refused_keeps_input(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    form = client.get("/t/agen/rencontres/nouvelle")
    bad = client.post(
        "/t/agen/rencontres/nouvelle",
        data={
            "title": "Groupe du jeudi",
            "day": "2026-03-13",
            "start": "25:00",
            "end": "16:30",
            "place_kind": "text",
            "place_text": "Salle B",
            "_csrf_token": csrf_of(form.text),
        },
    )
    text = html.unescape(bad.text)
    assert bad.status_code == 400
    assert 'id="erreur-start"' in text and "« 25:00 » n'est pas une heure valide." in text
    assert 'aria-describedby="erreur-start" aria-invalid="true"' in text
    assert 'tabindex="-1"' in text and 'href="#start"' in text
    assert 'value="Groupe du jeudi"' in text and 'value="Salle B"' in text and 'value="25:00"' in text
    assert meetings(trame).list("agen") == []


def test_create_missing_place_is_next_to_place(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    form = client.get("/t/agen/rencontres/nouvelle")
    bad = client.post(
        "/t/agen/rencontres/nouvelle",
        data={
            "title": "Groupe",
            "day": "2026-03-13",
            "start": "14:30",
            "end": "16:30",
            "place_kind": "text",
            "place_text": "",
            "_csrf_token": csrf_of(form.text),
        },
    )
    assert bad.status_code == 400
    assert 'id="erreur-place_text"' in bad.text and 'aria-describedby="erreur-place_text"' in bad.text
    assert meetings(trame).list("agen") == []


def test_reschedule_refused_keeps_input(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}"
    page = client.get(url)
    bad = client.post(
        f"{url}/report",
        data={"day": "2026-13-45", "start": "10:00", "end": "11:00", "reason": "Salle prise", "_csrf_token": csrf_of(page.text)},
    )
    assert bad.status_code == 400
    assert 'id="erreur-r_day"' in bad.text and 'aria-describedby="erreur-r_day" aria-invalid="true"' in bad.text
    assert 'value="2026-13-45"' in bad.text and 'value="Salle prise"' in bad.text and 'value="10:00"' in bad.text
    late = client.post(f"{url}/report", data={"day": "2026-03-20", "start": "11:00", "end": "10:00", "_csrf_token": csrf_of(page.text)})
    assert late.status_code == 400 and 'id="erreur-r_end"' in late.text
    assert "L&#39;heure de fin doit suivre" in late.text or "L'heure de fin doit suivre" in late.text
    assert meetings(trame).require("agen", mid)["day"] == "2026-03-13"


def test_cancel_twice_is_a_conflict(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}"
    page = client.get(url)
    meetings(trame).cancel("agen", mid, author="test")
    again = client.post(f"{url}/annulation", data={"reason": "Doublon", "_csrf_token": csrf_of(page.text)})
    assert again.status_code == 409 and "déjà annulée" in again.text


def test_attendance_refused_keeps_input(trame: Trame, client: Any) -> None:
    ids = _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}"
    page = client.get(url)
    bad = client.post(
        f"{url}/presences",
        data={
            f"presence_{ids['cs']}": "present",
            "person_name": "Annie Exemple",
            "person_structure_id": "",
            "person_status": "excused",
            "_csrf_token": csrf_of(page.text),
        },
    )
    assert bad.status_code == 400
    assert 'id="erreur-p-person_structure_id"' in bad.text and "Chaque présence se rattache à une structure." in bad.text
    assert 'aria-describedby="erreur-p-person_structure_id" aria-invalid="true"' in bad.text
    assert 'value="Annie Exemple"' in bad.text and '<option value="excused" selected>' in bad.text
    assert meetings(trame).attendance("agen", mid) == []


def test_action_refused_keeps_input(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}"
    page = client.get(url)
    bad = client.post(f"{url}/actions", data={"title": "Fiche projet", "due": "demain", "_csrf_token": csrf_of(page.text)})
    assert bad.status_code == 400 and 'id="erreur-action_due"' in bad.text and 'value="Fiche projet"' in bad.text
    assert meetings(trame).actions_of("agen", mid) == []


def test_minutes_that_seem_to_name_someone_are_saved_only_once_confirmed(trame: Trame, client: Any) -> None:
    """Shared secrecy: « Mme Leroy » or « Paul Ferrand » (no contact of the directory) stops the save
    with the reasons in French; the coordinator saves anyway by ticking the box."""
    _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}/compte-rendu"
    typed = {"section_title": "Situations", "section_body": "Mme Leroy et Paul Ferrand sont sans logement.", "decisions": ""}
    warned = client.post(url, data={**typed, "_csrf_token": csrf_of(client.get(url).text)})
    text = html.unescape(warned.text)
    assert warned.status_code == 422
    assert "Secret partagé : ce texte semble nommer une personne" in text
    assert "« Mme Leroy » : une civilité suivie d'un nom désigne une personne." in text
    assert "« Paul Ferrand » : un prénom suivi d'un nom qui n'est pas celui d'un contact de l'annuaire." in text
    assert "Mme Leroy et Paul Ferrand sont sans logement." in text  # what was typed comes back
    assert 'name="confirmer_noms"' in text and 'role="alert"' in text
    assert meetings(trame).minutes("agen", mid) is None  # nothing saved

    saved = client.post(url, data={**typed, "confirmer_noms": "1", "_csrf_token": csrf_of(text)}, follow_redirects=False)
    assert saved.status_code == 303
    minutes = meetings(trame).minutes("agen", mid)
    assert minutes is not None and "Mme Leroy" in str(minutes["sections"])


def test_minutes_about_structures_are_saved_at_once(trame: Trame, client: Any) -> None:
    _setup(trame, client)
    mid = _meeting(trame)
    url = f"/t/agen/rencontres/{mid}/compte-rendu"
    body = "La Mission locale de l'Agenais présente la Garantie jeunes ; une famille du quartier est orientée vers le CCAS."
    saved = client.post(
        url,
        data={"section_title": "Dispositifs", "section_body": body, "decisions": "", "_csrf_token": csrf_of(client.get(url).text)},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and meetings(trame).minutes("agen", mid) is not None
