"""Charter pages: server-rendered, usable without JavaScript, printable (charter at a date, evaluation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template

from core import clock
from core.application import Trame
from core.plugins import PageSection
from core.refusals import Refused, absent, invalid
from core.text import collation_key
from core.web import flash
from core.web.access import access_of, author_of
from core.web.forms import Form, many, one
from core.web.rendering import fragment, render
from plugins.charte import links
from plugins.charte.api import check_signer, check_voter
from plugins.charte.forms import refusal
from plugins.charte.service import BAD_LINK, CHANNELS, FORMS, GRID, NO_NAMES, POLL_ABSENT, STATUSES, WEEKDAYS, PollLink, charters, day

P = "/t/{territory:str}/charte"
HERE = Path(__file__).parent


def _today() -> str:
    return clock.paris_today()


def _back(territory: str, charter_id: str, suffix: str = "") -> Redirect:
    return Redirect(f"/t/{territory}/charte/{charter_id}{suffix}", status_code=303)


@get(f"{P}/", sync_to_thread=False)
def index(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return render(request, "charte/index.html", items=charters(trame).all(territory))


def _text_form(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter: dict[str, Any] | None, refused: dict[str, Any] | None = None
) -> Template:
    """The form of a new charter or of a new version; a refused one comes back as typed."""
    current = charters(trame).version(territory, charter["charter_id"], charter["latest_version"]) if charter else None
    values = {"title": "", "preamble": "", "commitments": "", "carrier_structure_id": "", "form": "initiative"}
    if current:
        values.update(title=current["title"], preamble=current["preamble"], commitments="\n".join(current["commitments"]))
    if refused:
        values.update(refused["values"])
    return render(
        request,
        "charte/edit.html",
        status_code=refused["status"] if refused else 200,
        charter=charter,
        values=values,
        errors=refused["errors"] if refused else {},
        forms=FORMS,
        structures=links.structures(trame, territory) if charter is None else [],
    )


@get(f"{P}/nouvelle", opt={"role": "coordinator"}, sync_to_thread=False)
def new_form(request: Request[Any, Any, Any], trame: Trame, territory: str) -> Template:
    return _text_form(request, trame, territory, None)


@post(f"{P}/nouvelle", opt={"role": "coordinator"}, sync_to_thread=True)
def new_submit(request: Request[Any, Any, Any], trame: Trame, territory: str, data: Form) -> Response[Any]:
    try:
        cid = charters(trame).draft(
            territory,
            author=author_of(request),
            title=one(data, "title"),
            preamble=one(data, "preamble"),
            commitments=one(data, "commitments").splitlines(),
            carrier_structure_id=one(data, "carrier_structure_id"),
            form=one(data, "form"),
        )
    except Refused as exc:
        return _text_form(request, trame, territory, None, refusal("text", exc, data))
    return _back(territory, cid)


@get(f"{P}/{{charter_id:str}}", sync_to_thread=False)
def charter_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, au: str | None = None, sondage: str | None = None
) -> Template:
    """``sondage``: the poll whose adopted slot the cycle form opens with (the poll page links here)."""
    return _charter(request, trame, territory, charter_id, au, planning=sondage)


def _charter(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    charter_id: str,
    au: str | None = None,
    refused: dict[str, Any] | None = None,
    planning: str | None = None,
) -> Template:
    """The charter page; ``refused``: one of its forms comes back with what was typed and why it was refused;
    ``planning``: a poll whose adopted slot the cycle form opens with."""
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    try:
        on = day(au, "Date", required=False, field="au") or _today()
    except Refused as exc:
        on, refused = _today(), refusal("au", exc, {"au": au})
    access = access_of(request)
    structures = links.structures(trame, territory)
    mine = access.structure_id
    return render(
        request,
        "charte/charter.html",
        status_code=refused["status"] if refused else 200,
        refused=refused,
        c=c,
        **at_date(svc, territory, c, on),
        past=on != _today(),
        versions=svc.versions(territory, charter_id),
        history=svc.signatures(territory, charter_id),
        polls=svc.polls(territory, charter_id),
        cycles=svc.cycles(territory, charter_id),
        meetings=svc.meetings(territory, charter_id),
        attendance={m.meeting_id: m for m in svc.participation(territory, charter_id, "0001-01-01", "9999-12-31").meetings},
        carrier=links.structure(trame, territory, c["carrier_structure_id"]),
        structures=structures,
        my_structure=next((s for s in structures if s.id == mine), None),
        my_signature=svc.signature_of(territory, charter_id, mine) if mine else None,
        statuses=STATUSES,
        channels=CHANNELS,
        weekdays=WEEKDAYS,
        today=_today(),
        year=svc.evaluation_years(territory, charter_id)[-1],
        planning=planning or "",
    )


def at_date(svc: Any, territory: str, c: dict[str, Any], on: str) -> dict[str, Any]:
    """What the charter page and its printable copy show "as of" a day: the text and status of
    that day, and the signatories then (those of its last day when it had ended by then)."""
    state = svc.state_at(territory, c["charter_id"], on)
    ended = state["status"] == "ended"
    listed_on = state["status_on"] if ended else on
    return {
        "on": on,
        "on_label": links.long_date(on),
        "st": state,
        "text": state["version"] or svc.version(territory, c["charter_id"], c["latest_version"]),
        "signatories": svc.signatories(territory, c["charter_id"], listed_on),
        "signatories_label": links.long_date(listed_on),
        "invited": [] if ended else svc.invited(territory, c["charter_id"], on),
    }


@get(f"{P}/{{charter_id:str}}/versions/{{version_no:int}}", sync_to_thread=False)
def version_page(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, version_no: int) -> Template:
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    v = svc.version(territory, charter_id, version_no)
    return render(request, "charte/version.html", c=c, v=v, versions=svc.versions(territory, charter_id))


@get(f"{P}/{{charter_id:str}}/modifier", opt={"role": "coordinator"}, sync_to_thread=False)
def edit_form(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str) -> Template:
    return _text_form(request, trame, territory, charters(trame).get(territory, charter_id))


@post(f"{P}/{{charter_id:str}}/modifier", opt={"role": "coordinator"}, sync_to_thread=True)
def edit_submit(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    svc = charters(trame)
    try:
        no = svc.revise(
            territory,
            charter_id,
            author=author_of(request),
            title=one(data, "title"),
            preamble=one(data, "preamble"),
            commitments=one(data, "commitments").splitlines(),
        )
    except Refused as exc:
        return _text_form(request, trame, territory, svc.get(territory, charter_id), refusal("text", exc, data))
    return _back(territory, charter_id, f"/versions/{no}")


@post(f"{P}/{{charter_id:str}}/adoption", opt={"role": "coordinator"}, sync_to_thread=True)
def adopt(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    try:
        if not one(data, "version_no").isdigit():
            raise invalid("Choisissez la version à adopter.", "version_no")
        charters(trame).adopt(territory, charter_id, int(one(data, "version_no")), author=author_of(request), on=one(data, "adopted_on"))
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal("adopt", exc, data))
    return _back(territory, charter_id, "#versions")


@post(f"{P}/{{charter_id:str}}/statut", opt={"role": "coordinator"}, sync_to_thread=True)
def status(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    try:
        charters(trame).set_status(
            territory, charter_id, one(data, "status"), author=author_of(request), on=one(data, "on"), reason=one(data, "reason") or None
        )
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal("status", exc, data))
    return _back(territory, charter_id)


@post(f"{P}/{{charter_id:str}}/signatures", opt={"role": "referent"}, sync_to_thread=True)
def sign(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    access = access_of(request)
    structure_id = one(data, "structure_id") or (access.structure_id or "")
    form = "paper" if one(data, "form_name") == "paper" else "sign"
    version = one(data, "version_no")
    try:
        channel = check_signer(access, structure_id, one(data, "document_ref") or None)
        charters(trame).sign(
            territory,
            charter_id,
            author=author_of(request),
            structure_id=structure_id,
            signatory_name=one(data, "signatory_name"),
            signatory_role=one(data, "signatory_role"),
            signed_on=one(data, "signed_on"),
            version_no=int(version) if version.isdigit() else None,
            adaptation=one(data, "adaptation") or None,
            channel=channel,
            document_ref=one(data, "document_ref") or None,
        )
    except Refused as exc:
        shown = None if form == "paper" else {"signatory_name", "signatory_role", "signed_on", "adaptation"}
        return _charter(request, trame, territory, charter_id, refused=refusal(form, exc, data, shown))
    return _back(territory, charter_id, "#signataires")


@post(f"{P}/{{charter_id:str}}/signatures/{{signature_id:str}}/retrait", opt={"role": "referent"}, sync_to_thread=True)
def withdraw(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, signature_id: str, data: Form
) -> Response[Any]:
    svc = charters(trame)
    s = svc.signature(territory, charter_id, signature_id)
    if not access_of(request).may_edit_structure(s["structure_id"]):
        raise PermissionDeniedException("Seule la structure signataire ou la coordination peut retirer cette signature.")
    try:
        svc.withdraw(
            territory, charter_id, signature_id, author=author_of(request), on=one(data, "withdrawn_on"), reason=one(data, "reason") or None
        )
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal(f"withdraw-{signature_id}", exc, data))
    return _back(territory, charter_id, "#signataires")


@post(f"{P}/{{charter_id:str}}/invites", opt={"role": "coordinator"}, sync_to_thread=True)
def invite_partner(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    try:
        charters(trame).invite_partner(
            territory,
            charter_id,
            one(data, "structure_id"),
            author=author_of(request),
            since=one(data, "since") or _today(),
            note=one(data, "note") or None,
        )
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal("invite", exc, data))
    return _back(territory, charter_id, "#invites")


@post(f"{P}/{{charter_id:str}}/sondages", opt={"role": "coordinator"}, sync_to_thread=True)
def open_poll(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    slots = []
    for i in range(1, 5):
        wd, start, end = one(data, f"weekday{i}"), one(data, f"start{i}"), one(data, f"end{i}")
        if wd.isdigit() and start and end:
            slots.append((int(wd), start, end))
    try:
        pid = charters(trame).open_poll(territory, charter_id, author=author_of(request), question=one(data, "question"), slots=slots)
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal("poll", exc, data))
    return _back(territory, charter_id, f"/sondages/{pid}")


@get(f"{P}/{{charter_id:str}}/sondages/{{poll_id:str}}", sync_to_thread=False)
def poll_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, poll_id: str, liens: str | None = None
) -> Template:
    issued = flash.take(trame.db, author_of(request), liens, list[PollLink]) if liens else None
    return _poll(request, trame, territory, charter_id, poll_id, issued=issued)


def _poll(
    request: Request[Any, Any, Any],
    trame: Trame,
    territory: str,
    charter_id: str,
    poll_id: str,
    refused: dict[str, Any] | None = None,
    issued: list[PollLink] | None = None,
) -> Template:
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    p = svc.poll(territory, poll_id)
    if p["charter_id"] != charter_id:
        raise absent(POLL_ABSENT)
    access = access_of(request)
    mine = next((v for v in p["voters"] if v["structure_id"] == access.structure_id), None)
    return render(
        request,
        "charte/poll.html",
        status_code=refused["status"] if refused else 200,
        refused=refused,
        c=c,
        p=p,
        mine=mine,
        structures=links.structures(trame, territory),
        today=_today(),
        adopted_label=p["slot_labels"].get(p["adopted_slot_id"] or "", ""),
        planned=any(cy["poll_id"] == poll_id for cy in svc.cycles(territory, charter_id)),
        issued=[
            (link, _vote_url(trame, territory, link.token), links.addresses(trame, territory, link.structure_id)) for link in issued or []
        ],
    )


def _vote_url(trame: Trame, territory: str, token: str) -> str:
    return f"{trame.settings.base_url}/t/{territory}/charte/vote/{token}"


@post(f"{P}/{{charter_id:str}}/sondages/{{poll_id:str}}/liens", opt={"role": "coordinator"}, sync_to_thread=True)
def poll_links(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, poll_id: str) -> Response[Any]:
    """Issue each expected structure its own voting link; they are shown once, on the poll's page."""
    try:
        issued = charters(trame).issue_poll_links(territory, poll_id, author=author_of(request))
    except Refused as exc:
        return _poll(request, trame, territory, charter_id, poll_id, refusal("links", exc, {}))
    key = flash.put(trame.db, author_of(request), issued)
    return _back(territory, charter_id, f"/sondages/{poll_id}?liens={key}#liens")


