"""Cafés partenaires: planning (monthly, thematic, the yearly plenary), hosting in turn, round table, newcomers.

A café is a ``rencontres`` meeting (plugin "cafe"), so invitations, answers,
attendance, the sign-in sheet, the feed and the figures come from there; this
module adds what is particular to cafés.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from core import clock
from core.commands import History, run
from core.events import Event, Recorded
from core.refusals import Refused, absent, conflict, invalid
from core.store import Context
from core.structures import require_structure
from core.text import collation_key, fold
from plugins.annuaire import public as annuaire
from plugins.cafe import events as ev
from plugins.rencontres.public import Delivery, MeetingState, meetings, occurrences, presence_of_new_structure

if TYPE_CHECKING:
    from core.application import Trame

PLUGIN = "cafe"
TITLE = "Café partenaires"
KINDS = {"cafe": "Café partenaires", "thematique": "Café thématique", "pleniere": "Réunion plénière annuelle"}
DEFAULT_START, DEFAULT_END = "09:00", "10:30"


def hosts_stream(territory: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:cafe:hosts:{territory}")


def cafe_stream(meeting_id: str) -> UUID:
    """Café events of one café live beside (not in) its meeting stream."""
    return uuid5(NAMESPACE_URL, f"trame:cafe:{meeting_id}")


def _like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


BUSY = "Ce café est modifié en ce moment par quelqu'un d'autre ; réessayez."

#: Every café of a territory (a monthly café for a century stays under it).
ALL_CAFES = 100_000


class Cafes:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame
        self.meetings = meetings(trame)

    def _command(
        self,
        territory: str,
        author: str,
        stream: UUID,
        decide: Callable[[list[Recorded]], Sequence[Event]],
        *,
        meeting_id: str | None = None,
        cancelled: Callable[[str], Refused] = conflict,
    ) -> None:
        """Decide on the stream's history (the café's or the hosting offers'), again if another
        writer got there first, and append at the version read. With ``meeting_id``, a café
        whose meeting is cancelled (as its own stream tells) refuses the command."""
        meeting = UUID(meeting_id) if meeting_id else None

        def decided(history: History) -> dict[UUID, Sequence[Event]]:
            if meeting is not None and MeetingState.of(history.of(meeting)).cancelled:
                raise cancelled("Ce café est annulé.")
            return {stream: decide([r for r in history.of(stream) if r.territory == territory])}

        streams = [stream] if meeting is None else [stream, meeting]
        run(self.trame, Context(author=author, territory=territory), streams, decided, busy=BUSY)

    # -- planning ----------------------------------------------------------------------------
    def start_series(
        self,
        territory: str,
        *,
        author: str,
        first_day: str,
        until: str | None = None,
        count: int | None = None,
        start: str = DEFAULT_START,
        end: str = DEFAULT_END,
        host_structure_id: str | None = None,
        place_text: str | None = None,
    ) -> tuple[str | None, list[str]]:
        """Monthly cafés on the same weekday rank as the first one (by default a Friday, 9:00-10:30)."""
        place = self._place(territory, host_structure_id, place_text)
        series_id, ids = self.meetings.plan_series(
            territory,
            author=author,
            title=TITLE,
            first_day=first_day,
            start=start,
            end=end,
            place=place,
            preset="mensuel",
            until=until,
            count=count,
            plugin=PLUGIN,
            kind="cafe",
        )
        return series_id, ids

    def _place(self, territory: str, host_structure_id: str | None, place_text: str | None) -> Any:
        if host_structure_id:
            return self.meetings.place(territory, kind="structure", structure_id=host_structure_id)
        return self.meetings.place(territory, kind="text", text=place_text or "Lieu à préciser")

    def plan(
        self,
        territory: str,
        *,
        author: str,
        day: str,
        start: str = DEFAULT_START,
        end: str = DEFAULT_END,
        host_structure_id: str | None = None,
        place_text: str | None = None,
        kind: str = "cafe",
        theme: str | None = None,
        series_id: str | None = None,
    ) -> str:
        """One café; the host's address becomes the place. A thematic café needs a theme; one plenary a year."""
        if kind not in KINDS:
            raise invalid(f"Type de café inconnu « {kind} ».")
        if kind == "thematique" and theme not in annuaire.THEMES:
            raise invalid("Un café thématique a un thème : choisissez-le dans la liste.")
        if kind == "pleniere":
            year = day[:4]
            others = [
                m
                for m in self.meetings.list(territory, plugin=PLUGIN, since=f"{year}-01-01", until=f"{year}-12-31", include_cancelled=False)
                if m["kind"] == "pleniere"
            ]
            if others:
                raise invalid(f"Une réunion plénière est déjà prévue en {year} ({others[0]['date_label']}) : une par an.")
        title = KINDS[kind] + (f" — {annuaire.THEMES[theme]}" if kind == "thematique" and theme else "")
        if series_id is None and kind == "cafe":
            series = self.meetings.all_series(territory, PLUGIN)
            series_id = series[-1]["series_id"] if series else None
        return self.meetings.schedule(
            territory,
            author=author,
            title=title,
            day=day,
            start=start,
            end=end,
            place=self._place(territory, host_structure_id, place_text),
            plugin=PLUGIN,
            kind=kind,
            series_id=series_id,
            host_structure_id=host_structure_id,
            theme=theme if kind == "thematique" else None,
        )

    def invitation_list(self, territory: str, meeting_id: str) -> list[str]:
        """Everyone for a café or the plenary; for a thematic café, the structures working on its theme."""
        m = self.require(territory, meeting_id)
        theme = m["theme"] if m["kind"] == "thematique" else None
        return [s.id for s in annuaire.structures(self.trame, territory, theme=theme)]

    def invite(self, territory: str, meeting_id: str, *, author: str) -> Delivery:
        return self.meetings.invite(territory, meeting_id, self.invitation_list(territory, meeting_id), author=author)

    def require(self, territory: str, meeting_id: str) -> dict[str, Any]:
        m = self.meetings.require(territory, meeting_id)
        if m["plugin"] != PLUGIN:
            raise absent("Ce café n'existe pas sur ce territoire.")
        return m

    def cafes(
        self, territory: str, *, since: str | None = None, until: str | None = None, descending: bool = False, limit: int = 500
    ) -> list[dict[str, Any]]:
        return self.meetings.list(territory, plugin=PLUGIN, since=since, until=until, descending=descending, limit=limit)

    # -- capacity, registrations, waiting list ----------------------------------------------
    def set_capacity(self, territory: str, meeting_id: str, capacity: int | None, *, author: str) -> None:
        """How many structures the café welcomes (None: no limit); a lower one sends the last
        registered to the waiting list, a higher one gives the first waiting their places."""
        self.require(territory, meeting_id)

        def decide(history: list[Recorded]) -> list[Event]:
            if capacity is not None and not 1 <= capacity <= 1000:
                raise invalid("La capacité est un nombre de structures, entre 1 et 1000 (laissez vide pour ne pas limiter).")
            return [ev.CapacitySet(meeting_id=meeting_id, capacity=capacity)]

        self._command(territory, author, cafe_stream(meeting_id), decide, meeting_id=meeting_id)

    def capacity(self, territory: str, meeting_id: str) -> int | None:
        with self.trame.db.read() as cur:
            value = cur.scalar("SELECT capacity FROM cafe_capacity WHERE territory = ? AND meeting_id = ?", (territory, meeting_id))
        return None if value is None else int(value)

    def registrations(self, territory: str, meeting_id: str) -> dict[str, list[dict[str, Any]]]:
        """``{"inscrit": [...], "attente": [...]}``: structures in the order they said they would come."""
        with self.trame.db.read() as cur:
            rows = [
                dict(r)
                for r in cur.execute(
                    "SELECT structure_id, status, since FROM cafe_registrations WHERE territory = ? AND meeting_id = ? ORDER BY since",
                    (territory, meeting_id),
                ).fetchall()
            ]
        names = annuaire.names(self.trame, territory, {r["structure_id"] for r in rows})
        out: dict[str, list[dict[str, Any]]] = {"inscrit": [], "attente": []}
        for r in rows:
            out[r["status"]].append({"structure_id": r["structure_id"], "name": names.get(r["structure_id"], "")})
        return out

    def figures(self, territory: str, meeting_ids: list[str]) -> dict[str, dict[str, int | None]]:
        """Per café: its capacity, how many structures are registered, waiting, and were present."""
        out: dict[str, dict[str, int | None]] = {mid: {"capacity": None, "inscrit": 0, "attente": 0, "present": 0} for mid in meeting_ids}
        if not meeting_ids:
            return out
        marks = ",".join("?" * len(meeting_ids))
        with self.trame.db.read() as cur:
            for r in cur.execute(
                f"SELECT meeting_id, capacity FROM cafe_capacity WHERE territory = ? AND meeting_id IN ({marks})", (territory, *meeting_ids)
            ).fetchall():
                out[r["meeting_id"]]["capacity"] = r["capacity"]
            for r in cur.execute(
                f"SELECT meeting_id, status, COUNT(*) AS n FROM cafe_registrations WHERE territory = ? AND meeting_id IN ({marks}) "
                "GROUP BY meeting_id, status",
                (territory, *meeting_ids),
            ).fetchall():
                out[r["meeting_id"]][r["status"]] = int(r["n"])
        for mid in meeting_ids:
            out[mid]["present"] = len({a["structure_id"] for a in self.meetings.attendance(territory, mid) if a["status"] == "present"})
        return out

    # -- hosting -------------------------------------------------------------------------------
    def offer_hosting(
        self, territory: str, structure_id: str, *, author: str, willing: bool, has_room: bool, note: str | None = None
    ) -> None:
        require_structure(self.trame, territory, structure_id)
        if annuaire.structure(self.trame, territory, structure_id) is None:
            raise absent("Cette structure n'est pas dans l'annuaire.")
        offered = ev.HostingOffered(structure_id=structure_id, willing=willing, has_room=has_room, note=(note or "").strip() or None)
        self._command(territory, author, hosts_stream(territory), lambda history: [offered])

    def hosts(self, territory: str) -> list[dict[str, Any]]:
        """Offers with the last café each structure hosted (held by today: a planned one is not yet
        "hosted") and the next one it will host. A café held at a structure's address counts as
        hosted by it, as do those of a monthly series, which carry the place but no host."""
        today = clock.paris_today()
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT structure_id, willing, has_room, note FROM cafe_hosts WHERE territory = ?", (territory,)).fetchall()
        last: dict[str, str] = {}
        upcoming: dict[str, str] = {}
        for m in meetings(self.trame).list(territory, plugin=PLUGIN, include_cancelled=False, limit=ALL_CAFES):
            host = m["host_structure_id"] or (m["place_structure_id"] if m["place_kind"] == "structure" else None)
            if host is None:
                continue
            day = m["day"]
            if day <= today:
                last[host] = max(last.get(host, day), day)
            else:
                upcoming[host] = min(upcoming.get(host, day), day)
        names = annuaire.names(self.trame, territory)
        out = [
            {
                **dict(r),
                "willing": bool(r["willing"]),
                "has_room": bool(r["has_room"]),
                "name": names.get(r["structure_id"], ""),
                "last_hosted": last.get(r["structure_id"]),
                "next_hosting": upcoming.get(r["structure_id"]),
            }
            for r in rows
            if r["structure_id"] in names
        ]
        return sorted(out, key=lambda h: collation_key(h["name"]))

    def suggest_host(self, territory: str) -> dict[str, Any] | None:
        """Among structures willing and with a room, not already down to host a coming café: one
        that never hosted, else the one that hosted least recently."""
        candidates = [h for h in self.hosts(territory) if h["willing"] and h["has_room"] and not h["next_hosting"]]
        if not candidates:
            return None
        return min(candidates, key=lambda h: (h["last_hosted"] is not None, h["last_hosted"] or "", collation_key(h["name"])))

    # -- round table -------------------------------------------------------------------------
    def record_news(self, territory: str, meeting_id: str, structure_id: str, news: str, *, author: str) -> None:
        """A structure's news at the tour de table; it also marks the structure present."""
        require_structure(self.trame, territory, structure_id)
        self.require(territory, meeting_id)

        def decide(history: list[Recorded]) -> list[Event]:
            if not news.strip():
                raise invalid("Écrivez les nouvelles de la structure.")
            if annuaire.structure(self.trame, territory, structure_id) is None:
                raise invalid("Choisissez une structure de l'annuaire.")
            return [ev.RoundTableEntryRecorded(meeting_id=meeting_id, structure_id=structure_id, news=news.strip())]

        self._command(territory, author, cafe_stream(meeting_id), decide, meeting_id=meeting_id, cancelled=invalid)
        present = {a["structure_id"] for a in self.meetings.attendance(territory, meeting_id) if a["status"] == "present"}
        if structure_id not in present:
            self.meetings.record_attendance(territory, meeting_id, [{"structure_id": structure_id, "status": "present"}], author=author)

    def round_table(self, territory: str, meeting_id: str) -> list[dict[str, Any]]:
        names = annuaire.names(self.trame, territory)
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT structure_id, news, recorded_at FROM cafe_round_table WHERE territory = ? AND meeting_id = ?",
                (territory, meeting_id),
            ).fetchall()
        return sorted(
            ({**dict(r), "name": names.get(r["structure_id"], "structure sortie de l'annuaire")} for r in rows),
            key=lambda e: collation_key(e["name"]),
        )

    def new_services(self, territory: str, meeting_id: str) -> list[annuaire.NewService]:
        """What's new in the directory's offer for this café's round table: services that started
        after the previous café (not cancelled) and by the end of this café's day; for the first
        café, in the month before it."""
        m = self.require(territory, meeting_id)
        before = [
            c for c in self.cafes(territory, until=m["day"], descending=True, limit=20)
            if c["day"] < m["day"] and c["status"] != "cancelled"
        ]  # fmt: skip
        previous = before[0]["day"] if before else (date.fromisoformat(m["day"]) - timedelta(days=31)).isoformat()
        # After the previous café's day (what started on it was news then), up to the end of this one's.
        since, until = clock.parse(previous, end_of_day=True), clock.parse(m["day"], end_of_day=True)
        return annuaire.new_services(self.trame, territory, since=since, until=until)

    def search(self, territory: str, q: str = "", *, structure_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Round-table news, newest café first; ``q`` matches words regardless of case and accents."""
        sql = "SELECT meeting_id, structure_id, news FROM cafe_round_table WHERE territory = ?"
        params: list[Any] = [territory]
        for word in fold(q).split():
            sql += " AND search_text LIKE ? ESCAPE '!'"
            params.append(f"%{_like(word)}%")
        if structure_id:
            sql += " AND structure_id = ?"
            params.append(structure_id)
        with self.trame.db.read() as cur:
            rows = cur.execute(sql, params).fetchall()
        # The cafés are the meetings plugin's: their day and title come through its service.
        cafes = {m["meeting_id"]: m for m in meetings(self.trame).list(territory, plugin=PLUGIN, limit=ALL_CAFES)}
        names = annuaire.names(self.trame, territory)
        found = [
            {
                **dict(r),
                "day": cafes[r["meeting_id"]]["day"],
                "title": cafes[r["meeting_id"]]["title"],
                "name": names.get(r["structure_id"], ""),
            }
            for r in rows
            if r["meeting_id"] in cafes
        ]
        found.sort(key=lambda e: e["structure_id"] or "")
        found.sort(key=lambda e: cafes[e["meeting_id"]]["starts_at"], reverse=True)
        return found[:limit]

    # -- newcomers ---------------------------------------------------------------------------
    def present_newcomer(self, territory: str, meeting_id: str, *, author: str, organisation: str, presentation: str = "") -> str:
        self.require(territory, meeting_id)
        if not organisation.strip():
            raise invalid("Indiquez le nom de l'organisation qui se présente.")
        newcomer_id = str(uuid.uuid4())
        presented = ev.NewcomerPresented(
            meeting_id=meeting_id, newcomer_id=newcomer_id, organisation=organisation.strip(), presentation=presentation.strip()
        )
        self._command(territory, author, cafe_stream(meeting_id), lambda history: [presented])
        return newcomer_id

    def newcomers(self, territory: str, meeting_id: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM cafe_newcomers WHERE territory = ? AND meeting_id = ? ORDER BY presented_at", (territory, meeting_id)
            ).fetchall()
        return [dict(r) for r in rows]

    def register_newcomer(self, territory: str, meeting_id: str, newcomer_id: str, *, author: str, **sheet: Any) -> str:
        """Create the newcomer's sheet in the directory, link it, and mark it present at the café:
        three streams in one atomic append, decided on the café's stream (again after a race)."""
        stream = cafe_stream(meeting_id)

        def presented(history: History) -> ev.NewcomerPresented:
            events = [r.event for r in history.of(stream) if r.territory == territory]
            if any(isinstance(e, ev.NewcomerRegistered) and e.newcomer_id == newcomer_id for e in events):
                raise invalid("La fiche de ce partenaire existe déjà dans l'annuaire.")
            found = next((e for e in events if isinstance(e, ev.NewcomerPresented) and e.newcomer_id == newcomer_id), None)
            if found is None:
                raise absent("Ce nouveau partenaire n'a pas été présenté à ce café.")
            return found

        newcomer = presented(History({stream: self.trame.store.stream(stream)}))
        fields = {k: v for k, v in sheet.items() if v not in (None, "", [])}
        fields.setdefault("name", newcomer.organisation)
        fields.setdefault("missions", newcomer.presentation or None)
        sheet_stream, joined = annuaire.joining(
            self.trame, territory, annuaire.StructureIn(**{k: v for k, v in fields.items() if v is not None})
        )
        structure_id = str(sheet_stream)
        meeting_stream, present = presence_of_new_structure(self.trame, territory, meeting_id, structure_id)

        def decide(history: History) -> dict[UUID, list[Event]]:
            presented(history)  # registered meanwhile by someone else: refused now
            registered = ev.NewcomerRegistered(meeting_id=meeting_id, newcomer_id=newcomer_id, structure_id=structure_id)
            return {sheet_stream: [joined], stream: [registered], meeting_stream: [present]}

        run(self.trame, Context(author=author, territory=territory), [sheet_stream, stream, meeting_stream], decide, busy=BUSY)
        return structure_id


def cafes(trame: Trame) -> Cafes:
    return Cafes(trame)


def next_friday_rank_day(today: date | None = None) -> str:
    """The next first Friday: the default day of a monthly café."""
    today = today or date.fromisoformat(clock.paris_today())
    return occurrences("FREQ=MONTHLY;BYDAY=+1FR", today, count=1)[0].isoformat()
