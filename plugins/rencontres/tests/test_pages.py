"""A coordinator runs a working group from the pages: schedule a rhythm, invite, attendance, minutes, actions."""

from __future__ import annotations

from typing import Any

from core.application import Trame
from core.testing import csrf_of, login, post_form
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers


def _schedule_a_rhythm(trame: Trame, client: Any, ids: dict[str, str]) -> list[dict[str, Any]]:
    """The new-meeting form: refused without a place, then a rhythm every two months but summer."""
    form = client.get("/t/agen/rencontres/nouvelle")
    assert form.status_code == 200 and 'name="_csrf_token"' in form.text
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
    assert bad.status_code == 400 and "Indiquez le lieu" in bad.text
    done = post_form(
        client,
        "/t/agen/rencontres/nouvelle",
        "/t/agen/rencontres/nouvelle",
        {
            "title": "Groupe bénévoles / professionnels",
            "day": "2026-03-13",
            "start": "14:30",
            "end": "16:30",
            "place_kind": "structure",
            "place_structure_id": ids["cms"],
            "preset": "bimestriel-hors-ete",
            "until": "2026-12-31",
        },
    )
    assert done.status_code == 303
    listed = meetings(trame).list("agen")
    assert [m["day"] for m in listed] == ["2026-03-13", "2026-05-08", "2026-09-11", "2026-11-13"]
    assert listed[1]["holiday"] == "Fête de la Victoire"
    index = client.get("/t/agen/rencontres/")
    assert "Jour férié : Fête de la Victoire" in index.text and "sauf juillet et août" in index.text
    return listed


def test_working_group_from_the_pages(trame: Trame, client: Any) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    user = helpers.coordinator(trame)
    login(client, user.email)
    listed = _schedule_a_rhythm(trame, client, ids)
    first = f"/t/agen/rencontres/{listed[0]['meeting_id']}"
    page = client.get(first)
    invited = client.post(f"{first}/invitations", data={"structure_id": [ids["cs"], ids["ml"]], "_csrf_token": csrf_of(page.text)})
    assert invited.status_code == 200 and invited.text.count("/rencontres/reponse/") == 2 and "cs@agen.example" in invited.text
    assert (
        post_form(
            client,
            first,
            f"{first}/presences",
            {
                f"presence_{ids['cs']}": "present",
                f"presence_{ids['ml']}": "excused",
                "person_structure_id": ids["cs"],
                "person_name": "Annie Exemple",
            },
        ).status_code
        == 303
    )
    assert (
        post_form(
            client, first, f"{first}/actions", {"title": "Faire une fiche projet", "owner_structure_id": ids["cs"], "due": "2026-04-30"}
        ).status_code
        == 303
    )
    minutes = client.get(f"{first}/compte-rendu")
    assert (
        "aucune personne accompagnée n&#39;est nommée" in minutes.text.lower()
        or "aucune personne accompagnée n'est nommée" in minutes.text.lower()
    )
    saved = client.post(
        f"{first}/compte-rendu",
        data={
            "section_title": ["Bilan de la conférence", ""],
            "section_body": ["Intéressant.", ""],
            "decisions": "Valoriser le travail du groupe",
            "next_meeting": "Vendredi 8 mai",
            "_csrf_token": csrf_of(minutes.text),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text[-3000:]
    view = client.get(f"{first}/compte-rendu")
    assert "Bilan de la conférence" in view.text and "Annie Exemple" in view.text and "Faire une fiche projet" in view.text
    published = client.post(f"{first}/compte-rendu/publication", data={"_csrf_token": csrf_of(view.text)})
    assert published.status_code == 200 and "cs@agen.example" in published.text  # no SMTP: addresses to copy
    second = client.get(f"/t/agen/rencontres/{listed[1]['meeting_id']}")
    assert "Suites à donner des rencontres précédentes" in second.text and "Faire une fiche projet" in second.text
    sheet = client.get(f"{first}/emargement")
    assert "Centre social Nord-Est" in sheet.text and "Mission locale" in sheet.text
    css = client.get("/static/rencontres/rencontres.css")
    assert css.status_code == 200 and "size: A4" in css.text


def test_a_referent_answers_for_its_structure_only(trame: Trame, client: Any) -> None:
    helpers.territory(trame)
    ids = helpers.structures(trame)
    svc = meetings(trame)
    mid = svc.schedule(
        "agen",
        author="system",
        title="Café",
        day="2026-03-06",
        start="09:00",
        end="10:30",
        place=svc.place("agen", kind="text", text="Centre social"),
    )
    svc.invite("agen", mid, [ids["cs"], ids["ml"]], author="system")
    user = helpers.referent(trame, ids["ml"])
    login(client, user.email)
    page = client.get(f"/t/agen/rencontres/{mid}")
    assert "Réponse de ma structure" in page.text
    refused = client.post(
        f"/t/agen/rencontres/{mid}/reponse", data={"structure_id": ids["cs"], "answer": "coming", "_csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    ok = client.post(
        f"/t/agen/rencontres/{mid}/reponse", data={"answer": "not_coming", "_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert {i["structure_id"]: i["answer"] for i in svc.invitations("agen", mid)} == {ids["cs"]: None, ids["ml"]: "not_coming"}
    assert client.post(f"/t/agen/rencontres/{mid}/annulation", data={"_csrf_token": csrf_of(page.text)}).status_code == 403


def test_openapi_documents_meetings_and_cafes(trame: Trame, client: Any) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/territories/{slug}/rencontres/meetings",
        "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/invitations",
        "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/answers",
        "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/attendance",
        "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/minutes",
        "/api/v1/territories/{slug}/rencontres/meetings/{meeting_id}/actions",
        "/api/v1/territories/{slug}/rencontres/feed.ics",
        "/api/v1/territories/{slug}/cafe/cafes",
        "/api/v1/territories/{slug}/cafe/cafes/{meeting_id}/round-table",
    ):
        assert path in paths, path
    tags = {t for item in paths.values() for op in item.values() if isinstance(op, dict) for t in op.get("tags", [])}
    assert {"rencontres", "cafe"} <= tags