def _vote_context(trame: Trame, territory: str, token: str) -> dict[str, Any]:
    if trame.territories.get(territory) is None or not trame.territories.is_enabled(territory, "charte"):
        raise absent("Cette page n'existe pas sur ce territoire.")
    svc = charters(trame)
    link = svc.poll_link(territory, token)
    if link is None:
        raise absent(BAD_LINK)
    p = svc.poll(territory, link.poll_id)
    mine = next((v for v in p["voters"] if v["structure_id"] == link.structure_id), None)
    return {
        "p": p,
        "c": svc.get(territory, p["charter_id"]),
        "mine": mine,
        "structure_name": links.names(trame, territory, {link.structure_id}).get(link.structure_id, ""),
        "token": token,
        "territory_title": (trame.territories.get(territory) or {}).get("title", ""),
    }


@get(f"{P}/vote/{{token:str}}", opt={"public": True}, sync_to_thread=False)
def vote_form(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, fait: bool = False) -> Template:
    """A structure's voting page, reached through its own link: no account."""
    return render(request, "charte/vote.html", **_vote_context(trame, territory, token), done=fait, refused=None)


@post(f"{P}/vote/{{token:str}}", opt={"public": True}, sync_to_thread=True)
def vote_submit(request: Request[Any, Any, Any], trame: Trame, territory: str, token: str, data: Form) -> Response[Any]:
    ctx = _vote_context(trame, territory, token)
    try:
        charters(trame).vote_with_token(territory, token, slot_ids=many(data, "slot"))
    except Refused as exc:
        refused = refusal("vote", exc, {"slot": many(data, "slot")})
        return render(request, "charte/vote.html", status_code=refused["status"], **ctx, done=False, refused=refused)
    return Redirect(f"/t/{territory}/charte/vote/{token}?fait=1", status_code=303)


