"""Immersion programmes: open, join, offer, request, pair (with a suggestion), confirm, feedback, report.

Every command decides from the programme's stored stream through :func:`core.commands.run`
and says no with :class:`core.refusals.Refused`; queries read the projection's tables. The
day of a binôme is a ``rencontres`` meeting (plugin "immersions") at the host structure,
scheduled and mailed with its .ics through :mod:`plugins.rencontres.public`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from core import clock
from core.commands import History, run
from core.database import Row
from core.erasure import erase_free_text
from core.events import Event
from core.refusals import Refused, absent, conflict, invalid
from core.store import Context
from core.structures import require_structure
from plugins.annuaire import public as annuaire
from plugins.immersions import events as ev
from plugins.rencontres import public as rencontres

if TYPE_CHECKING:
    from core.application import Trame

PLUGIN = "immersions"

#: The fields a programme may cross (seed 004: « le champ social » and « le champ de l'emploi »).
FIELDS: dict[str, str] = {
    "social": "Champ social",
    "emploi": "Champ de l'emploi",
    "sante": "Champ de la santé",
    "logement": "Champ du logement",
    "education": "Champ de l'éducation",
    "handicap": "Champ du handicap",
}
#: A slot's length, with its hours (those of the meeting scheduled for the binôme).
LENGTHS: dict[ev.Length, tuple[str, str, str]] = {
    "matin": ("Demi-journée (matin)", "09:00", "12:30"),
    "apres-midi": ("Demi-journée (après-midi)", "13:30", "17:00"),
    "journee": ("Journée", "09:00", "17:00"),
}
WISHES: dict[ev.Wish, str] = {"demi-journee": "Une demi-journée", "journee": "Une journée", "indifferent": "Demi-journée ou journée"}
SIDES: dict[ev.Side, str] = {"host": "Structure d'accueil", "visitor": "Professionnel·le en immersion"}
ANSWERS: dict[ev.Answer, str] = {"confirmed": "Confirmé", "declined": "Décliné"}
#: The seed's four questions (« une réflexion en quatre temps »), asked of each side afterwards.
QUESTIONS: dict[str, str] = {
    "expectations": "Quelles attentes reposent sur chacun des deux champs ?",
    "convergences": "Quels points de convergence avez-vous identifiés ?",
    "obstacles": "Quels freins à l'articulation entre les deux champs ?",
    "recommendations": "Quelles préconisations pour renforcer les articulations ?",
}
ERASED = "personne effacée"
BUSY = "Ce programme est modifié en ce moment par quelqu'un d'autre ; réessayez."


def programme_stream(programme_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"trame:immersions:{programme_id}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _day(value: str | None, field_name: str, label: str) -> str:
    if not (value or "").strip():
        raise invalid(f"Indiquez la date ({label}).", field_name)
    try:
        return clock.parse_day(value or "").isoformat()
    except clock.BadInstant as exc:
        raise invalid(f"{exc}.", field_name) from None


def _text(value: str | None, limit: int = 4000) -> str:
    return (value or "").strip()[:limit]


# -- the programme as its stream tells it (what commands decide on) ------------------------------
@dataclass
class _Pair:
    offer_id: str
    request_id: str
    meeting_id: str
    cancelled: bool = False
    digests: tuple[str, str] | None = None
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    programme_id: str = ""
    fields: tuple[str, str] = ("", "")
    starts_on: str = ""
    ends_on: str = ""
    participants: dict[str, ev.ParticipantJoined] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    offers: dict[str, ev.SlotOffered] = field(default_factory=dict)
    requests: dict[str, ev.SlotRequested] = field(default_factory=dict)
    pairs: dict[str, _Pair] = field(default_factory=dict)

    def active_pairs(self) -> dict[str, _Pair]:
        return {k: p for k, p in self.pairs.items() if not p.cancelled}


def _fold(history: History, stream: UUID) -> _State:
    if not history.exists(stream):
        raise absent("Ce programme d'immersions n'existe pas sur ce territoire.")
    s = _State()
    for rec in history.of(stream):
        e = rec.event
        if isinstance(e, ev.ProgrammeOpened):
            s.programme_id, s.fields, s.starts_on, s.ends_on = e.programme_id, e.fields, e.starts_on, e.ends_on
        elif isinstance(e, ev.ParticipantJoined):
            s.participants[e.participant_id] = e
        elif isinstance(e, ev.ParticipantErased):
            s.erased.add(e.participant_id)
        elif isinstance(e, ev.SlotOffered):
            s.offers[e.offer_id] = e
        elif isinstance(e, ev.SlotRequested):
            s.requests[e.request_id] = e
        elif isinstance(e, ev.PairFormed):
            s.pairs[e.pair_id] = _Pair(e.offer_id, e.request_id, e.meeting_id)
        elif isinstance(e, ev.PairLinksIssued):
            s.pairs[e.pair_id].digests = (e.host_digest, e.visitor_digest)
        elif isinstance(e, ev.PairAnswered):
            s.pairs[e.pair_id].answers[e.side] = e.answer
        elif isinstance(e, ev.PairCancelled):
            s.pairs[e.pair_id].cancelled = True
    return s


def pairing_refusal(state: _State, offer_id: str, request_id: str) -> Refused | None:
    """Why this offer and this request cannot make a binôme, or None: each once, across the two
    fields, and never inside the same structure (the point is to meet the other field)."""
    offer, request = state.offers.get(offer_id), state.requests.get(request_id)
    if offer is None:
        return absent("Cette proposition d'accueil n'existe pas dans ce programme.", "offer_id")
    if request is None:
        return absent("Cette demande d'immersion n'existe pas dans ce programme.", "request_id")
    active = state.active_pairs().values()
    if any(p.offer_id == offer_id for p in active):
        return conflict("Cet accueil est déjà attribué à un binôme.", "offer_id")
    if any(p.request_id == request_id for p in active):
        return conflict("Cette demande a déjà son binôme.", "request_id")
    visitor = state.participants[request.participant_id]
    host = state.participants[offer.host_participant_id]
    if visitor.structure_id == offer.structure_id:
        return invalid(
            "Un binôme réunit deux structures différentes : ce·tte professionnel·le ne peut pas être accueilli·e "
            "dans sa propre structure. Choisissez un accueil chez un partenaire.",
            "offer_id",
        )
    if visitor.field == host.field:
        return invalid(
            f"Un binôme croise les deux champs : l'accueil et la demande relèvent tous deux du {FIELDS[host.field].lower()}. "
            "Choisissez un accueil dans l'autre champ.",
            "offer_id",
        )
    return None


# -- what the pages and the API get ----------------------------------------------------------------
@dataclass(frozen=True)
class IssuedLink:
    """A confirmation link, shown once (only its digest is stored) and sent when SMTP is set."""

    side: str
    label: str
    url: str
    addresses: list[str]
    sent: bool


@dataclass
class PairDelivery:
    pair_id: str
    links: list[IssuedLink] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    request_id: str
    offer_id: str
    visitor: str
    visitor_structure: str
    host: str
    host_structure: str
    day: str
    day_label: str
    length: str


#: What a confirmation link does, decided on the binôme as its row shows it and as its stream tells it.
_Action = Callable[[dict[str, Any], _Pair, ev.Side], list[Event]]


class Immersions:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame
        self.meetings = rencontres.meetings(trame)

    def _run(self, territory: str, author: str, programme_id: str, decide: Any, *, reason: str | None = None) -> list[Any]:
        self.require(territory, programme_id)  # another territory's programme: absent here
        stream = programme_stream(programme_id)

        def decided(history: History) -> Mapping[UUID, Sequence[Event]]:
            return {stream: decide(_fold(history, stream))}

        return run(self.trame, Context(author=author, territory=territory, reason=reason), [stream], decided, busy=BUSY)

    def _state(self, programme_id: str) -> _State:
        stream = programme_stream(programme_id)
        return _fold(History({stream: self.trame.store.stream(stream)}), stream)

    # -- commands ----------------------------------------------------------------------------
    def open_programme(
        self,
        territory: str,
        *,
        author: str,
        title: str,
        starts_on: str,
        ends_on: str,
        fields: Sequence[str],
        description: str | None = None,
    ) -> str:
        """A programme crossing two fields over a period (« du social à l'emploi »)."""
        if not title.strip():
            raise invalid("Donnez un titre au programme.", "title")
        start, end = _day(starts_on, "starts_on", "début"), _day(ends_on, "ends_on", "fin")
        if end < start:
            raise invalid("La fin du programme doit suivre son début.", "ends_on")
        chosen = [f for f in fields if f]
        if len(chosen) != 2 or len(set(chosen)) != 2 or any(f not in FIELDS for f in chosen):
            raise invalid("Choisissez les deux champs, différents, que le programme fait se rencontrer.", "field_a")
        programme_id = str(uuid.uuid4())
        stream = programme_stream(programme_id)
        event = ev.ProgrammeOpened(
            programme_id=programme_id,
            title=title.strip()[:300],
            starts_on=start,
            ends_on=end,
            fields=(chosen[0], chosen[1]),
            description=_text(description) or None,
        )

        def decide(history: History) -> Mapping[UUID, Sequence[Event]]:
            return {stream: [event]}

        run(self.trame, Context(author=author, territory=territory), [stream], decide, busy=BUSY)
        return programme_id

    def join(
        self,
        territory: str,
        programme_id: str,
        *,
        author: str,
        structure_id: str,
        field: str,
        person_id: str | None = None,
        full_name: str | None = None,
        email: str | None = None,
        job: str | None = None,
    ) -> str:
        """A professional joins: a contact of the structure in the directory, or a person named here."""
        self.require(territory, programme_id)
        if not structure_id:
            raise invalid("Choisissez la structure du ou de la professionnel·le.", "structure_id")
        require_structure(self.trame, territory, structure_id)
        if annuaire.structure(self.trame, territory, structure_id) is None:
            raise invalid("Choisissez une structure présente dans l'annuaire.", "structure_id")
        person_id = (person_id or "").strip() or None
        name = _text(full_name, 300) or None
        if person_id is None and name is None:
            raise invalid("Choisissez un contact de l'annuaire ou écrivez le nom du ou de la professionnel·le.", "full_name")
        if person_id is not None:
            if person_id not in {c.person.id for c in annuaire.contacts(self.trame, territory, structure_id)}:
                raise invalid("Cette personne n'est pas un contact actuel de cette structure dans l'annuaire.", "person_id")
            name, email = None, None
        participant_id = f"participant:{uuid.uuid4()}"

        def decide(state: _State) -> list[Event]:
            if field not in state.fields:
                raise invalid("Choisissez l'un des deux champs du programme.", "field")
            if person_id and any(p.person_id == person_id for p in state.participants.values()):
                raise conflict("Cette personne participe déjà au programme.", "person_id")
            return [
                ev.ParticipantJoined(
                    programme_id=programme_id,
                    participant_id=participant_id,
                    structure_id=structure_id,
                    field=field,
                    person_id=person_id,
                    full_name=name,
                    email=_text(email, 300) or None,
                    job=_text(job, 300) or None,
                )
            ]

        self._run(territory, author, programme_id, decide)
        return participant_id

    def erase_participant(self, territory: str, programme_id: str, participant_id: str, *, author: str) -> None:
        """Right to erasure of a name typed here: shred its key; the participation stays, nameless."""

        def decide(state: _State) -> list[Event]:
            p = state.participants.get(participant_id)
            if p is None:
                raise absent("Ce·tte participant·e n'existe pas dans ce programme.")
            if p.person_id:
                raise conflict("Cette personne est un contact de l'annuaire : effacez-la depuis sa fiche dans l'annuaire.")
            if participant_id in state.erased:
                return []
            return [ev.ParticipantErased(programme_id=programme_id, participant_id=participant_id)]

        with self.trame.db.read() as cur:
            name = cur.scalar("SELECT full_name FROM immersions_participants WHERE participant_id = ?", (participant_id,))
        if name:  # comments and guests' names elsewhere that name them go too
            why = "effacement des données personnelles"
            erase_free_text(self.trame, territory=territory, subject_id=participant_id, names=[name], author=author, reason=why)
        self._run(territory, author, programme_id, decide, reason="effacement des données personnelles")
        self.trame.keys.shred(participant_id)
        self.trame.db.scrub_free_space()

    def offer(
        self,
        territory: str,
        programme_id: str,
        *,
        author: str,
        host_participant_id: str,
        day: str,
        length: str,
        note: str | None = None,
    ) -> str:
        """The host participant's structure offers a half-day or a day (« accueillir un professionnel »)."""
        on = _day(day, "day", "jour de l'accueil")
        if length not in LENGTHS:
            raise invalid("Choisissez la durée de l'accueil : matin, après-midi ou journée.", "length")
        offer_id = str(uuid.uuid4())

        def decide(state: _State) -> list[Event]:
            host = state.participants.get(host_participant_id)
            if host is None:
                raise invalid("Choisissez le ou la professionnel·le qui accueillera.", "host_participant_id")
            if not (state.starts_on <= on <= state.ends_on):
                raise invalid(
                    f"L'accueil doit avoir lieu pendant le programme, du {clock.french_date(state.starts_on)} "
                    f"au {clock.french_date(state.ends_on)}.",
                    "day",
                )
            return [
                ev.SlotOffered(
                    programme_id=programme_id,
                    offer_id=offer_id,
                    structure_id=host.structure_id,
                    host_participant_id=host_participant_id,
                    day=on,
                    length=length,
                    note=_text(note) or None,
                )
            ]

        self._run(territory, author, programme_id, decide)
        return offer_id

    def request(
        self, territory: str, programme_id: str, *, author: str, participant_id: str, wish: str = "indifferent", note: str | None = None
    ) -> str:
        """A participant asks for an immersion in the other field; one request each."""
        if wish not in WISHES:
            raise invalid("Choisissez une demi-journée, une journée, ou indifférent.", "wish")
        request_id = str(uuid.uuid4())

        def decide(state: _State) -> list[Event]:
            if participant_id not in state.participants:
                raise invalid("Choisissez le ou la professionnel·le qui demande l'immersion.", "participant_id")
            if any(r.participant_id == participant_id for r in state.requests.values()):
                raise conflict("Ce·tte professionnel·le a déjà demandé une immersion dans ce programme.", "participant_id")
            return [
                ev.SlotRequested(
                    programme_id=programme_id,
                    request_id=request_id,
                    participant_id=participant_id,
                    wish=wish,
                    note=_text(note) or None,
                )
            ]

        self._run(territory, author, programme_id, decide)
        return request_id

    def pair(self, territory: str, programme_id: str, offer_id: str, request_id: str, *, author: str, send: bool = True) -> PairDelivery:
        """Pair a request with an offer: schedule the day at the host structure, issue a link per side.
        ``send``: mail the links with the .ics (demo data writes to nobody)."""
        refusal = pairing_refusal(self._state(programme_id), offer_id, request_id)
        if refusal is not None:
            raise refusal
        offer = self._offer_row(territory, offer_id)
        visitor = self._participant_of_request(territory, request_id)
        names = annuaire.names(self.trame, territory, [offer["structure_id"], visitor["structure_id"]])
        _label, start, end = LENGTHS[offer["length"]]
        meeting_id = self.meetings.schedule(
            territory,
            author=author,
            title=f"Immersion : {names[visitor['structure_id']]} chez {names[offer['structure_id']]}",
            day=offer["day"],
            start=start,
            end=end,
            place=self.meetings.place(territory, kind="structure", structure_id=offer["structure_id"]),
            plugin=PLUGIN,
            kind="immersion",
            host_structure_id=offer["structure_id"],
            description=f"Immersion en binôme du programme « {self.require(territory, programme_id)['title']} ».",
        )
        pair_id = str(uuid.uuid4())
        tokens = {"host": secrets.token_urlsafe(32), "visitor": secrets.token_urlsafe(32)}

        def decide(state: _State) -> list[Event]:
            refused = pairing_refusal(state, offer_id, request_id)
            if refused is not None:
                raise refused
            return [
                ev.PairFormed(programme_id=programme_id, pair_id=pair_id, offer_id=offer_id, request_id=request_id, meeting_id=meeting_id),
                ev.PairLinksIssued(
                    programme_id=programme_id, pair_id=pair_id, host_digest=digest(tokens["host"]), visitor_digest=digest(tokens["visitor"])
                ),
            ]

        try:
            self._run(territory, author, programme_id, decide)
        except Refused:
            self.meetings.cancel(territory, meeting_id, author=author, reason="binôme non formé")
            raise
        return self._deliver(territory, pair_id, tokens, send=send)

    def reissue_links(self, territory: str, programme_id: str, pair_id: str, *, author: str, send: bool = True) -> PairDelivery:
        """New links for both sides (a lost e-mail); the previous ones stop working."""
        tokens = {"host": secrets.token_urlsafe(32), "visitor": secrets.token_urlsafe(32)}

        def decide(state: _State) -> list[Event]:
            p = state.pairs.get(pair_id)
            if p is None:
                raise absent("Ce binôme n'existe pas dans ce programme.")
            if p.cancelled:
                raise conflict("Ce binôme est annulé.")
            return [
                ev.PairLinksIssued(
                    programme_id=programme_id, pair_id=pair_id, host_digest=digest(tokens["host"]), visitor_digest=digest(tokens["visitor"])
                )
            ]

        self._run(territory, author, programme_id, decide)
        return self._deliver(territory, pair_id, tokens, send=send)

    def _deliver(self, territory: str, pair_id: str, tokens: dict[str, str], *, send: bool) -> PairDelivery:
        pair = self.require_pair(territory, pair_id)
        base = self.trame.settings.base_url
        delivery = PairDelivery(pair_id)
        for side in ("host", "visitor"):
            url = f"{base}/t/{territory}/immersions/lien/{tokens[side]}"
            who = pair[side]
            to = self._addresses(territory, who)
            body = invitation_text(pair, side, url)
            subject = f"Immersion en binôme — {clock.french_long_date(pair['day'])}"
            sent = send and rencontres.send_with_calendar(self.trame, territory, pair["meeting_id"], to, subject, body)
            delivery.links.append(IssuedLink(side, f"{SIDES[side]} : {who['name']} ({who['structure_name']})", url, to, bool(sent)))
        return delivery

    def _addresses(self, territory: str, who: dict[str, Any]) -> list[str]:
        out = annuaire.addresses(self.trame, territory, who["structure_id"], [who["person_id"]] if who["person_id"] else None)
        if who.get("email") and who["email"] not in out:
            out.append(who["email"])
        return out

    def _answer(self, territory: str, token: str, action: _Action) -> tuple[dict[str, Any], ev.Side]:
        found = self.by_token(territory, token)
        if found is None:
            raise absent("Ce lien n'est pas (ou plus) valable. Demandez-en un nouveau à la coordination du programme.")
        pair, side = found
        programme_id, pair_id = pair["programme_id"], pair["pair_id"]

        def decide(state: _State) -> list[Event]:
            p = state.pairs[pair_id]
            if p.cancelled:
                raise conflict("Ce binôme est annulé.")
            if p.digests is None or p.digests[0 if side == "host" else 1] != digest(token):
                raise absent("Ce lien n'est plus valable : un nouveau lien a été envoyé.")
            return action(pair, p, side)

        self._run(territory, f"lien:{pair_id}:{side}", programme_id, decide)
        return pair, side

    def confirm_with_token(self, territory: str, token: str, *, answer: str, comment: str | None = None) -> tuple[dict[str, Any], ev.Side]:
        """Each side confirms (or declines) through its own link, without an account."""
        if answer not in ANSWERS:
            raise invalid("Choisissez : je confirme, ou je ne peux pas.", "answer")

        def action(pair: dict[str, Any], p: _Pair, side: ev.Side) -> list[Event]:
            return [
                ev.PairAnswered(
                    programme_id=pair["programme_id"],
                    pair_id=pair["pair_id"],
                    side=side,
                    answer=answer,
                    comment=_text(comment, 300) or None,
                )
            ]

        return self._answer(territory, token, action)

    def feedback_with_token(self, territory: str, token: str, answers: Mapping[str, str]) -> tuple[dict[str, Any], ev.Side]:
        """After the day, each side answers the four questions through the same link."""
        found = self.by_token(territory, token)
        if found is None:
            raise absent("Ce lien n'est pas (ou plus) valable. Demandez-en un nouveau à la coordination du programme.")
        pair, _side = found
        self._check_feedback(pair, answers)

        def action(pair: dict[str, Any], p: _Pair, side: ev.Side) -> list[Event]:
            if p.answers.get(side) == "declined" or p.answers.get("host" if side == "visitor" else "visitor") == "declined":
                raise conflict("Cette immersion a été déclinée : il n'y a pas de retour à donner.")
            return [self._feedback_event(pair, side, answers)]

        return self._answer(territory, token, action)

    def give_feedback(self, territory: str, programme_id: str, pair_id: str, side: str, answers: Mapping[str, str], *, author: str) -> None:
        """The coordination types a side's answers (given on paper or at the workshop)."""
        if side not in SIDES:
            raise invalid("Choisissez le côté du binôme : accueil ou immersion.", "side")
        pair = self.require_pair(territory, pair_id)
        if pair["programme_id"] != programme_id:
            raise absent("Ce binôme n'existe pas dans ce programme.")
        self._check_feedback(pair, answers)

        def decide(state: _State) -> list[Event]:
            if state.pairs[pair_id].cancelled:
                raise conflict("Ce binôme est annulé.")
            return [self._feedback_event(pair, side, answers)]

        self._run(territory, author, programme_id, decide)

    def _check_feedback(self, pair: dict[str, Any], answers: Mapping[str, str]) -> None:
        if pair["day"] > clock.paris_today():
            raise conflict(f"Le retour se donne après l'immersion, à partir du {clock.french_date(pair['day'])}.")
        if not any(_text(answers.get(k)) for k in QUESTIONS):
            raise invalid("Répondez à au moins une des quatre questions.", "expectations")

    def _feedback_event(self, pair: dict[str, Any], side: ev.Side, answers: Mapping[str, str]) -> ev.FeedbackGiven:
        return ev.FeedbackGiven(
            programme_id=pair["programme_id"],
            pair_id=pair["pair_id"],
            side=side,
            expectations=_text(answers.get("expectations")),
            convergences=_text(answers.get("convergences")),
            obstacles=_text(answers.get("obstacles")),
            recommendations=_text(answers.get("recommendations")),
        )

    def mark_held(self, territory: str, programme_id: str, pair_id: str, *, author: str) -> None:
        def decide(state: _State) -> list[Event]:
            p = state.pairs.get(pair_id)
            if p is None:
                raise absent("Ce binôme n'existe pas dans ce programme.")
            if p.cancelled:
                raise conflict("Ce binôme est annulé.")
            return [ev.ImmersionHeld(programme_id=programme_id, pair_id=pair_id)]

        self._run(territory, author, programme_id, decide)

    def cancel_pair(self, territory: str, programme_id: str, pair_id: str, *, author: str, reason: str | None = None) -> None:
        """Undo a binôme: its day is cancelled (calendars told), its offer and request are free again."""

        def decide(state: _State) -> list[Event]:
            p = state.pairs.get(pair_id)
            if p is None:
                raise absent("Ce binôme n'existe pas dans ce programme.")
            if p.cancelled:
                raise conflict("Ce binôme est déjà annulé.")
            return [ev.PairCancelled(programme_id=programme_id, pair_id=pair_id)]

        self._run(territory, author, programme_id, decide, reason=reason)
        meeting_id = self.require_pair(territory, pair_id)["meeting_id"]
        if self.meetings.require(territory, meeting_id)["status"] != "cancelled":
            self.meetings.cancel(territory, meeting_id, author=author, reason=reason or "binôme annulé")

    # -- queries -----------------------------------------------------------------------------
    def programmes(self, territory: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM immersions_programmes WHERE territory = ? ORDER BY starts_on DESC, programme_id", (territory,)
            ).fetchall()
        return [self._decorate_programme(r) for r in rows]

    def _decorate_programme(self, row: Row) -> dict[str, Any]:
        p = dict(row)
        p["fields"] = (p["field_a"], p["field_b"])
        p["fields_label"] = f"{FIELDS[p['field_a']]} et {FIELDS[p['field_b']].lower()}"
        p["between_label"] = f"entre le {FIELDS[p['field_a']].lower()} et le {FIELDS[p['field_b']].lower()}"
        p["period_label"] = f"du {clock.french_long_date(p['starts_on'])} au {clock.french_long_date(p['ends_on'])}"
        return p

    def require(self, territory: str, programme_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT * FROM immersions_programmes WHERE territory = ? AND programme_id = ?", (territory, programme_id)
            ).fetchone()
        if row is None:
            raise absent("Ce programme d'immersions n'existe pas sur ce territoire.")
        return self._decorate_programme(row)

    def participants(self, territory: str, programme_id: str) -> list[dict[str, Any]]:
        """Each participant with the name to show: the directory's for a contact (nothing once
        erased or gone), the one typed here otherwise (« personne effacée » once erased)."""
        with self.trame.db.read() as cur:
            rows = [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM immersions_participants WHERE territory = ? AND programme_id = ? ORDER BY joined_at, participant_id",
                    (territory, programme_id),
                ).fetchall()
            ]
        structures = annuaire.names(self.trame, territory, {r["structure_id"] for r in rows})
        people = annuaire.person_names(self.trame, territory, {r["structure_id"] for r in rows if r["person_id"]})
        for r in rows:
            r["structure_name"] = structures.get(r["structure_id"], "")
            if r["person_id"]:
                r["name"] = people.get(r["person_id"]) or "contact de l'annuaire (nom indisponible)"
            else:
                r["name"] = r["full_name"] or ERASED
            r["field_label"] = FIELDS.get(r["field"], r["field"])
            r["erased"] = bool(r["erased"])
        return sorted(rows, key=lambda r: (r["field"], r["structure_name"].casefold(), r["name"].casefold()))

    def _people(self, territory: str, programme_id: str) -> dict[str, dict[str, Any]]:
        return {p["participant_id"]: p for p in self.participants(territory, programme_id)}

    def _offer_row(self, territory: str, offer_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM immersions_offers WHERE territory = ? AND offer_id = ?", (territory, offer_id)).fetchone()
        if row is None:
            raise absent("Cette proposition d'accueil n'existe pas.", "offer_id")
        return dict(row)

    def _participant_of_request(self, territory: str, request_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT p.* FROM immersions_requests r JOIN immersions_participants p ON p.participant_id = r.participant_id "
                "WHERE r.territory = ? AND r.request_id = ?",
                (territory, request_id),
            ).fetchone()
        if row is None:
            raise absent("Cette demande d'immersion n'existe pas.", "request_id")
        return dict(row)

    def offers(self, territory: str, programme_id: str) -> list[dict[str, Any]]:
        people = self._people(territory, programme_id)
        taken = {p["offer_id"]: p["pair_id"] for p in self._pair_rows(territory, programme_id) if p["status"] == "formed"}
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM immersions_offers WHERE territory = ? AND programme_id = ? ORDER BY day, length, offer_id",
                (territory, programme_id),
            ).fetchall()
        out = []
        for r in rows:
            o = dict(r)
            host = people[o["host_participant_id"]]
            o.update(
                host=host,
                structure_name=host["structure_name"],
                field=host["field"],
                length_label=LENGTHS[o["length"]][0],
                day_label=rencontres.long_date(o["day"]),
                pair_id=taken.get(o["offer_id"]),
            )
            out.append(o)
        return out

    def requests(self, territory: str, programme_id: str) -> list[dict[str, Any]]:
        people = self._people(territory, programme_id)
        taken = {p["request_id"]: p["pair_id"] for p in self._pair_rows(territory, programme_id) if p["status"] == "formed"}
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM immersions_requests WHERE territory = ? AND programme_id = ? ORDER BY requested_at, request_id",
                (territory, programme_id),
            ).fetchall()
        out = []
        for r in rows:
            q = dict(r)
            visitor = people[q["participant_id"]]
            q.update(visitor=visitor, wish_label=WISHES[q["wish"]], pair_id=taken.get(q["request_id"]))
            out.append(q)
        return out

    def _pair_rows(self, territory: str, programme_id: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            return [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM immersions_pairs WHERE territory = ? AND programme_id = ? ORDER BY formed_at, pair_id",
                    (territory, programme_id),
                ).fetchall()
            ]

    def pairs(self, territory: str, programme_id: str, *, include_cancelled: bool = False) -> list[dict[str, Any]]:
        """The binômes, each with its host and visitor, its day and both sides' answers and feedback."""
        people = self._people(territory, programme_id)
        offers = {o["offer_id"]: o for o in self.offers(territory, programme_id)}
        requests = {r["request_id"]: r for r in self.requests(territory, programme_id)}
        with self.trame.db.read() as cur:
            feedback: dict[tuple[str, str], dict[str, Any]] = {
                (r["pair_id"], r["side"]): dict(r)
                for r in cur.execute(
                    "SELECT * FROM immersions_feedback WHERE territory = ? AND programme_id = ?", (territory, programme_id)
                ).fetchall()
            }
        out = []
        for row in self._pair_rows(territory, programme_id):
            if row["status"] == "cancelled" and not include_cancelled:
                continue
            out.append(self._decorate_pair(row, offers[row["offer_id"]], people[requests[row["request_id"]]["participant_id"]], feedback))
        return sorted(out, key=lambda p: (p["day"], p["length"], p["host"]["structure_name"].casefold()))

    def _decorate_pair(
        self, row: dict[str, Any], offer: dict[str, Any], visitor: dict[str, Any], feedback: dict[tuple[str, str], dict[str, Any]]
    ) -> dict[str, Any]:
        p = {k: v for k, v in row.items() if not k.endswith("_digest")}
        answers = {"host": row["host_answer"], "visitor": row["visitor_answer"]}
        given = {side: feedback[(row["pair_id"], side)] for side in SIDES if (row["pair_id"], side) in feedback}
        declined = "declined" in answers.values()
        p.update(
            host=offer["host"],
            visitor=visitor,
            day=offer["day"],
            length=offer["length"],
            day_label=offer["day_label"],
            length_label=offer["length_label"],
            answers=answers,
            confirmed=answers["host"] == "confirmed" and answers["visitor"] == "confirmed",
            declined=declined,
            feedback=given,
            completed=row["status"] == "formed" and not declined and (bool(row["held"]) or bool(given)),
            held=bool(row["held"]),
        )
        return p

    def require_pair(self, territory: str, pair_id: str) -> dict[str, Any]:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT programme_id FROM immersions_pairs WHERE territory = ? AND pair_id = ?", (territory, pair_id)
            ).fetchone()
        if row is None:
            raise absent("Ce binôme n'existe pas sur ce territoire.")
        found = next(p for p in self.pairs(territory, row["programme_id"], include_cancelled=True) if p["pair_id"] == pair_id)
        return found

    def pair_of_meeting(self, territory: str, meeting_id: str) -> dict[str, Any] | None:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT pair_id FROM immersions_pairs WHERE territory = ? AND meeting_id = ?", (territory, meeting_id)
            ).fetchone()
        return None if row is None else self.require_pair(territory, row["pair_id"])

    def by_token(self, territory: str, token: str) -> tuple[dict[str, Any], ev.Side] | None:
        """The binôme and the side a confirmation link was issued to (compared by digest only)."""
        d = digest(token)
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT pair_id, host_digest, visitor_digest FROM immersions_pairs WHERE territory = ? AND status = 'formed' "
                "AND (host_digest = ? OR visitor_digest = ?)",
                (territory, d, d),
            ).fetchone()
        if row is None:
            return None
        side: ev.Side = "host" if secrets.compare_digest(row["host_digest"] or "", d) else "visitor"
        return self.require_pair(territory, row["pair_id"]), side

    def suggestions(self, territory: str, programme_id: str) -> list[Suggestion]:
        """A pairing of the open requests with the free offers: across the two fields, never in the
        visitor's own structure, the wished length first, then the structures that host least."""
        people = self._people(territory, programme_id)
        free_offers = [o for o in self.offers(territory, programme_id) if o["pair_id"] is None]
        open_requests = [r for r in self.requests(territory, programme_id) if r["pair_id"] is None]
        hosting: dict[str, int] = {}
        for p in self.pairs(territory, programme_id):
            hosting[p["host"]["structure_id"]] = hosting.get(p["host"]["structure_id"], 0) + 1
        out: list[Suggestion] = []
        for r in open_requests:
            visitor = people[r["participant_id"]]
            candidates = [o for o in free_offers if o["structure_id"] != visitor["structure_id"] and o["field"] != visitor["field"]]
            if not candidates:
                continue

            def rank(o: dict[str, Any], wish: str = r["wish"]) -> tuple[int, int, str, str]:
                fits = wish == "indifferent" or (wish == "journee") == (o["length"] == "journee")
                return (0 if fits else 1, hosting.get(o["structure_id"], 0), o["day"], o["offer_id"])

            best = min(candidates, key=rank)
            free_offers.remove(best)
            hosting[best["structure_id"]] = hosting.get(best["structure_id"], 0) + 1
            out.append(
                Suggestion(
                    request_id=r["request_id"],
                    offer_id=best["offer_id"],
                    visitor=visitor["name"],
                    visitor_structure=visitor["structure_name"],
                    host=best["host"]["name"],
                    host_structure=best["structure_name"],
                    day=best["day"],
                    day_label=best["day_label"],
                    length=best["length"],
                )
            )
        return out

    def report(self, territory: str, programme_id: str) -> dict[str, Any]:
        """The programme's figures and every side's answers, question by question."""
        programme = self.require(territory, programme_id)
        participants = self.participants(territory, programme_id)
        pairs = self.pairs(territory, programme_id)
        by_field = {f: sum(1 for p in participants if p["field"] == f) for f in programme["fields"]}
        figures = {
            "participants": len(participants),
            "by_field": by_field,
            "structures": len({p["structure_id"] for p in participants}),
            "offers": len(self.offers(territory, programme_id)),
            "requests": len(self.requests(territory, programme_id)),
            "pairs": len(pairs),
            "confirmed": sum(1 for p in pairs if p["confirmed"]),
            "declined": sum(1 for p in pairs if p["declined"]),
            "completed": sum(1 for p in pairs if p["completed"]),
            "feedback": sum(len(p["feedback"]) for p in pairs),
        }
        # Question -> the respondents' field -> answers; the same words from several sides once, with all their sources.
        answers: dict[str, dict[str, list[dict[str, Any]]]] = {q: {f: [] for f in programme["fields"]} for q in QUESTIONS}
        for p in pairs:
            for side, f in sorted(p["feedback"].items(), key=lambda item: item[0] == "host"):
                who = p[side]
                source = f"{who['structure_name']} ({SIDES[side].lower()})"
                for q in QUESTIONS:
                    text = f[q]
                    if not text:
                        continue
                    group = answers[q][who["field"]]
                    same = next((a for a in group if a["text"] == text), None)
                    if same is None:
                        group.append({"text": text, "sources": [source]})
                    elif source not in same["sources"]:
                        same["sources"].append(source)
        return {"programme": programme, "figures": figures, "answers": answers, "pairs": pairs}


