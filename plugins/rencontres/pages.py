"""Meeting pages: list, schedule, one meeting (invite, attendance, actions), minutes, sign-in sheet,
answer links, figures and the calendar feed. Server-rendered, usable without JavaScript.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.refusals import Refused, absent
from core.text import collation_key
from core.web import flash
from core.web.access import access_of, author_of
from core.web.forms import Form, many, one
from core.web.rendering import render
from plugins.annuaire import public as annuaire
from plugins.rencontres import figures as fig
from plugins.rencontres.api import calendar_response, default_period, feed_urls
from plugins.rencontres.events import Section
from plugins.rencontres.forms import parts, refusal
from plugins.rencontres.recurrence import PRESETS
from plugins.rencontres.service import ANSWERS, PRESENCES, Delivery, meetings

P = "/t/{territory:str}/rencontres"


def place_from_form(trame: Trame, territory: str, data: dict[str, Any]) -> Any:
    return meetings(trame).place(
        territory,
        kind=one(data, "place_kind", "text"),
        structure_id=one(data, "place_structure_id") or None,
        text=one(data, "place_text") or None,
        url=one(data, "place_url") or None,
    )


@get(f"{P}/", sync_to_thread=False)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    svc = meetings(trame)
    today = clock.paris_today()
    return render(
        request,
        "rencontres/index.html",
        upcoming=svc.list(territory, since=today),
        past=svc.list(territory, until=today, descending=True, limit=30),
        actions=svc.open_actions(territory),
        names=annuaire.names(trame, territory),
        series=svc.all_series(territory),
    )


def _new_form(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    refused: dict[str, Any] | None = None,
) -> Template:
    """The form of a new meeting; a refused one comes back as typed, with why next to the field."""
    errors, values = parts(refused, "new")
    return render(
        request,
        "rencontres/new.html",
        status_code=refused["status"] if refused else 200,
        errors=errors,
        values=values,
        presets=PRESETS,
        structures=annuaire.structures(trame, territory),
    )


@get(f"{P}/nouvelle", opt={"role": "coordinator"}, sync_to_thread=False)
def new_form(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return _new_form(request, trame, territory)


@post(f"{P}/nouvelle", opt={"role": "coordinator"}, sync_to_thread=True)
def new_submit(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        count = one(data, "count")
        _series, ids = meetings(trame).plan_series(
            territory,
            author=author_of(request),
            title=one(data, "title"),
            first_day=one(data, "day"),
            start=one(data, "start", "09:00"),
            end=one(data, "end", "10:30"),
            place=place_from_form(trame, territory, data),
            preset=one(data, "preset"),
            until=one(data, "until") or None,
            count=int(count) if count.isdigit() else None,
            description=one(data, "description"),
        )
    except Refused as exc:
        return _new_form(request, trame, territory, refusal("new", exc, data))
    return Redirect(f"/t/{territory}/rencontres/{ids[0]}" if len(ids) == 1 else f"/t/{territory}/rencontres/", status_code=303)


def meeting_context(trame: Trame, territory: str, meeting_id: str) -> dict[str, Any]:
    """Everything a meeting page shows; shared with the café page."""
    svc = meetings(trame)
    m = svc.require(territory, meeting_id)
    invitations = svc.invitations(territory, meeting_id)
    attendance = svc.attendance(territory, meeting_id)
    structures = annuaire.structures(trame, territory)
    names = {x.id: x.name for x in structures}
    by_structure = {a["structure_id"]: a["status"] for a in attendance if not a["person_key"]}
    for a in attendance:  # a person present makes the structure present
        if a["person_key"] and a["status"] == "present":
            by_structure[a["structure_id"]] = "present"
    invited_ids = [i["structure_id"] for i in invitations]
    roster = invited_ids + sorted((sid for sid in by_structure if sid not in invited_ids), key=lambda x: collation_key(names.get(x) or x))
    people = annuaire.person_names(trame, territory, {a["structure_id"] for a in attendance if a["person_id"]})
    return {
        "m": m,
        "invitations": invitations,
        "attendance": attendance,
        "people": people,
        "names": names,
        "structures": structures,
        "status_of": by_structure,
        "roster": roster,
        "invited_names": sorted((names.get(i["structure_id"], "") for i in invitations), key=collation_key),
        "minutes": svc.minutes(territory, meeting_id),
        "actions": svc.actions_of(territory, meeting_id),
        "carried": svc.carried_over(territory, meeting_id),
        "answers": ANSWERS,
        "presences": PRESENCES,
        "series": svc.series(territory, m["series_id"]) if m["series_id"] else None,
    }


@get(f"{P}/{{meeting_id:uuid}}", sync_to_thread=False)
def meeting_page(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, envoi: str | None = None) -> Template:
    return _meeting(request, trame, territory, meeting_id, delivery=_delivery(request, trame, envoi))


def _delivery(request: Request[Any, Any, Any], trame: Trame, key: str | None) -> Delivery | None:
    """The invitations or minutes just sent, kept for this one page after the redirect (PRG)."""
    return flash.take(trame.db, author_of(request), key, Delivery) if key else None


def sent(request: Request[Any, Any, Any], trame: Trame, path: str, delivery: Delivery) -> Redirect:
    """Redirect after a successful send to ``path``, which shows ``delivery`` once."""
    return Redirect(f"{path}?envoi={flash.put(trame.db, author_of(request), delivery)}", status_code=303)


def _meeting(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    meeting_id: UUID | str,
    refused: dict[str, Any] | None = None,
    delivery: Any = None,
) -> Template:
    """The meeting page; ``refused``: one of its forms comes back with what was typed and why it was refused."""
    return render(
        request,
        "rencontres/meeting.html",
        status_code=refused["status"] if refused else 200,
        **meeting_context(trame, territory, str(meeting_id)),
        delivery=delivery,
        refused=refused,
    )


def _back(territory: str, meeting_id: UUID, anchor: str = "") -> Redirect:
    return Redirect(f"/t/{territory}/rencontres/{meeting_id}{anchor}", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/report", opt={"role": "coordinator"}, sync_to_thread=True)
def reschedule(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    try:
        place = place_from_form(trame, territory, data) if one(data, "place_kind") else None
        meetings(trame).reschedule(
            territory,
            str(meeting_id),
            author=author_of(request),
            day=one(data, "day"),
            start=one(data, "start"),
            end=one(data, "end"),
            place=place,
            host_structure_id=place.structure_id if place else None,
            reason=one(data, "reason") or None,
        )
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("report", exc, data, {"day", "start", "end", "reason"}))
    return _back(territory, meeting_id)


@post(f"{P}/{{meeting_id:uuid}}/annulation", opt={"role": "coordinator"}, sync_to_thread=True)
def cancel(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    try:
        meetings(trame).cancel(territory, str(meeting_id), author=author_of(request), reason=one(data, "reason") or None)
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("cancel", exc, data, {"reason"}))
    return _back(territory, meeting_id)


@post(f"{P}/{{meeting_id:uuid}}/invitations", opt={"role": "coordinator"}, sync_to_thread=True)
def invite(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    try:
        delivery = meetings(trame).invite(territory, str(meeting_id), many(data, "structure_id"), author=author_of(request))
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("invite", exc, data, {"structure_id"}, keep_lists=("structure_id",)))
    return sent(request, trame, f"/t/{territory}/rencontres/{meeting_id}", delivery)


@post(f"{P}/{{meeting_id:uuid}}/reponse", opt={"role": "referent"}, sync_to_thread=True)
def answer_as_referent(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    access = access_of(request)
    structure_id = one(data, "structure_id") or access.structure_id or ""
    if not access.may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez répondre que pour votre propre structure.")
    try:
        meetings(trame).answer_as_member(
            territory,
            str(meeting_id),
            structure_id=structure_id,
            answer=one(data, "answer"),
            author=access.principal.account_id,
            comment=one(data, "comment") or None,
        )
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("answer", exc, data, {"answer", "comment"}))
    return _back(territory, meeting_id, "#invitations")


@post(f"{P}/{{meeting_id:uuid}}/presences", opt={"role": "coordinator"}, sync_to_thread=True)
def attendance(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    entries: list[dict[str, Any]] = [
        {"structure_id": key[len("presence_") :], "status": one(data, key)} for key in data if key.startswith("presence_")
    ]
    if one(data, "person_name") or one(data, "person_id"):
        entries.append(
            {
                "structure_id": one(data, "person_structure_id"),
                "status": one(data, "person_status", "present"),
                "person_id": one(data, "person_id") or None,
                "person_name": one(data, "person_name") or None,
            }
        )
    try:
        meetings(trame).record_attendance(territory, str(meeting_id), entries, author=author_of(request))
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("presences", exc, data))
    target = one(data, "next")
    if target.startswith("/t/") and "//" not in target:
        return Redirect(target, status_code=303)
    return _back(territory, meeting_id, "#presences")


@post(f"{P}/{{meeting_id:uuid}}/actions", opt={"role": "coordinator"}, sync_to_thread=True)
def add_action(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    try:
        meetings(trame).open_action(
            territory,
            str(meeting_id),
            author=author_of(request),
            title=one(data, "title"),
            owner_structure_id=one(data, "owner_structure_id") or None,
            due=one(data, "due") or None,
        )
    except Refused as exc:
        return _meeting(request, trame, territory, meeting_id, refusal("action", exc, data, {"title", "owner_structure_id", "due"}))
    return _back(territory, meeting_id, "#actions")


@post(f"{P}/actions/{{action_id:uuid}}/cloture", opt={"role": "coordinator"}, sync_to_thread=True)
def close_action(request: Request[Any, Any, Any], trame: Trame, territory: str, action_id: UUID, data: Form) -> Response[Any]:
    meeting_id = one(data, "meeting_id") or None
    try:
        meetings(trame).close_action(
            territory, str(action_id), author=author_of(request), meeting_id=meeting_id, note=one(data, "note") or None
        )
    except Refused as exc:
        if meeting_id is None:
            raise
        return _meeting(request, trame, territory, meeting_id, refusal("close", exc, data, set()))
    return Redirect(f"/t/{territory}/rencontres/{meeting_id}#actions" if meeting_id else f"/t/{territory}/rencontres/", status_code=303)


@get(f"{P}/{{meeting_id:uuid}}/compte-rendu", sync_to_thread=False)
def minutes_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, modifier: bool = False, envoi: str | None = None
) -> Template:
    return _minutes(request, trame, territory, meeting_id, editing=modifier, delivery=_delivery(request, trame, envoi))


def _minutes(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    meeting_id: UUID,
    *,
    editing: bool = False,
    refused: dict[str, Any] | None = None,
    delivery: Any = None,
) -> Template:
    """The minutes page; ``refused``: its form (or the publication) comes back with what was typed and why."""
    ctx = meeting_context(trame, territory, str(meeting_id))
    coordinator = access_of(request).at_least("coordinator")
    editing = coordinator and (editing or ctx["minutes"] is None or bool(refused and refused["form"] == "minutes"))
    return render(
        request,
        "rencontres/minutes.html",
        status_code=refused["status"] if refused else 200,
        **ctx,
        editing=editing,
        delivery=delivery,
        refused=refused,
    )


@post(f"{P}/{{meeting_id:uuid}}/compte-rendu", opt={"role": "coordinator"}, sync_to_thread=True)
def minutes_save(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID, data: Form) -> Response[Any]:
    titles, bodies = many(data, "section_title"), data.get("section_body", [])
    bodies = bodies if isinstance(bodies, list) else [bodies]
    sections = [Section(title=t, body=(bodies[i] if i < len(bodies) else "")) for i, t in enumerate(titles)]
    from core import privacy  # shared secrecy: warn before saving minutes that seem to name someone

    texts = [*titles, *bodies, one(data, "decisions"), one(data, "next_meeting")]
    warned = privacy.unconfirmed(texts, annuaire.known_names(trame, territory), one(data, privacy.CONFIRM) == "1")
    if warned:
        typed = {**data, "section_title": titles, "section_body": bodies, "decisions": one(data, "decisions")}
        values = {k: v for k, v in typed.items() if k not in ("_csrf_token", privacy.CONFIRM)}
        refused = {"form": "minutes", "errors": {}, "values": values, "status": 422, "privacy": warned}
        return _minutes(request, trame, territory, meeting_id, refused=refused)
    try:
        meetings(trame).write_minutes(
            territory,
            str(meeting_id),
            author=author_of(request),
            sections=sections,
            decisions=one(data, "decisions").splitlines(),
            next_meeting=one(data, "next_meeting") or None,
        )
    except Refused as exc:
        typed = {**data, "section_title": titles, "section_body": bodies, "decisions": one(data, "decisions")}
        refused = refusal("minutes", exc, typed, keep_lists=("section_title", "section_body"))
        return _minutes(request, trame, territory, meeting_id, refused=refused)
    return Redirect(f"/t/{territory}/rencontres/{meeting_id}/compte-rendu", status_code=303)


@post(f"{P}/{{meeting_id:uuid}}/compte-rendu/publication", opt={"role": "coordinator"}, sync_to_thread=True)
def minutes_publish(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID) -> Response[Any]:
    try:
        delivery = meetings(trame).publish_minutes(territory, str(meeting_id), author=author_of(request))
    except Refused as exc:
        return _minutes(request, trame, territory, meeting_id, refused=refusal("publish", exc, {}, set()))
    return sent(request, trame, f"/t/{territory}/rencontres/{meeting_id}/compte-rendu", delivery)


@get(f"{P}/{{meeting_id:uuid}}/emargement", sync_to_thread=False)
def sign_in_sheet(request: Request[Any, Any, Any], trame: Trame, territory: str, meeting_id: UUID) -> Template:
    """The feuille d'émargement: one row per invited structure, blank lines for others; A4 when printed."""
    return render(request, "rencontres/sheet.html", **meeting_context(trame, territory, str(meeting_id)), blanks=range(6))