@post(f"{P}/{{charter_id:str}}/sondages/{{poll_id:str}}/vote", opt={"role": "referent"}, sync_to_thread=True)
def poll_vote(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, poll_id: str, data: Form) -> Response[Any]:
    access = access_of(request)
    structure_id = one(data, "structure_id") or (access.structure_id or "")
    check_voter(access, structure_id)
    try:
        charters(trame).vote(territory, poll_id, author=author_of(request), structure_id=structure_id, slot_ids=many(data, "slot"))
    except Refused as exc:
        return _poll(request, trame, territory, charter_id, poll_id, refusal("vote", exc, {**data, "slot": many(data, "slot")}))
    return _back(territory, charter_id, f"/sondages/{poll_id}")


@post(f"{P}/{{charter_id:str}}/sondages/{{poll_id:str}}/adoption", opt={"role": "coordinator"}, sync_to_thread=True)
def poll_adopt(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, poll_id: str, data: Form) -> Redirect:
    charters(trame).adopt_poll(territory, poll_id, author=author_of(request), slot_id=one(data, "slot_id") or None)
    return _back(territory, charter_id, f"/sondages/{poll_id}")


@post(f"{P}/{{charter_id:str}}/cycle", opt={"role": "coordinator"}, sync_to_thread=True)
def plan_cycle(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, data: Form) -> Response[Any]:
    count = one(data, "count")
    try:
        charters(trame).plan_cycle(
            territory,
            charter_id,
            author=author_of(request),
            first_day=one(data, "first_day"),
            place=one(data, "place"),
            until=one(data, "until") or None,
            count=int(count) if count.isdigit() else None,
            poll_id=one(data, "poll_id") or None,
            start=one(data, "start") or None,
            end=one(data, "end") or None,
        )
    except Refused as exc:
        return _charter(request, trame, territory, charter_id, refused=refusal("cycle", exc, data))
    return _back(territory, charter_id, "#rencontres")