def immersions(trame: Trame) -> Immersions:
    return Immersions(trame)


def invitation_text(pair: dict[str, Any], side: str, url: str) -> str:
    host, visitor = pair["host"], pair["visitor"]
    _label, start, end = LENGTHS[pair["length"]]
    lines = [
        "Bonjour,",
        "",
        "Vous formez un binôme d'immersion :",
        f"- {visitor['name']} ({visitor['structure_name']}, {visitor['field_label'].lower()}) passera "
        f"{'la journée' if pair['length'] == 'journee' else 'la demi-journée'}",
        f"- aux côtés de {host['name']} ({host['structure_name']}, {host['field_label'].lower()}).",
        f"Quand : {pair['day_label']}, {start.replace(':', ' h ')} – {end.replace(':', ' h ')}",
        f"Où : {host['structure_name']}",
        "",
        "Merci de confirmer votre participation avec ce lien, propre à "
        + ("votre structure d'accueil" if side == "host" else "vous")
        + " et sans compte à créer ; après l'immersion, le même lien recueille votre retour",
        "(attentes, points de convergence, freins, préconisations) :",
        url,
        "",
        "L'immersion est jointe au format agenda (.ics). Aucune personne accompagnée n'est nommée dans ces échanges.",
    ]
    return "\n".join(lines)