def _enabled(trame: Trame, territory: str) -> None:
    if trame.territories.get(territory) is None or not trame.territories.is_enabled(territory, "rencontres"):
        raise NotFoundException("Cette page n'existe pas sur ce territoire.")


def _answer_context(trame: Trame, territory: str, token: str) -> dict[str, Any]:
    _enabled(trame, territory)
    svc = meetings(trame)
    inv = svc.invitation_by_token(territory, token)
    if inv is None:
        raise absent("Ce lien de réponse n'est pas valable. Demandez-en un nouveau à la coordination du réseau.")
    m = svc.require(territory, inv["meeting_id"])
    s = annuaire.structure(trame, territory, inv["structure_id"])
    return {
        "inv": inv,
        "m": m,
        "structure_name": s.name if s else "",
        "answers": ANSWERS,
        "token": token,
        "territory_title": (trame.territories.get(territory) or {}).get("title", ""),
    }


@get(f"{P}/reponse/{{token:str}}", opt={"public": True}, sync_to_thread=False)
def answer_form(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, fait: bool = False) -> Template:
    return render(request, "rencontres/answer.html", **_answer_context(trame, territory, token), done=fait, refused=None)


@post(f"{P}/reponse/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def answer_submit(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    ctx = _answer_context(trame, territory, token)
    try:
        meetings(trame).answer_with_token(
            territory, token, structure_id=one(data, "structure_id"), answer=one(data, "answer"), comment=one(data, "comment") or None
        )
    except Refused as exc:
        refused = refusal("answer", exc, data, {"answer", "comment"})
        return render(request, "rencontres/answer.html", status_code=refused["status"], **ctx, done=False, refused=refused)
    return Redirect(f"/t/{territory}/rencontres/reponse/{token}?fait=1", status_code=303)


@get(f"{P}/chiffres", sync_to_thread=True)
def figures_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, du: str | None = None, au: str | None = None, module: str | None = None
) -> Template:
    since, until = default_period(du, au)
    figures = fig.compute(trame, territory, since, until, module or None)
    return render(request, "rencontres/figures.html", f=figures, chart=fig.bar_chart(figures), module=module or "")