# -- a form's address reloaded or typed (after a refusal the address bar shows it): back to the form's page ----------
#: The charter page's forms: their address -> the section of the page that holds them.
CHARTER_FORMS = {
    "signatures": "#signataires",
    "invites": "#invites",
    "sondages": "#rencontres",
    "cycle": "#rencontres",
    "adoption": "#versions",
    "statut": "#statut",
}


@get([f"{P}/{{charter_id:str}}/{name}" for name in CHARTER_FORMS], sync_to_thread=False)
def charter_form_address(request: Request[Any, Any, Any], territory: str, charter_id: str) -> Redirect:
    """GET on the address a charter form posts to (reload after a refusal, Enter in the address bar): the charter page."""
    return _back(territory, charter_id, CHARTER_FORMS.get(request.url.path.rstrip("/").rsplit("/", 1)[-1], ""))


@get(f"{P}/{{charter_id:str}}/signatures/{{signature_id:str}}/retrait", sync_to_thread=False)
def withdraw_address(territory: str, charter_id: str, signature_id: str) -> Redirect:
    return _back(territory, charter_id, "#signataires")


@get([f"{P}/{{charter_id:str}}/sondages/{{poll_id:str}}/{name}" for name in ("vote", "adoption")], sync_to_thread=False)
def poll_form_address(territory: str, charter_id: str, poll_id: str) -> Redirect:
    """GET on the address of the poll page's forms: the poll page."""
    return _back(territory, charter_id, f"/sondages/{poll_id}")


