"""Meetings: the commands that write ``rencontres.*`` events and the queries over their read model.

Other plugins (cafe, charte) schedule and read meetings through :func:`meetings`; web
handlers only translate HTTP to these calls. Every query filters by territory.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core import clock, mail
from core.commands import History, run
from core.events import Event, Recorded
from core.refusals import absent, conflict, forbidden, invalid
from core.store import Context
from core.structures import require_structure, require_structures
from plugins.annuaire import public as annuaire
from plugins.rencontres import events as ev
from plugins.rencontres import ics
from plugins.rencontres.recurrence import PARIS, RuleError, describe, holiday_flag, long_date, occurrences, preset_rule

if TYPE_CHECKING:
    from core.application import Trame

ANSWERS = {"coming": "Vient", "not_coming": "Ne vient pas", "someone_else": "Quelqu'un d'autre de la structure viendra"}
PRESENCES = {"present": "Présent·e", "excused": "Excusé·e", "absent": "Absent·e"}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_stream(territory: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:rencontres:feed:{territory}")


@dataclass
class IssuedLink:
    """An answer link, shown or sent once: only its digest is stored."""

    structure_id: str
    structure_name: str
    url: str
    addresses: list[str]
    sent: bool = False


@dataclass
class Delivery:
    sent_to: list[str] = field(default_factory=list)
    to_copy: list[str] = field(default_factory=list)
    links: list[IssuedLink] = field(default_factory=list)


def _spoken(hhmm: str) -> str:
    """« 9 h », « 10 h 30 »: how a French invitation writes a time."""
    hours, minutes = hhmm.split(":")
    return f"{int(hours)} h" + (f" {minutes}" if minutes != "00" else "")


def _day(value: str, about: str | None = None) -> str:
    """``about``: the page input the value comes from (named in a refusal)."""
    try:
        return clock.parse_day(value).isoformat()
    except clock.BadInstant as exc:
        raise invalid(f"{exc}.", about) from None


def _time(value: str, about: str | None = None) -> str:
    v = value.strip().replace("h", ":").replace("H", ":")
    if v.endswith(":"):
        v += "00"
    parts = v.split(":")
    try:
        hh, mm = int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else 0
    except ValueError:
        raise invalid(f"« {value} » n'est pas une heure (attendu HH:MM).", about) from None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise invalid(f"« {value} » n'est pas une heure valide.", about)
    return f"{hh:02d}:{mm:02d}"


#: Read-model rows (the class's ``list`` method hides the builtin name inside it).
Rows = list[dict[str, Any]]

NOT_HERE = "Cette rencontre n'existe pas sur ce territoire."
BUSY = "Cette rencontre est modifiée en ce moment par quelqu'un d'autre ; réessayez."


@dataclass
class MeetingState:
    """A meeting as its own stream tells it: what its commands' rules are checked against
    (its read model may lag behind a concurrent writer)."""

    territory: str | None = None
    cancelled: bool = False
    invited: dict[str, ev.StructureInvited] = field(default_factory=dict)  # by structure id
    attendance: dict[tuple[str, str], str] = field(default_factory=dict)  # (structure, person or "") -> status
    minutes: bool = False

    @classmethod
    def of(cls, records: Sequence[Recorded]) -> MeetingState:
        state = cls()
        for rec in records:
            e = rec.event
            if isinstance(e, ev.MeetingScheduled):
                state.territory = rec.territory
            elif isinstance(e, ev.MeetingCancelled):
                state.cancelled = True
            elif isinstance(e, ev.StructureInvited):
                state.invited[e.structure_id] = e
            elif isinstance(e, ev.AttendanceRecorded | ev.GuestAttendanceRecorded):
                state.attendance[(e.structure_id, e.person_id or "")] = e.status
            elif isinstance(e, ev.MinutesWritten):
                state.minutes = True
        return state


def _rhythm_days(rule: str, first: date, until: str | None, count: int | None) -> list[date]:
    """The days of a rhythm, up to a last day or a number of meetings (one of them is needed)."""
    if until is None and count is None:
        raise invalid("Indiquez jusqu'à quand (date de fin) ou combien de rencontres prévoir.", "until")
    try:
        days = occurrences(rule, first, until=date.fromisoformat(_day(until, "until")) if until else None, count=count)
    except RuleError as exc:
        raise invalid(str(exc), "until" if until else "count") from exc
    if not days:
        raise invalid("Ce rythme ne donne aucune date dans la période choisie.", "until")
    return days


def _presence(entry: dict[str, Any]) -> tuple[str, ev.Presence, str | None, str | None]:
    """One attendance entry of a form, checked: (structure, status, person id, guest's name)."""
    status = entry.get("status") or "absent"
    if status not in PRESENCES:
        field = "person_status" if entry.get("person_name") or entry.get("person_id") else f"presence_{entry.get('structure_id') or ''}"
        raise invalid(f"Présence inconnue « {status} ».", field)
    sid = entry.get("structure_id")
    if not sid:
        raise invalid("Chaque présence se rattache à une structure.", "person_structure_id")
    name = (entry.get("person_name") or "").strip() or None
    return str(sid), cast(ev.Presence, status), entry.get("person_id") or None, name


class Meetings:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # -- helpers -----------------------------------------------------------------------------
    def _command(
        self,
        territory: str,
        author: str,
        stream: UUID,
        decide: Callable[[MeetingState], Sequence[Event]],
        reason: str | None = None,
    ) -> list[Recorded]:
        """Decide on the meeting's own history (again if another writer got there first) and
        append at the version read: a rule checked is a rule that held when the events were written."""

        def decided(history: History) -> dict[UUID, Sequence[Event]]:
            state = MeetingState.of(history.of(stream))
            if state.territory != territory:
                raise absent(NOT_HERE)
            return {stream: decide(state)}

        return run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decided, busy=BUSY)

    def place(
        self, territory: str, *, kind: str, structure_id: str | None = None, text: str | None = None, url: str | None = None
    ) -> ev.Place:
        """A place from a form: a structure (its name and address copied), free text, or an online link."""
        if kind == "structure":
            require_structure(self.trame, territory, structure_id)  # another territory's id: 404, as absent
            s = annuaire.structure(self.trame, territory, structure_id)
            if s is None:
                raise invalid("Choisissez la structure qui accueille la rencontre.", "place_structure_id")
            label = ", ".join(x for x in (s.name, s.address) if x)
            return ev.Place(kind="structure", structure_id=s.id, text=label)
        if kind == "online":
            if not url or not url.startswith(("https://", "http://")):
                raise invalid("Indiquez le lien de la visioconférence (https://…).", "place_url")
            return ev.Place(kind="online", url=url.strip(), text=(text or "En ligne").strip())
        if not (text or "").strip():
            raise invalid("Indiquez le lieu de la rencontre.", "place_text")
        return ev.Place(kind="text", text=(text or "").strip())

    def _check_times(self, start: str, end: str) -> tuple[str, str]:
        start, end = _time(start, "start"), _time(end, "end")
        if end <= start:
            raise invalid("L'heure de fin doit suivre l'heure de début.", "end")
        return start, end

    # -- commands ----------------------------------------------------------------------------
    def schedule(
        self,
        territory: str,
        *,
        author: str,
        title: str,
        day: str,
        start: str,
        end: str,
        place: ev.Place,
        plugin: str = "rencontres",
        kind: str = "reunion",
        series_id: str | None = None,
        host_structure_id: str | None = None,
        theme: str | None = None,
        description: str | None = None,
        reason: str | None = None,
    ) -> str:
        """Schedule one meeting; a public holiday is flagged with a proposed day, not refused."""
        event = self._scheduled(
            territory,
            title=title,
            day=day,
            start=start,
            end=end,
            place=place,
            plugin=plugin,
            kind=kind,
            series_id=series_id,
            host_structure_id=host_structure_id,
            theme=theme,
            description=description,
        )
        self._create(territory, author, {UUID(event.meeting_id): [event]}, reason)
        return event.meeting_id

    def _create(self, territory: str, author: str, new: dict[UUID, list[Event]], reason: str | None = None) -> None:
        """Open new streams (a meeting, a series with its meetings, an action) in one append."""

        def decide(history: History) -> dict[UUID, list[Event]]:
            if any(history.exists(s) for s in new):
                raise conflict(BUSY)  # a fresh random id already taken: never in practice
            return new

        run(self.trame, Context(author=author, territory=territory, reason=reason), list(new), decide, busy=BUSY)

    def _scheduled(
        self,
        territory: str,
        *,
        title: str,
        day: str,
        start: str,
        end: str,
        place: ev.Place,
        plugin: str,
        kind: str,
        series_id: str | None,
        host_structure_id: str | None,
        theme: str | None,
        description: str | None,
    ) -> ev.MeetingScheduled:
        if not title.strip():
            raise invalid("Donnez un titre à la rencontre.", "title")
        day = _day(day, "day")
        start, end = self._check_times(start, end)
        holiday, proposed = holiday_flag(date.fromisoformat(day))
        return ev.MeetingScheduled(
            meeting_id=str(uuid.uuid4()),
            plugin=plugin,
            kind=kind,
            series_id=series_id,
            title=title.strip(),
            day=day,
            start=start,
            end=end,
            timezone=PARIS,
            place=place,
            host_structure_id=host_structure_id,
            theme=theme or None,
            description=(description or "").strip() or None,
            holiday=holiday,
            proposed_day=proposed,
        )

    def plan_series(
        self,
        territory: str,
        *,
        author: str,
        title: str,
        first_day: str,
        start: str,
        end: str,
        place: ev.Place,
        preset: str = "",
        rule: str | None = None,
        until: str | None = None,
        count: int | None = None,
        plugin: str = "rencontres",
        kind: str = "reunion",
        theme: str | None = None,
        description: str | None = None,
    ) -> tuple[str | None, list[str]]:
        """Schedule every occurrence of a rhythm at once (each its own meeting, movable alone)."""
        if not title.strip():
            raise invalid("Donnez un titre à la rencontre.", "title")
        first = date.fromisoformat(_day(first_day, "day"))
        try:
            text = (rule or "").strip() or preset_rule(preset, first)
        except RuleError as exc:
            raise invalid(str(exc), "preset") from exc
        if text is None:
            return None, [
                self.schedule(
                    territory,
                    author=author,
                    title=title,
                    day=first.isoformat(),
                    start=start,
                    end=end,
                    place=place,
                    plugin=plugin,
                    kind=kind,
                    theme=theme,
                    description=description,
                )
            ]
        days = _rhythm_days(text, first, until, count)
        start, end = self._check_times(start, end)
        series_id = str(uuid.uuid4())
        planned = ev.SeriesPlanned(
            series_id=series_id,
            plugin=plugin,
            title=title.strip(),
            rule=text,
            first_day=first.isoformat(),
            start=start,
            end=end,
            place=place,
        )
        new: dict[UUID, list[Event]] = {UUID(series_id): [planned]}
        for d in days:
            e = self._scheduled(
                territory,
                title=title,
                day=d.isoformat(),
                start=start,
                end=end,
                place=place,
                plugin=plugin,
                kind=kind,
                series_id=series_id,
                host_structure_id=None,
                theme=theme,
                description=description,
            )
            new[UUID(e.meeting_id)] = [e]
        self._create(territory, author, new)
        return series_id, [str(stream) for stream in list(new)[1:]]

    def reschedule(
        self,
        territory: str,
        meeting_id: str,
        *,
        author: str,
        day: str,
        start: str,
        end: str,
        place: ev.Place | None = None,
        host_structure_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.require(territory, meeting_id)

        def decide(state: MeetingState) -> list[Event]:
            if state.cancelled:
                raise conflict("Cette rencontre est annulée : programmez-en une nouvelle.")
            moved_day = _day(day, "day")
            moved_start, moved_end = self._check_times(start, end)
            holiday, proposed = holiday_flag(date.fromisoformat(moved_day))
            return [
                ev.MeetingRescheduled(
                    meeting_id=meeting_id,
                    day=moved_day,
                    start=moved_start,
                    end=moved_end,
                    place=place,
                    host_structure_id=host_structure_id if place is not None else None,
                    holiday=holiday,
                    proposed_day=proposed,
                )
            ]

        self._command(territory, author, UUID(meeting_id), decide, reason)
        self._notify_change(territory, meeting_id, "Rencontre déplacée", reason)

    def cancel(self, territory: str, meeting_id: str, *, author: str, reason: str | None = None) -> None:
        self.require(territory, meeting_id)

        def decide(state: MeetingState) -> list[Event]:
            if state.cancelled:
                raise conflict("Cette rencontre est déjà annulée.")
            return [ev.MeetingCancelled(meeting_id=meeting_id)]

        self._command(territory, author, UUID(meeting_id), decide, reason)
        self._notify_change(territory, meeting_id, "Rencontre annulée", reason)

    def _notify_change(self, territory: str, meeting_id: str, what: str, reason: str | None) -> list[str]:
        """Mail each invited structure, one message per address, the updated iTIP message (same
        UID, higher SEQUENCE; ``CANCEL`` once cancelled): calendars move or remove the entry
        they accepted. Without SMTP the meeting page, its .ics and the feed suffice."""
        if not mail.configured(self.trame.settings):
            return []
        m = self.require(territory, meeting_id)
        recipients = self.recipients(territory, meeting_id)
        body = "\n".join(
            [
                "Bonjour,",
                "",
                f"{what} : {m['title']}",
                f"Désormais : {m['date_label']}, {m['hours']} — {m['place_label']}"
                if m["status"] != "cancelled"
                else "Elle n'aura pas lieu.",
                f"Motif : {reason}" if reason else "",
                "",
                "Le fichier agenda joint met à jour l'entrée de votre agenda ; votre lien de réponse reste valable.",
            ]
        )
        organizer = self.organizer(territory)
        base = self.trame.settings.base_url

        def calendar_for(address: str) -> bytes:
            return ics.itip(m, organizer=organizer, attendees=[ics.Party(address, recipients.get(address, ""))], base_url=base)

        mail.send(
            self.trame.settings,
            list(recipients),
            f"{what} : {m['title']} — {m['date_label']}",
            body,
            method=ics.method_of(m),
            per_recipient=calendar_for,
        )
        return list(recipients)

    def organizer(self, territory: str) -> ics.Party:
        """Who sends the invitations: the platform's address, named after the territory's coordination."""
        title = (self.trame.territories.get(territory) or {}).get("title", territory)
        return ics.Party(self.trame.settings.mail_from, f"Coordination — {title}")

    def recipients(self, territory: str, meeting_id: str, *, with_attendance: bool = False) -> dict[str, str]:
        """address -> structure name of everyone invited (each structure's generic address, then the
        invited people's); ``with_attendance`` adds the structures and people recorded at the meeting
        (present, excused or absent, invited or not)."""
        known = annuaire.names(self.trame, territory)
        people: dict[str, list[str]] = {}
        for inv in self.invitations(territory, meeting_id):
            people.setdefault(inv["structure_id"], []).extend(inv["person_ids"])
        if with_attendance:
            for a in self.attendance(territory, meeting_id):
                chosen = people.setdefault(a["structure_id"], [])
                if a["person_id"] and not str(a["person_id"]).startswith("participant:"):
                    chosen.append(a["person_id"])
        out: dict[str, str] = {}
        for sid, person_ids in people.items():
            for address in annuaire.addresses(self.trame, territory, sid, person_ids):
                out.setdefault(address, known.get(sid, ""))
        return out

    def invitation_ics(self, territory: str, meeting_id: str) -> bytes:
        """The meeting's iTIP message with every invited address as attendee: to download and
        send from one's own mail when Trame has no SMTP (``CANCEL`` once cancelled)."""
        m = self.require(territory, meeting_id)
        attendees = [ics.Party(a, name) for a, name in self.recipients(territory, meeting_id).items()]
        return ics.itip(m, organizer=self.organizer(territory), attendees=attendees, base_url=self.trame.settings.base_url)

    def invite(
        self,
        territory: str,
        meeting_id: str,
        structure_ids: list[str],
        *,
        author: str,
        person_ids: dict[str, list[str]] | None = None,
        send: bool = True,
    ) -> Delivery:
        """One unguessable answer link per structure not yet invited; mailed with an .ics when SMTP is set
        (and ``send``: demo data and imports of past meetings write to nobody)."""
        self.require(territory, meeting_id)
        known = annuaire.names(self.trame, territory)
        base = self.trame.settings.base_url
        delivery = Delivery()

        def decide(state: MeetingState) -> list[Event]:
            if state.cancelled:
                raise conflict("Cette rencontre est annulée.")
            require_structures(self.trame, territory, structure_ids)
            new = [s for s in dict.fromkeys(structure_ids) if s and s not in state.invited]
            unknown = [s for s in new if s not in known]
            if unknown:
                raise invalid(f"Structure(s) inconnue(s) de l'annuaire : {', '.join(unknown)}.", "structure_id")
            delivery.links.clear()  # decided again after a race: new links, for the structures still to invite
            events: list[Event] = []
            for sid in new:
                token = secrets.token_urlsafe(32)
                people = (person_ids or {}).get(sid, [])
                events.append(
                    ev.StructureInvited(
                        meeting_id=meeting_id, invitation_id=str(uuid.uuid4()), structure_id=sid, digest=digest(token), person_ids=people
                    )
                )
                url = f"{base}/t/{territory}/rencontres/reponse/{token}"
                delivery.links.append(IssuedLink(sid, known[sid], url, annuaire.addresses(self.trame, territory, sid, people)))
            return events

        if not self._command(territory, author, UUID(meeting_id), decide):
            return delivery
        m = self.require(territory, meeting_id)
        organizer = self.organizer(territory)
        for link in delivery.links:
            body = invitation_text(m, link.structure_name, link.url)

            def calendar_for(address: str, name: str = link.structure_name) -> bytes:
                return ics.itip(m, organizer=organizer, attendees=[ics.Party(address, name)], base_url=base)

            if send and mail.send(
                self.trame.settings,
                link.addresses,
                f"Invitation : {m['title']} — {long_date(m['day'])}",
                body,
                per_recipient=calendar_for,
            ):
                link.sent = True
                delivery.sent_to.extend(link.addresses)
            else:
                delivery.to_copy.extend(link.addresses)
        return delivery

    def answer_with_token(
        self, territory: str, token: str, *, structure_id: str, answer: str, comment: str | None = None, meeting_id: str | None = None
    ) -> dict[str, Any]:
        """An answer from an e-mailed link: valid only for the structure (and meeting) it was issued to."""
        inv = self.invitation_by_token(territory, token)
        if inv is None or (meeting_id is not None and inv["meeting_id"] != meeting_id):
            raise absent("Ce lien de réponse n'est pas valable.")
        if inv["structure_id"] != structure_id:
            raise forbidden("Ce lien de réponse a été envoyé à une autre structure : il ne permet pas de répondre pour celle-ci.")
        self._answer(territory, inv, answer, comment, author=f"lien:{inv['invitation_id']}")
        return inv

    def answer_as_member(
        self, territory: str, meeting_id: str, *, structure_id: str, answer: str, author: str, comment: str | None = None
    ) -> None:
        inv = next((i for i in self.invitations(territory, meeting_id) if i["structure_id"] == structure_id), None)
        if inv is None:
            raise conflict("Votre structure n'est pas invitée à cette rencontre.")
        self._answer(territory, inv, answer, comment, author=author)

    def _answer(self, territory: str, inv: dict[str, Any], answer: str, comment: str | None, *, author: str) -> None:
        if answer not in ANSWERS:
            raise invalid("Choisissez une réponse : je viens, je ne viens pas, ou quelqu'un d'autre de ma structure viendra.", "answer")
        self.require(territory, inv["meeting_id"])

        def decide(state: MeetingState) -> list[Event]:
            if state.cancelled:
                raise conflict("Cette rencontre est annulée.")
            return [
                ev.InvitationAnswered(
                    meeting_id=inv["meeting_id"],
                    invitation_id=inv["invitation_id"],
                    structure_id=inv["structure_id"],
                    answer=cast(ev.Answer, answer),
                    comment=(comment or "").strip()[:300] or None,
                    comment_id=f"commentaire:{uuid.uuid4()}",  # its own key: erasable with a person it names
                )
            ]

        self._command(territory, author, UUID(inv["meeting_id"]), decide)

    def record_attendance(self, territory: str, meeting_id: str, entries: list[dict[str, Any]], *, author: str) -> int:
        """Entries: {structure_id, status, person_id?, person_name?}; unchanged ones are skipped."""
        self.require(territory, meeting_id)
        require_structures(self.trame, territory, [e.get("structure_id") for e in entries])
        wanted = [_presence(entry) for entry in entries]

        def decide(state: MeetingState) -> list[Event]:
            events: list[Event] = []
            for sid, status, person_id, name in wanted:
                if name and not person_id:
                    person_id = f"participant:{uuid.uuid4()}"  # the subject key of a name typed here, erasable
                if state.attendance.get((sid, person_id or ""), "absent") == status and not name:
                    continue
                if name and person_id:
                    events.append(
                        ev.GuestAttendanceRecorded(
                            meeting_id=meeting_id, structure_id=sid, status=status, person_id=person_id, person_name=name
                        )
                    )
                else:
                    events.append(ev.AttendanceRecorded(meeting_id=meeting_id, structure_id=sid, status=status, person_id=person_id))
            return events

        return len(self._command(territory, author, UUID(meeting_id), decide))

    def write_minutes(
        self,
        territory: str,
        meeting_id: str,
        *,
        author: str,
        sections: list[ev.Section],
        decisions: list[str],
        next_meeting: str | None = None,
        next_meeting_id: str | None = None,
    ) -> None:
        self.require(territory, meeting_id)
        written = ev.MinutesWritten(
            meeting_id=meeting_id,
            sections=[s for s in sections if s.title.strip() or s.body.strip()],
            decisions=[d.strip() for d in decisions if d.strip()],
            next_meeting=(next_meeting or "").strip() or None,
            next_meeting_id=next_meeting_id or None,
        )
        self._command(territory, author, UUID(meeting_id), lambda state: [written])

    def publish_minutes(self, territory: str, meeting_id: str, *, author: str) -> Delivery:
        """Record the publication and send the minutes to everyone invited and every structure
        recorded at the meeting (present, excused or absent), one message per address; without
        SMTP, list the addresses to copy."""
        m = self.require(territory, meeting_id)
        minutes = self.minutes(territory, meeting_id)
        if minutes is None:
            raise conflict("Rédigez le compte rendu avant de le publier.")
        to = list(self.recipients(territory, meeting_id, with_attendance=True))
        delivery = Delivery()
        body = minutes_text(m, minutes, self.actions_of(territory, meeting_id), annuaire.names(self.trame, territory))
        if mail.send(self.trame.settings, to, f"Compte rendu : {m['title']} — {long_date(m['day'])}", body):
            delivery.sent_to = to
        else:
            delivery.to_copy = to

        def decide(state: MeetingState) -> list[Event]:
            if not state.minutes:
                raise conflict("Rédigez le compte rendu avant de le publier.")
            return [ev.MinutesPublished(meeting_id=meeting_id, recipients=len(to))]

        self._command(territory, author, UUID(meeting_id), decide)
        return delivery

    def open_action(
        self, territory: str, meeting_id: str, *, author: str, title: str, owner_structure_id: str | None = None, due: str | None = None
    ) -> str:
        self.require(territory, meeting_id)
        require_structure(self.trame, territory, owner_structure_id)
        if not title.strip():
            raise invalid("Décrivez la suite à donner.", "title")
        action_id = str(uuid.uuid4())
        event = ev.ActionOpened(
            action_id=action_id,
            meeting_id=meeting_id,
            title=title.strip(),
            owner_structure_id=owner_structure_id or None,
            due=_day(due, "due") if due else None,
        )
        try:
            meeting, action = UUID(meeting_id), UUID(action_id)
        except ValueError:
            raise absent("Cette rencontre n'existe pas.") from None

        def decide(history: History) -> dict[UUID, list[Event]]:
            if MeetingState.of(history.of(meeting)).territory != territory:
                raise absent(NOT_HERE)
            if history.exists(action):
                raise conflict(BUSY)  # a fresh random id already taken: never in practice
            return {action: [event]}

        run(self.trame, Context(author=author, territory=territory), [action, meeting], decide, busy=BUSY)
        return action_id

    def close_action(self, territory: str, action_id: str, *, author: str, meeting_id: str | None = None, note: str | None = None) -> None:
        try:
            stream = UUID(action_id)
        except ValueError:  # an id typed by hand in the address
            raise absent("Cette suite à donner n'existe pas.") from None

        def decide(history: History) -> dict[UUID, list[Event]]:
            records = history.of(stream)
            if not records or records[0].territory != territory:
                raise absent("Cette suite à donner n'existe pas.")
            if any(isinstance(r.event, ev.ActionClosed) for r in records):
                raise conflict("Cette suite à donner est déjà close.")
            return {stream: [ev.ActionClosed(action_id=action_id, meeting_id=meeting_id or None, note=(note or "").strip() or None)]}

        run(self.trame, Context(author=author, territory=territory), [stream], decide, busy=BUSY)

    def issue_feed_token(self, territory: str, *, author: str) -> str:
        """A new calendar-feed secret for the territory (the previous one stops working); returned once."""
        token = secrets.token_urlsafe(32)
        stream = feed_stream(territory)
        run(
            self.trame,
            Context(author=author, territory=territory),
            [stream],
            lambda h: {stream: [ev.FeedTokenIssued(digest=digest(token))]},
        )
        return token

    # -- queries -----------------------------------------------------------------------------
    def _decorate(self, row: Any) -> dict[str, Any]:
        m = dict(row)
        m["place_label"] = m.get("place_text") or m.get("place_url") or ""
        m["date_label"] = long_date(m["day"])
        m["proposed_label"] = long_date(m["proposed_day"]) if m.get("proposed_day") else ""
        m["hours"] = f"{_spoken(m['start_time'])} – {_spoken(m['end_time'])}"
        return m

    def get(self, territory: str, meeting_id: str) -> dict[str, Any] | None:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT * FROM rencontres_meetings WHERE territory = ? AND meeting_id = ?", (territory, meeting_id)
            ).fetchone()
        return None if row is None else self._decorate(row)

    def require(self, territory: str, meeting_id: str) -> dict[str, Any]:
        m = self.get(territory, meeting_id)
        if m is None:
            raise absent(NOT_HERE)
        return m

    def list(
        self,
        territory: str,
        *,
        plugin: str | None = None,
        since: str | None = None,
        until: str | None = None,
        series_id: str | None = None,
        include_cancelled: bool = True,
        descending: bool = False,
        limit: int = 500,
    ) -> Rows:
        sql = "SELECT * FROM rencontres_meetings WHERE territory = ?"
        params: list[Any] = [territory]
        if plugin:
            sql += " AND plugin = ?"
            params.append(plugin)
        if since:
            sql += " AND day >= ?"
            params.append(since)
        if until:
            sql += " AND day <= ?"
            params.append(until)
        if series_id:
            sql += " AND series_id = ?"
            params.append(series_id)
        if not include_cancelled:
            sql += " AND status <> 'cancelled'"
        sql += f" ORDER BY starts_at {'DESC' if descending else 'ASC'}, meeting_id LIMIT ?"
        params.append(limit)
        with self.trame.db.read() as cur:
            return [self._decorate(r) for r in cur.execute(sql, params).fetchall()]

    def series(self, territory: str, series_id: str) -> dict[str, Any] | None:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM rencontres_series WHERE territory = ? AND series_id = ?", (territory, series_id)).fetchone()
        if row is None:
            return None
        s = dict(row)
        s["rule_label"] = describe(s["rule"])
        s["place"] = msgspec.json.decode(s["place"])
        return s

    def all_series(self, territory: str, plugin: str | None = None) -> Rows:
        with self.trame.db.read() as cur:
            sql = "SELECT series_id FROM rencontres_series WHERE territory = ?" + (" AND plugin = ?" if plugin else "")
            rows = cur.execute(sql + " ORDER BY first_day, series_id", (territory, plugin) if plugin else (territory,)).fetchall()
        return [s for s in (self.series(territory, r["series_id"]) for r in rows) if s]

    def invitations(self, territory: str, meeting_id: str) -> Rows:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT invitation_id, meeting_id, structure_id, person_ids, invited_at, answer, comment, answered_at "
                "FROM rencontres_invitations WHERE territory = ? AND meeting_id = ? ORDER BY invited_at, structure_id",
                (territory, meeting_id),
            ).fetchall()
        return [
            {**dict(r), "person_ids": msgspec.json.decode(r["person_ids"]), "answer_label": ANSWERS.get(r["answer"] or "", "")}
            for r in rows
        ]

    def invitation_by_token(self, territory: str, token: str) -> dict[str, Any] | None:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT invitation_id, meeting_id, structure_id, answer, comment FROM rencontres_invitations "
                "WHERE territory = ? AND digest = ?",
                (territory, digest(token)),
            ).fetchone()
        return None if row is None else dict(row)

    def attendance(self, territory: str, meeting_id: str) -> Rows:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT structure_id, person_key, person_id, person_name, status FROM rencontres_attendance "
                "WHERE territory = ? AND meeting_id = ? ORDER BY structure_id, person_key",
                (territory, meeting_id),
            ).fetchall()
        return [dict(r) for r in rows]

    def minutes(self, territory: str, meeting_id: str) -> dict[str, Any] | None:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM rencontres_minutes WHERE territory = ? AND meeting_id = ?", (territory, meeting_id)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["sections"] = msgspec.json.decode(row["sections"])
        out["decisions"] = msgspec.json.decode(row["decisions"])
        return out

    def actions_of(self, territory: str, meeting_id: str) -> Rows:
        """The follow-up actions decided at this meeting."""
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM rencontres_actions WHERE territory = ? AND meeting_id = ? ORDER BY opened_at, action_id",
                (territory, meeting_id),
            ).fetchall()
        return [dict(r) for r in rows]

    def carried_over(self, territory: str, meeting_id: str) -> Rows:
        """Actions from earlier meetings of the same series (or plugin, for a lone meeting) still open at this one."""
        m = self.require(territory, meeting_id)
        scope, value = ("m.series_id", m["series_id"]) if m["series_id"] else ("m.plugin", m["plugin"])
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT a.*, m.day AS from_day, m.title AS from_title FROM rencontres_actions a "
                "JOIN rencontres_meetings m ON m.meeting_id = a.meeting_id "
                f"WHERE a.territory = ? AND {scope} = ? AND m.starts_at < ? AND m.meeting_id <> ? "
                "AND (a.status = 'open' OR a.closed_meeting_id = ?) ORDER BY m.starts_at, a.opened_at",
                (territory, value, m["starts_at"], meeting_id, meeting_id),
            ).fetchall()
        return [dict(r) for r in rows]

    def open_actions(self, territory: str) -> Rows:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT a.*, m.day AS from_day, m.title AS from_title, m.plugin FROM rencontres_actions a "
                "JOIN rencontres_meetings m ON m.meeting_id = a.meeting_id WHERE a.territory = ? AND a.status = 'open' "
                "ORDER BY a.due, m.day",
                (territory,),
            ).fetchall()
        return [dict(r) for r in rows]

    def feed_allows(self, territory: str, token: str) -> bool:
        with self.trame.db.read() as cur:
            stored = cur.scalar("SELECT digest FROM rencontres_feeds WHERE territory = ?", (territory,))
        return stored is not None and secrets.compare_digest(stored, digest(token))

    def feed_issued_at(self, territory: str) -> str | None:
        with self.trame.db.read() as cur:
            value: str | None = cur.scalar("SELECT issued_at FROM rencontres_feeds WHERE territory = ?", (territory,))
        return value

    def feed(self, territory: str, *, plugin: str | None = None, name: str) -> bytes:
        return ics.calendar(self.list(territory, plugin=plugin), name=name, base_url=self.trame.settings.base_url)