@get(f"{P}/agenda", sync_to_thread=False)
def agenda_page(request: Request[Any, Any, Any], trame: Trame, territory: str, envoi: str | None = None) -> Template:
    token = flash.take(trame.db, author_of(request), envoi, str) if envoi else None
    urls = feed_urls(trame, territory, token) if token else None
    return render(request, "rencontres/agenda.html", urls=urls, issued_at=meetings(trame).feed_issued_at(territory))


@post(f"{P}/agenda", opt={"role": "coordinator"}, sync_to_thread=True)
def agenda_issue(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Redirect:
    """A new feed address, shown once on the agenda page after the redirect."""
    token = meetings(trame).issue_feed_token(territory, author=author_of(request))
    return Redirect(f"/t/{territory}/rencontres/agenda?envoi={flash.put(trame.db, author_of(request), token)}", status_code=303)


@get(f"{P}/agenda/{{file:str}}", opt={"public": True}, sync_to_thread=True)
def agenda_feed(trame: Trame, territory: str, file: str) -> Response[bytes]:
    """The subscribable feed: ``/agenda/SECRET.ics`` (a calendar app cannot sign in, hence the secret)."""
    return calendar_response(trame, territory, file.removesuffix(".ics"), None)


@get(f"{P}/agenda/{{token:str}}/{{file:str}}", opt={"public": True}, sync_to_thread=True)
def agenda_plugin_feed(trame: Trame, territory: str, token: str, file: str) -> Response[bytes]:
    """The same feed narrowed to one plugin: ``/agenda/SECRET/cafe.ics``."""
    return calendar_response(trame, territory, token, file.removesuffix(".ics"))


ROUTES = [
    index,
    new_form,
    new_submit,
    meeting_page,
    reschedule,
    cancel,
    invite,
    answer_as_referent,
    attendance,
    add_action,
    close_action,
    minutes_page,
    minutes_save,
    minutes_publish,
    sign_in_sheet,
    answer_form,
    answer_submit,
    figures_page,
    agenda_page,
    agenda_issue,
    agenda_feed,
    agenda_plugin_feed,
]