@get(f"{P}/{{charter_id:str}}/rencontres/{{meeting_id:str}}", sync_to_thread=False)
def meeting_page(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, meeting_id: str) -> Template:
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    m = svc.charter_meeting(territory, charter_id, meeting_id)
    expected = svc.expected_at(territory, charter_id, m["day"])
    names = links.names(trame, territory, set(expected))
    suggested = svc.suggested_presenter(territory, charter_id, meeting_id) if not m["presenter_id"] else None
    minutes = links.minutes(trame, territory, meeting_id)
    parts = {s["title"]: s["body"] for s in (minutes or {}).get("sections", [])}
    figure = next((f for f in svc.participation(territory, charter_id, m["day"], m["day"]).meetings if f.meeting_id == meeting_id), None)
    present, excused = links.presence_names(trame, territory, meeting_id)
    return render(
        request,
        "charte/meeting.html",
        c=c,
        m=m,
        agenda=links.AGENDA,
        expected=sorted(expected, key=lambda s: collation_key(names[s])),
        names=names,
        suggested=suggested,
        invitations=links.invitations(trame, territory, meeting_id),
        minutes=minutes,
        parts=[parts.get(a, "") for a in links.AGENDA],
        no_names=NO_NAMES,
        figure=figure,
        present=present,
        excused=excused,
    )


@post(f"{P}/{{charter_id:str}}/rencontres/{{meeting_id:str}}/invitations", opt={"role": "coordinator"}, sync_to_thread=True)
def meeting_invite(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, meeting_id: str) -> Redirect:
    charters(trame).invite_to_meeting(territory, charter_id, meeting_id, author=author_of(request))
    return _back(territory, charter_id, f"/rencontres/{meeting_id}")


@post(f"{P}/{{charter_id:str}}/rencontres/{{meeting_id:str}}/intervenant", opt={"role": "coordinator"}, sync_to_thread=True)
def meeting_presenter(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, meeting_id: str, data: Form
) -> Redirect:
    charters(trame).choose_presenter(territory, charter_id, meeting_id, author=author_of(request), structure_id=one(data, "structure_id"))
    return _back(territory, charter_id, f"/rencontres/{meeting_id}")


@post(f"{P}/{{charter_id:str}}/rencontres/{{meeting_id:str}}/compte-rendu", opt={"role": "coordinator"}, sync_to_thread=True)
def meeting_minutes(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, meeting_id: str, data: Form
) -> Redirect:
    charters(trame).write_meeting_minutes(
        territory,
        charter_id,
        meeting_id,
        author=author_of(request),
        parts=[one(data, f"part{i}") for i in (1, 2, 3)],
        decisions=one(data, "decisions").splitlines(),
    )
    return _back(territory, charter_id, f"/rencontres/{meeting_id}")


