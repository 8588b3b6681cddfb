"""JSON API of meetings: schedule, invite, answer, attendance, minutes, actions, feed, figures.

Members read; coordinators schedule, record and publish; referents answer for their
own structure. Answer links and the calendar feed are public routes that check their
own secret, since neither a partner nor a calendar app has an account.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.exceptions import NotFoundException

from core import clock
from core.application import Trame
from core.refusals import invalid
from core.web.access import access_of, author_of
from core.web.hygiene import DayQuery, day_param
from plugins.rencontres import figures as fig
from plugins.rencontres import schemas as s
from plugins.rencontres.events import Place, Section
from plugins.rencontres.ics import uid_of
from plugins.rencontres.service import Delivery, meetings

BASE = "/api/v1/territories/{slug:str}/rencontres"
TAGS = ["rencontres"]
PLUGIN = "rencontres"


def meeting_out(m: dict[str, Any]) -> s.MeetingOut:
    return s.MeetingOut(
        id=m["meeting_id"],
        plugin=m["plugin"],
        kind=m["kind"],
        series_id=m["series_id"],
        title=m["title"],
        day=m["day"],
        start=m["start_time"],
        end=m["end_time"],
        timezone=m["timezone"],
        starts_at=m["starts_at"],
        place_kind=m["place_kind"],
        place=m["place_label"],
        place_structure_id=m["place_structure_id"],
        place_url=m["place_url"],
        host_structure_id=m["host_structure_id"],
        theme=m["theme"],
        status=m["status"],
        sequence=m["sequence"],
        holiday=m["holiday"],
        proposed_day=m["proposed_day"],
        uid=uid_of(m["meeting_id"]),
    )


def action_out(a: dict[str, Any]) -> s.ActionOut:
    return s.ActionOut(
        id=a["action_id"],
        meeting_id=a["meeting_id"],
        title=a["title"],
        owner_structure_id=a["owner_structure_id"],
        due=a["due"],
        status=a["status"],
        closed_meeting_id=a["closed_meeting_id"],
    )


def delivery_out(d: Delivery) -> s.DeliveryOut:
    return s.DeliveryOut(
        sent_to=d.sent_to,
        to_copy=d.to_copy,
        links=[s.LinkOut(lk.structure_id, lk.structure_name, lk.url, lk.addresses, lk.sent) for lk in d.links],
    )


def place_of(trame: Trame, slug: str, p: s.PlaceIn) -> Place:
    return meetings(trame).place(slug, kind=p.kind, structure_id=p.structure_id, text=p.text, url=p.url)


def detail_out(trame: Trame, slug: str, meeting_id: str) -> s.MeetingDetailOut:
    svc = meetings(trame)
    m = svc.require(slug, meeting_id)
    minutes = svc.minutes(slug, meeting_id)
    return s.MeetingDetailOut(
        meeting=meeting_out(m),
        invitations=[
            s.InvitationOut(i["structure_id"], i["invited_at"], i["answer"], i["comment"], i["answered_at"])
            for i in svc.invitations(slug, meeting_id)
        ],
        attendance=[
            s.AttendanceOut(a["structure_id"], a["person_id"], a["person_name"], a["status"]) for a in svc.attendance(slug, meeting_id)
        ],
        minutes=None
        if minutes is None
        else s.MinutesOut(
            minutes["sections"],
            minutes["decisions"],
            minutes["next_meeting"],
            minutes["next_meeting_id"],
            minutes["revision"],
            minutes["written_at"],
            minutes["published_at"],
        ),
        actions=[action_out(a) for a in svc.actions_of(slug, meeting_id)],
        carried_over=[action_out(a) for a in svc.carried_over(slug, meeting_id)],
    )


@get(f"{BASE}/meetings", tags=TAGS, sync_to_thread=False)
def list_meetings(trame: Trame, slug: str, plugin: str | None = None, since: DayQuery = None, until: DayQuery = None) -> list[s.MeetingOut]:
    """Meetings of the territory, oldest first (``plugin`` = rencontres, cafe, ...)."""
    since, until = day_param("since", since), day_param("until", until)
    return [meeting_out(m) for m in meetings(trame).list(slug, plugin=plugin, since=since, until=until)]


@post(f"{BASE}/meetings", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def schedule_meeting(request: Request[Any, Any, Any], trame: Trame, slug: str, data: s.ScheduleIn) -> s.ScheduledOut:
    """Schedule a meeting or a recurring series. Days on a French public holiday come back with ``holiday`` and ``proposed_day``."""
    svc = meetings(trame)
    series_id, ids = svc.plan_series(
        slug,
        author=author_of(request),
        title=data.title,
        first_day=data.day,
        start=data.start,
        end=data.end,
        place=place_of(trame, slug, data.place),
        preset=data.preset,
        rule=data.rule,
        until=data.until,
        count=data.count,
        kind=data.kind,
        theme=data.theme,
        description=data.description,
    )
    return s.ScheduledOut(series_id=series_id, meetings=[meeting_out(svc.require(slug, i)) for i in ids])


@get(f"{BASE}/meetings/{{meeting_id:str}}", tags=TAGS, sync_to_thread=False)
def get_meeting(trame: Trame, slug: str, meeting_id: str) -> s.MeetingDetailOut:
    """A meeting with its invitations, attendance, minutes, actions and the open actions carried over to it."""
    return detail_out(trame, slug, meeting_id)


@post(f"{BASE}/meetings/{{meeting_id:str}}/reschedule", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def reschedule_meeting(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.RescheduleIn) -> s.MeetingOut:
    """Move a meeting: same calendar UID, SEQUENCE bumped."""
    svc = meetings(trame)
    place = place_of(trame, slug, data.place) if data.place else None
    svc.reschedule(
        slug,
        meeting_id,
        author=author_of(request),
        day=data.day,
        start=data.start,
        end=data.end,
        place=place,
        host_structure_id=place.structure_id if place else None,
        reason=data.reason,
    )
    return meeting_out(svc.require(slug, meeting_id))


@post(f"{BASE}/meetings/{{meeting_id:str}}/cancel", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def cancel_meeting(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.CancelIn) -> s.MeetingOut:
    svc = meetings(trame)
    svc.cancel(slug, meeting_id, author=author_of(request), reason=data.reason)
    return meeting_out(svc.require(slug, meeting_id))


@post(f"{BASE}/meetings/{{meeting_id:str}}/invitations", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def invite_structures(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.InviteIn) -> s.DeliveryOut:
    """Invite structures: each gets its own answer link (returned once), e-mailed with an .ics when SMTP is configured."""
    return delivery_out(meetings(trame).invite(slug, meeting_id, data.structure_ids, author=author_of(request), person_ids=data.person_ids))


def _enabled(trame: Trame, slug: str) -> None:
    if trame.territories.get(slug) is None or not trame.territories.is_enabled(slug, PLUGIN):
        raise NotFoundException("Cette adresse ne correspond à aucune page.")


@post(f"{BASE}/meetings/{{meeting_id:str}}/answers", opt={"public": True}, tags=TAGS, status_code=200, sync_to_thread=True)
def answer_invitation(trame: Trame, slug: str, meeting_id: str, data: s.AnswerIn) -> s.InvitationOut:
    """Answer with the token of an answer link (no account). 403 if the token was issued to another structure."""
    _enabled(trame, slug)
    svc = meetings(trame)
    inv = svc.answer_with_token(
        slug, data.token, structure_id=data.structure_id, answer=data.answer, comment=data.comment, meeting_id=meeting_id
    )
    row = next(i for i in svc.invitations(slug, meeting_id) if i["invitation_id"] == inv["invitation_id"])
    return s.InvitationOut(row["structure_id"], row["invited_at"], row["answer"], row["comment"], row["answered_at"])


@post(f"{BASE}/meetings/{{meeting_id:str}}/my-answer", opt={"role": "referent"}, tags=TAGS, status_code=200, sync_to_thread=True)
def answer_as_referent(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.MyAnswerIn) -> s.InvitationOut:
    """A referent answers for their own structure."""
    access = access_of(request)
    if not access.structure_id:
        raise invalid("Votre compte n'est rattaché à aucune structure.")
    svc = meetings(trame)
    svc.answer_as_member(
        slug, meeting_id, structure_id=access.structure_id, answer=data.answer, author=author_of(request), comment=data.comment
    )
    row = next(i for i in svc.invitations(slug, meeting_id) if i["structure_id"] == access.structure_id)
    return s.InvitationOut(row["structure_id"], row["invited_at"], row["answer"], row["comment"], row["answered_at"])


@put(f"{BASE}/meetings/{{meeting_id:str}}/attendance", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def record_attendance(
    request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.AttendanceIn
) -> list[s.AttendanceOut]:
    """Present / excused per structure and person; ``absent`` withdraws an earlier record."""
    svc = meetings(trame)
    svc.record_attendance(slug, meeting_id, [msgspec.to_builtins(e) for e in data.entries], author=author_of(request))
    return [s.AttendanceOut(a["structure_id"], a["person_id"], a["person_name"], a["status"]) for a in svc.attendance(slug, meeting_id)]


@put(f"{BASE}/meetings/{{meeting_id:str}}/minutes", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def write_minutes(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.MinutesIn) -> s.MeetingDetailOut:
    """Save the minutes (a new revision). Never name a person helped: situations are discussed anonymously."""
    meetings(trame).write_minutes(
        slug,
        meeting_id,
        author=author_of(request),
        sections=[Section(title=x.title, body=x.body) for x in data.sections],
        decisions=data.decisions,
        next_meeting=data.next_meeting,
        next_meeting_id=data.next_meeting_id,
    )
    return detail_out(trame, slug, meeting_id)


@post(f"{BASE}/meetings/{{meeting_id:str}}/minutes/publish", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def publish_minutes(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str) -> s.DeliveryOut:
    """Publish the minutes: e-mailed to the structures present, or listed to copy without SMTP."""
    return delivery_out(meetings(trame).publish_minutes(slug, meeting_id, author=author_of(request)))


@post(f"{BASE}/meetings/{{meeting_id:str}}/actions", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def open_action(request: Request[Any, Any, Any], trame: Trame, slug: str, meeting_id: str, data: s.ActionIn) -> s.ActionOut:
    """A follow-up action with its owner structure and due date; it shows at the next meetings until closed."""
    svc = meetings(trame)
    action_id = svc.open_action(
        slug, meeting_id, author=author_of(request), title=data.title, owner_structure_id=data.owner_structure_id, due=data.due
    )
    return action_out(next(a for a in svc.actions_of(slug, meeting_id) if a["action_id"] == action_id))


@get(f"{BASE}/actions", tags=TAGS, sync_to_thread=False)
def list_open_actions(trame: Trame, slug: str) -> list[s.ActionOut]:
    """Open follow-up actions of the territory."""
    return [action_out(a) for a in meetings(trame).open_actions(slug)]


@post(f"{BASE}/actions/{{action_id:str}}/close", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def close_action(request: Request[Any, Any, Any], trame: Trame, slug: str, action_id: str, data: s.CloseActionIn) -> dict[str, str]:
    meetings(trame).close_action(slug, action_id, author=author_of(request), meeting_id=data.meeting_id, note=data.note)
    return {"id": action_id, "status": "closed"}


@post(f"{BASE}/feed-token", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def issue_feed_token(request: Request[Any, Any, Any], trame: Trame, slug: str) -> s.FeedTokenOut:
    """A new secret calendar-feed address (shown once; the previous one stops working)."""
    token = meetings(trame).issue_feed_token(slug, author=author_of(request))
    return feed_urls(trame, slug, token)


def feed_urls(trame: Trame, slug: str, token: str) -> s.FeedTokenOut:
    base = f"{trame.settings.base_url}/t/{slug}/rencontres/agenda/{token}"
    plugins = sorted(p for p in trame.territories.enabled_plugins(slug) if p in ("rencontres", "cafe", "charte"))
    return s.FeedTokenOut(url=f"{base}.ics", plugin_urls={p: f"{base}/{p}.ics" for p in plugins})


@get(f"{BASE}/feed.ics", opt={"public": True}, tags=TAGS, sync_to_thread=True, media_type="text/calendar")
def feed(trame: Trame, slug: str, token: str, plugin: str | None = None) -> Response[bytes]:
    """The territory's iCalendar feed (``plugin`` narrows it); ``token`` is the feed secret. Stable UIDs, SEQUENCE per change."""
    return calendar_response(trame, slug, token, plugin)