def meetings(trame: Trame) -> Meetings:
    return Meetings(trame)


def invitation_text(m: dict[str, Any], structure_name: str, url: str) -> str:
    lines = [
        "Bonjour,",
        "",
        f"{structure_name} est invitée à : {m['title']}",
        f"Quand : {m['date_label']}, {m['hours']}",
        f"Où : {m['place_label']}",
        "",
        "Merci de répondre (je viens / je ne viens pas / quelqu'un d'autre de la structure viendra) avec ce lien,",
        "propre à votre structure et sans compte à créer :",
        url,
        "",
        "L'invitation est jointe au format agenda (.ics).",
    ]
    return "\n".join(lines)


def minutes_text(m: dict[str, Any], minutes: dict[str, Any], actions: list[dict[str, Any]], names: dict[str, str]) -> str:
    lines = [f"Compte rendu — {m['title']}", f"{m['date_label']}, {m['hours']} — {m['place_label']}", ""]
    for s in minutes["sections"]:
        lines += [s["title"], s["body"], ""]
    if minutes["decisions"]:
        lines += ["Décisions :"] + [f"- {d}" for d in minutes["decisions"]] + [""]
    if actions:
        lines.append("Suites à donner :")
        for a in actions:
            owner = names.get(a["owner_structure_id"] or "", "")
            lines.append(f"- {a['title']}" + (f" ({owner})" if owner else "") + (f", pour le {long_date(a['due'])}" if a["due"] else ""))
        lines.append("")
    if minutes["next_meeting"]:
        lines.append(f"Prochaine rencontre : {minutes['next_meeting']}")
    return "\n".join(lines)