@get(f"{P}/{{charter_id:str}}/participation", sync_to_thread=True)
def participation_page(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, du: str | None = None, au: str | None = None
) -> Template:
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    adopted = [v["adopted_on"] for v in svc.versions(territory, charter_id) if v["adopted_on"]]
    since = day(du, "Du", required=False) or (min(adopted) if adopted else f"{clock.paris_today()[:4]}-01-01")
    until = day(au, "Au", required=False) or (c["status_on"] if c["status"] == "ended" and c["status_on"] else _today())
    return render(request, "charte/participation.html", c=c, f=svc.participation(territory, charter_id, since, until))


@get(f"{P}/{{charter_id:str}}/evaluation/{{year:int}}", sync_to_thread=True)
def evaluation_page(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, year: int) -> Template:
    return _evaluation(request, trame, territory, charter_id, year)


def _evaluation(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, year: int, refused: dict[str, Any] | None = None
) -> Template:
    r = charters(trame).evaluation(territory, charter_id, year)
    if refused:
        r["texts"] = {k: refused["values"].get(k, "") for k in GRID}
    return render(
        request,
        "charte/evaluation.html",
        status_code=refused["status"] if refused else 200,
        errors=refused["errors"] if refused else {},
        r=r,
        grid=GRID,
    )


@post(f"{P}/{{charter_id:str}}/evaluation/{{year:int}}", opt={"role": "coordinator"}, sync_to_thread=True)
def evaluation_submit(
    request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, year: int, data: Form
) -> Response[Any]:
    try:
        charters(trame).write_evaluation(territory, charter_id, year, author=author_of(request), texts={k: one(data, k) for k in GRID})
    except Refused as exc:
        return _evaluation(request, trame, territory, charter_id, year, refusal("evaluation", exc, data))
    return _back(territory, charter_id, f"/evaluation/{year}")


@get(f"{P}/{{charter_id:str}}/impression", sync_to_thread=False)
def print_page(request: Request[Any, Any, Any], trame: Trame, territory: str, charter_id: str, au: str | None = None) -> Template:
    """The charter as a document: text in force at the date, commitments, signatories at the date (A4)."""
    svc = charters(trame)
    c = svc.get(territory, charter_id)
    on = day(au, "Date", required=False) or _today()
    return render(
        request,
        "charte/print.html",
        c=c,
        **at_date(svc, territory, c, on),
        carrier=links.structure(trame, territory, c["carrier_structure_id"]),
    )


# -- the section on a structure's sheet (annuaire) -----------------------------------------------------------------
def structure_section(trame: Trame, territory: str, structure_id: str, as_of: str) -> PageSection | None:
    svc = charters(trame)
    items = svc.all(territory)
    if not items:
        return None
    on = as_of[:10]
    rows = []
    for c in items:
        history = [s for s in svc.structure_history(territory, structure_id) if s["charter_id"] == c["charter_id"]]
        current = next((s for s in history if s["signed_on"] <= on < s["ended_on"]), None)
        invited = structure_id in {p["structure_id"] for p in svc.invited(territory, c["charter_id"], on)}
        rows.append(
            {"c": c, "state": svc.state_at(territory, c["charter_id"], on), "current": current, "history": history, "invited": invited}
        )
    html = fragment(trame, "charte/_section.html", rows=rows, territory=territory, on=on, on_label=links.long_date(on))
    return PageSection(title="Charte partenariale", html=html, order=40, plugin="charte")


ROUTES = [
    index,
    new_form,
    new_submit,
    charter_page,
    version_page,
    edit_form,
    edit_submit,
    adopt,
    status,
    sign,
    withdraw,
    invite_partner,
    open_poll,
    poll_page,
    poll_vote,
    poll_adopt,
    poll_links,
    vote_form,
    vote_submit,
    plan_cycle,
    charter_form_address,
    withdraw_address,
    poll_form_address,
    meeting_page,
    meeting_invite,
    meeting_presenter,
    meeting_minutes,
    participation_page,
    evaluation_page,
    evaluation_submit,
    print_page,
]