def calendar_response(trame: Trame, slug: str, token: str, plugin: str | None) -> Response[bytes]:
    _enabled(trame, slug)
    svc = meetings(trame)
    if not svc.feed_allows(slug, token):
        raise NotFoundException("Cette adresse d'agenda n'est pas (ou plus) valable.")
    if plugin and not trame.territories.is_enabled(slug, plugin):
        raise NotFoundException("Cette adresse ne correspond à aucune page.")
    title = (trame.territories.get(slug) or {}).get("title", slug)
    name = f"{title} — {trame.catalog.info[plugin].title}" if plugin else f"{title} — rencontres"
    return Response(
        svc.feed(slug, plugin=plugin, name=name),
        media_type="text/calendar",  # Litestar adds "; charset=utf-8" to text types
        headers={"Cache-Control": "private, max-age=300"},
    )


def default_period(since: str | None, until: str | None) -> tuple[str, str]:
    today = date.fromisoformat(clock.paris_today())
    return (since or (today - timedelta(days=365)).isoformat(), until or today.isoformat())


def figures_out(f: fig.Figures) -> s.FiguresOut:
    return s.FiguresOut(
        since=f.since,
        until=f.until,
        overall_rate=f.overall_rate,
        meetings=[s.MeetingFigureOut(m.meeting_id, m.day, m.title, m.invited, m.present, m.excused, m.rate) for m in f.meetings],
        structures=[s.StructureFigureOut(x.structure_id, x.name, x.expected, x.present, x.excused, x.rate) for x in f.structures],
        never_seen=f.never_seen,
        newcomers=f.newcomers,
    )


@get(f"{BASE}/figures", tags=TAGS, sync_to_thread=True)
def get_figures(trame: Trame, slug: str, since: DayQuery = None, until: DayQuery = None, plugin: str | None = None) -> s.FiguresOut:
    """Participation per meeting and per structure over a period (default: the last twelve months), never seen, newcomers."""
    since, until = default_period(since, until)
    return figures_out(fig.compute(trame, slug, since, until, plugin))


ROUTES = [
    list_meetings,
    schedule_meeting,
    get_meeting,
    reschedule_meeting,
    cancel_meeting,
    invite_structures,
    answer_invitation,
    answer_as_referent,
    record_attendance,
    write_minutes,
    publish_minutes,
    open_action,
    list_open_actions,
    close_action,
    issue_feed_token,
    feed,
    get_figures,
]
