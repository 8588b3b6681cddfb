"""The charter's commands and queries: what pages, the API and the demo call (no HTTP here).

``charters(trame)`` gives the service. A command checks what was typed and what other
plugins hold (the structure is in the directory), then decides from the charter's (or the
poll's) own stream through ``core.commands.run``: the rules about its state (ended, already
signed, poll closed) hold when the events are appended, and a race decides again. A refusal
is a ``core.refusals.Refused``. Every query filters by territory; an id of another territory
answers 404 like an unknown one.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import msgspec

from core import clock
from core.commands import Decide, History, run
from core.events import Event
from core.refusals import absent, conflict, invalid
from core.store import Context
from core.structures import require_structure
from core.text import collation_key
from plugins.charte import events as ev
from plugins.charte import links, state
from plugins.charte import participation as figures
from plugins.charte.forms import labelled
from plugins.charte.participation import Participation
from plugins.charte.projection import OPEN_DAY

if TYPE_CHECKING:
    from core.application import Trame

FORMS = {
    "initiative": "Partenariat d'initiative (ou spontané)",
    "palliatif": "Partenariat palliatif (ou de ressource)",
    "impose": "Partenariat imposé (par une politique publique)",
}
STATUSES = {"draft": "Projet", "active": "En vigueur", "suspended": "Suspendue", "ended": "Terminée"}
CHANNELS = {"referent": "Signée en ligne par la structure", "papier": "Enregistrée par la coordination d'après l'exemplaire papier"}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
#: The seed 002 grid of a partnership's evaluation: field -> French heading.
GRID = {
    "what_works": "Ce qui fonctionne dans le partenariat, et pourquoi",
    "obstacles": "Limites, freins, points bloquants, difficultés rencontrées",
    "steering": "Coordination et pilotage du partenariat (est-il équitable pour l'ensemble des acteurs ?)",
    "communication": "Communication",
    "public_feedback": "Retour du public",
    "evolution": "Évolution envisagée du partenariat",
}
TEXT_LIMIT = 20000  # the events' limit on a written text
NO_NAMES = (
    "Secret partagé : ne nommez aucune personne accompagnée. Décrivez la situation et la coordination "
    "sans nom, initiales, date de naissance ni adresse."
)
CHARTER_ABSENT = "Cette charte n'existe pas sur ce territoire."
POLL_ABSENT = "Ce sondage n'existe pas."
BAD_LINK = "Ce lien de vote n'est pas valable. Demandez-en un nouveau à la coordination du réseau."


def day(value: str | None, label: str, *, required: bool = True, field: str | None = None) -> str | None:
    """A calendar day typed by a person (15/03/2010 or 2010-03-15, see ``clock.parse_day``); the error names the field."""
    if value is None or not str(value).strip():
        if required:
            raise labelled(label, "indiquez une date (par exemple 15/03/2010).", field)
        return None
    try:
        return clock.parse_day(str(value).strip()[:10]).isoformat()
    except clock.BadInstant:
        raise labelled(label, f"« {value} » n'est pas une date (écrivez-la par exemple 15/03/2010).", field) from None


def _required_day(value: str | None, label: str, field: str) -> str:
    found = day(value, label, field=field)
    assert found is not None  # required: day() refused an empty value
    return found


def _stream(id_: str, missing: str) -> UUID:
    """The stream of a charter or poll id; an id that cannot be one is absent, as an unknown one."""
    try:
        return UUID(id_)
    except ValueError:
        raise absent(missing) from None


def _hhmm(value: str, label: str) -> str:
    v = value.strip().replace("h", ":")
    if v.endswith(":"):
        v += "00"
    try:
        hh, mm = (int(x) for x in [*v.split(":"), "0"][:2])
    except ValueError:
        raise invalid(f"{label} : « {value} » n'est pas une heure (HH:MM).") from None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise invalid(f"{label} : « {value} » n'est pas une heure valide.")
    return f"{hh:02d}:{mm:02d}"


def hour_label(hhmm: str) -> str:
    """« 9 h », « 14 h 30 »."""
    hh, mm = hhmm.split(":")
    return f"{int(hh)} h" + ("" if mm == "00" else f" {mm}")


def slot_label(slot: ev.Slot) -> str:
    return f"{WEEKDAYS[slot.weekday]} {hour_label(slot.start)} – {hour_label(slot.end)}"


def _signable(c: state.Charter, structure_id: str, version_no: int | None, on: str) -> tuple[int, str | None]:
    """The version a structure signs on that day, and the signature it supersedes; refused if it cannot."""
    if c.status in ("ended", "suspended"):
        raise invalid(f"Cette charte est {STATUSES[c.status].lower()} : elle ne peut plus être signée.")
    no = version_no or c.adopted_version
    if not no:
        raise invalid("Aucune version de cette charte n'est encore adoptée.")
    v = c.versions.get(no)
    if v is None or not v.adopted_on:
        raise invalid(f"La version {no} n'est pas adoptée : elle ne peut pas être signée.", "version_no")
    if on < v.adopted_on:
        raise invalid(f"La version {no} a été adoptée le {links.long_date(v.adopted_on)} : signature antérieure impossible.", "signed_on")
    current = c.signature_of(structure_id)
    if current is None:
        return no, None
    if current.version_no >= no:
        raise conflict(f"Cette structure a déjà signé la version {current.version_no} de la charte.", "structure_id")
    if on < current.signed_on:
        raise invalid("La nouvelle signature ne peut pas précéder la signature en cours.", "signed_on")
    return no, current.signature_id


def _plannable(c: state.Charter) -> None:
    if c.status in ("ended", "suspended"):
        raise invalid(f"Cette charte est {STATUSES[c.status].lower()}.")


def _in_force(status: str) -> None:
    """A charter's meetings are prepared while it is in force only (an ended or suspended one's are read only)."""
    if status == "ended":
        raise conflict("Cette charte est terminée : ses rencontres restent consultables mais ne se modifient plus.")
    if status == "suspended":
        raise conflict("Cette charte est suspendue : ses rencontres ne se préparent plus jusqu'à sa remise en vigueur.")
    if status != "active":
        raise conflict("Cette charte n'est pas encore en vigueur : adoptez-en d'abord une version.")


#: The author of a vote cast through a structure's voting link (``lien:<poll id>``): the journal
#: then reads « réponse par lien de <structure> ».
LINK_AUTHOR = "lien:"


class PollLink(msgspec.Struct, frozen=True, kw_only=True):
    """A voting link as issued: shown once to the coordination, to send to that structure."""

    structure_id: str
    structure_name: str
    token: str


class LinkRow(msgspec.Struct, frozen=True, kw_only=True):
    """What a voting link opens: one poll, for one structure."""

    poll_id: str
    structure_id: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _by_name(row: dict[str, Any]) -> tuple[str, str]:
    return collation_key(row["structure_name"])


class Charters:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # == plumbing ================================================================================
    def _run(
        self, territory: str, author: str, streams: list[UUID], decide: Decide, *, effective: str | None = None, reason: str | None = None
    ) -> None:
        """Decide from the streams' history and append (``core.commands.run``); a race decides again."""
        ctx = Context(author=author, territory=territory, effective=effective, reason=reason)
        run(self.trame, ctx, streams, decide, busy="Cette charte est modifiée en ce moment par quelqu'un d'autre ; réessayez.")

    def _structure_or_refuse(self, territory: str, structure_id: str, label: str = "Structure", field: str = "structure_id") -> None:
        require_structure(self.trame, territory, structure_id)  # another territory's id: 404, as absent
        if links.structure(self.trame, territory, structure_id) is None:
            if not structure_id:
                raise labelled(label, "choisissez une structure.", field)
            raise labelled(label, "cette structure n'est pas dans l'annuaire du territoire.", field)

    @staticmethod
    def _commitments(items: list[str]) -> list[str]:
        clean = [c.strip() for c in items if c and c.strip()]
        if not clean:
            raise invalid("Une charte comporte au moins un engagement (un par ligne).", "commitments")
        return clean

    # == charters and versions ===================================================================
    def draft(
        self, territory: str, *, author: str, title: str, preamble: str, commitments: list[str], carrier_structure_id: str, form: str
    ) -> str:
        if not title.strip():
            raise invalid("Donnez un titre à la charte.", "title")
        if form not in FORMS:
            raise invalid("Choisissez la forme du partenariat : d'initiative, palliatif ou imposé.", "form")
        self._structure_or_refuse(territory, carrier_structure_id, "Structure porteuse", "carrier_structure_id")
        charter_id = str(uuid.uuid4())
        event = ev.CharterDrafted(
            charter_id=charter_id,
            title=title.strip(),
            preamble=preamble.strip(),
            commitments=self._commitments(commitments),
            carrier_structure_id=carrier_structure_id,
            form=cast(ev.Form, form),
        )
        sid = UUID(charter_id)
        self._run(territory, author, [sid], lambda h: {sid: [event]})
        return charter_id

    def revise(self, territory: str, charter_id: str, *, author: str, title: str, preamble: str, commitments: list[str]) -> int:
        sid = _stream(charter_id, CHARTER_ABSENT)
        items = self._commitments(commitments)
        result: list[int] = []

        def decide(h: History) -> dict[UUID, list[Event]]:
            c = state.charter(h.of(sid), territory)
            if c.status == "ended":
                raise invalid("Cette charte est terminée : son texte ne change plus.")
            latest = c.versions[c.latest_version]
            if (latest.title, latest.preamble, latest.commitments) == (title.strip(), preamble.strip(), items):
                raise invalid("Le texte n'a pas changé : aucune nouvelle version.")
            result[:] = [c.latest_version + 1]
            revised = ev.CharterRevised(
                charter_id=charter_id, version_no=result[0], title=title.strip() or c.title, preamble=preamble.strip(), commitments=items
            )
            return {sid: [revised]}

        self._run(territory, author, [sid], decide)
        return result[0]

    def adopt(self, territory: str, charter_id: str, version_no: int, *, author: str, on: str) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        adopted_on = _required_day(on, "Date d'adoption", "adopted_on")

        def decide(h: History) -> dict[UUID, list[Event]]:
            c = state.charter(h.of(sid), territory)
            v = c.versions.get(version_no)
            if v is None:
                raise invalid(f"La version {version_no} de cette charte n'existe pas.", "version_no")
            if v.adopted_on:
                raise conflict(f"La version {version_no} a déjà été adoptée le {links.long_date(v.adopted_on)}.", "version_no")
            if c.status == "ended":
                raise invalid("Cette charte est terminée.")
            if c.adopted_on and adopted_on < c.adopted_on:
                raise invalid("Une version ne peut pas être adoptée avant la version en vigueur.", "adopted_on")
            return {sid: [ev.VersionAdopted(charter_id=charter_id, version_no=version_no, adopted_on=adopted_on)]}

        self._run(territory, author, [sid], decide, effective=clock.parse(adopted_on))

    def set_status(self, territory: str, charter_id: str, status: str, *, author: str, on: str, reason: str | None) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        when = _required_day(on, "À compter du", "on")
        if status not in ("active", "suspended", "ended"):
            raise invalid("Choisissez le nouvel état : suspendre, terminer ou remettre en vigueur.", "status")
        if status in ("suspended", "ended") and not (reason or "").strip():
            raise invalid("Indiquez la raison (par exemple : « action plus portée par le CCAS »).", "reason")

        def decide(h: History) -> dict[UUID, list[Event]]:
            c = state.charter(h.of(sid), territory)
            if c.status == "ended":
                raise invalid("Cette charte est déjà terminée ; elle reste lisible comme historique.")
            if c.status == "draft":
                raise invalid("Adoptez d'abord une version de la charte.")
            if status == c.status:
                raise conflict(f"La charte est déjà : {STATUSES[status].lower()}.", "status")
            first = c.first_adoption()
            if first and when < first:
                raise labelled("Date", f"la charte a été adoptée le {links.long_date(first)} ; choisissez une date postérieure.", "on")
            last = max(c.status_days, default=None)
            if last and when < last:
                detail = f"le dernier changement d'état date du {links.long_date(last)} ; choisissez une date postérieure."
                raise labelled("Date", detail, "on")
            changed = ev.CharterStatusChanged(
                charter_id=charter_id, status=cast(ev.NewStatus, status), on=when, reason=(reason or "").strip() or None
            )
            return {sid: [changed]}

        self._run(territory, author, [sid], decide, effective=clock.parse(when), reason=reason)

    # == signatures ==============================================================================
    def sign(
        self,
        territory: str,
        charter_id: str,
        *,
        author: str,
        structure_id: str,
        signatory_name: str,
        signatory_role: str,
        signed_on: str,
        version_no: int | None = None,
        adaptation: str | None = None,
        channel: str = "referent",
        document_ref: str | None = None,
    ) -> str:
        """A structure signs (or re-signs a newer version, which supersedes its earlier signature)."""
        sid = _stream(charter_id, CHARTER_ABSENT)
        require_structure(self.trame, territory, structure_id)  # which structure, before how it signs
        if not signatory_name.strip():
            raise invalid("Indiquez le nom de la personne qui signe pour la structure.", "signatory_name")
        if not signatory_role.strip():
            raise invalid("Indiquez la fonction de la personne qui signe (par exemple : directrice).", "signatory_role")
        on = _required_day(signed_on, "Date de signature", "signed_on")
        if on > clock.paris_today():
            raise invalid("La date de signature ne peut pas être dans le futur.", "signed_on")
        if channel not in CHANNELS:
            raise invalid("Mode de signature inconnu.")
        if channel == "papier" and not (document_ref or "").strip():
            raise invalid("Indiquez la référence de l'exemplaire papier signé (par exemple son numéro d'archivage).", "document_ref")
        self._structure_or_refuse(territory, structure_id)
        signature_id = str(uuid.uuid4())

        def decide(h: History) -> dict[UUID, list[Event]]:
            c = state.charter(h.of(sid), territory)
            no, replaces = _signable(c, structure_id, version_no, on)
            signed = ev.CharterSigned(
                charter_id=charter_id,
                signature_id=signature_id,
                structure_id=structure_id,
                version_no=no,
                signatory_id=f"signataire:{signature_id}",
                signatory_name=signatory_name.strip(),
                signatory_role=signatory_role.strip(),
                signed_on=on,
                adaptation=(adaptation or "").strip() or None,
                channel=cast(ev.Channel, channel),
                document_ref=(document_ref or "").strip() or None,
                replaces=replaces,
            )
            return {sid: [signed]}

        self._run(territory, author, [sid], decide, effective=clock.parse(on))
        return signature_id

    def withdraw(self, territory: str, charter_id: str, signature_id: str, *, author: str, on: str, reason: str | None = None) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        when = _required_day(on, "Date du retrait", "withdrawn_on")

        def decide(h: History) -> dict[UUID, list[Event]]:
            s = state.charter(h.of(sid), territory).signatures.get(signature_id)
            if s is None:
                raise absent("Cette signature n'existe pas.")
            if s.ended_on != OPEN_DAY:
                raise conflict("Cette signature n'est plus en cours.")
            if when <= s.signed_on:
                raise invalid(f"Le retrait doit suivre la date de signature ({links.long_date(s.signed_on)}).", "withdrawn_on")
            withdrawn = ev.SignatureWithdrawn(
                charter_id=charter_id,
                signature_id=signature_id,
                structure_id=s.structure_id,
                withdrawn_on=when,
                reason=(reason or "").strip() or None,
            )
            return {sid: [withdrawn]}

        self._run(territory, author, [sid], decide, effective=clock.parse(when), reason=reason)

    def erase_signatory(self, territory: str, charter_id: str, signature_id: str, *, author: str) -> None:
        """Right to erasure: shred the key of the signatory's name; the signature (structure, role, date) stays."""
        sid = _stream(charter_id, CHARTER_ABSENT)
        subject: list[str] = []

        def decide(h: History) -> dict[UUID, list[Event]]:
            s = state.charter(h.of(sid), territory).signatures.get(signature_id)
            if s is None:
                raise absent("Cette signature n'existe pas.")
            subject[:] = [s.signatory_id]
            return {sid: [ev.SignatoryErased(charter_id=charter_id, signature_id=signature_id)]}

        self._run(territory, author, [sid], decide, reason="effacement des données personnelles")
        self.trame.keys.shred(subject[0])

    def invite_partner(
        self, territory: str, charter_id: str, structure_id: str, *, author: str, since: str, note: str | None = None
    ) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        on = _required_day(since, "À partir du", "since")
        self._structure_or_refuse(territory, structure_id)

        def decide(h: History) -> dict[UUID, list[Event]]:
            if state.charter(h.of(sid), territory).invited_on(structure_id, on):
                raise conflict("Ce partenaire est déjà invité.", "structure_id")
            return {sid: [ev.PartnerInvited(charter_id=charter_id, structure_id=structure_id, since=on, note=(note or "").strip() or None)]}

        self._run(territory, author, [sid], decide, effective=clock.parse(on))

    # == date poll ===============================================================================
    def open_poll(self, territory: str, charter_id: str, *, author: str, question: str, slots: list[tuple[int, str, str]]) -> str:
        sid = _stream(charter_id, CHARTER_ABSENT)
        self.get(territory, charter_id)
        clean: list[ev.Slot] = []
        for weekday, start, end in slots:
            s, e = _hhmm(start, "Début"), _hhmm(end, "Fin")
            if e <= s:
                raise invalid("Chaque créneau finit après avoir commencé.")
            if not 0 <= int(weekday) <= 6:
                raise invalid("Jour de la semaine inconnu.")
            clean.append(ev.Slot(slot_id=f"c{len(clean) + 1}", weekday=int(weekday), start=s, end=e))
        if len(clean) < 2:
            raise invalid("Proposez au moins deux créneaux.")
        poll_id = str(uuid.uuid4())
        pid = UUID(poll_id)
        opened = ev.PollOpened(
            poll_id=poll_id, charter_id=charter_id, question=question.strip() or "Quel créneau pour nos rencontres ?", slots=clean
        )

        def decide(h: History) -> dict[UUID, list[Event]]:
            if state.charter(h.of(sid), territory).status == "ended":
                raise invalid("Cette charte est terminée.")
            return {pid: [opened]}

        self._run(territory, author, [sid, pid], decide)
        return poll_id

    def vote(self, territory: str, poll_id: str, *, author: str, structure_id: str, slot_ids: list[str]) -> None:
        """The slots a structure can make; voting again replaces the structure's earlier choice."""
        pid = _stream(poll_id, POLL_ABSENT)
        self._structure_or_refuse(territory, structure_id)

        def decide(h: History) -> dict[UUID, list[Event]]:
            p = state.poll(h.of(pid), territory)
            if p.status != "open":
                raise conflict("Ce sondage est clos : le créneau a été adopté.")
            known = {s.slot_id for s in p.slots}
            chosen = [s for s in dict.fromkeys(slot_ids) if s]
            if not chosen or any(s not in known for s in chosen):
                raise invalid("Cochez au moins un des créneaux proposés.", "slot")
            return {pid: [ev.PollVoted(poll_id=poll_id, charter_id=p.charter_id, structure_id=structure_id, slot_ids=chosen)]}

        self._run(territory, author, [pid], decide)

    def adopt_poll(self, territory: str, poll_id: str, *, author: str, slot_id: str | None = None) -> str:
        """Adopt the majority slot (on a tie, the coordination picks one of the leading slots)."""
        pid = _stream(poll_id, POLL_ABSENT)
        chosen: list[str] = []

        def decide(h: History) -> dict[UUID, list[Event]]:
            p = state.poll(h.of(pid), territory)
            if p.status != "open":
                raise invalid("Ce sondage est déjà clos.")
            if not p.votes:
                raise invalid("Personne n'a encore voté.")
            leaders = p.leaders()
            pick = slot_id or (leaders[0] if len(leaders) == 1 else None)
            if pick is None:
                labels = ", ".join(slot_label(s) for s in p.slots if s.slot_id in leaders)
                raise invalid(f"Égalité entre {labels} : choisissez le créneau à adopter.")
            if pick not in leaders:
                raise invalid("Seul un créneau arrivé en tête peut être adopté.")
            chosen[:] = [pick]
            return {pid: [ev.PollAdopted(poll_id=poll_id, charter_id=p.charter_id, slot_id=pick, votes=p.tally()[pick])]}

        self._run(territory, author, [pid], decide)
        return chosen[0]

    def issue_poll_links(self, territory: str, poll_id: str, *, author: str) -> list[PollLink]:
        """One voting link per structure expected at the charter's meetings today (carrier,
        signatories, invited partners), to send them: a structure votes, and changes its vote
        until the poll closes, without an account. Only the tokens' digests are stored; a new
        link replaces the structure's previous one. The tokens are returned once, here."""
        pid = _stream(poll_id, POLL_ABSENT)
        issued: list[PollLink] = []

        def decide(h: History) -> dict[UUID, list[Event]]:
            p = state.poll(h.of(pid), territory)
            if p.status != "open":
                raise conflict("Ce sondage est clos : le créneau a été adopté.")
            electorate = self.expected_at(territory, p.charter_id, clock.paris_today())
            names = links.names(self.trame, territory, set(electorate))
            issued.clear()
            events: list[Event] = []
            for structure_id in electorate:
                token = secrets.token_urlsafe(32)
                issued.append(PollLink(structure_id=structure_id, structure_name=names.get(structure_id, ""), token=token))
                events.append(ev.PollLinkIssued(poll_id=poll_id, charter_id=p.charter_id, structure_id=structure_id, digest=_digest(token)))
            return {pid: events}

        self._run(territory, author, [pid], decide)
        return sorted(issued, key=lambda link: collation_key(link.structure_name))

    def poll_link(self, territory: str, token: str) -> LinkRow | None:
        """The poll and structure a voting link was issued for (None: unknown or replaced since)."""
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT poll_id, structure_id FROM charte_poll_links WHERE territory = ? AND digest = ?", (territory, _digest(token))
            ).fetchone()
        return None if row is None else LinkRow(poll_id=row["poll_id"], structure_id=row["structure_id"])

    def vote_with_token(self, territory: str, token: str, *, slot_ids: list[str]) -> LinkRow:
        """A vote through a structure's own link: for that structure and poll only, until it closes."""
        link = self.poll_link(territory, token)
        if link is None:
            raise absent(BAD_LINK)
        self.vote(territory, link.poll_id, author=f"{LINK_AUTHOR}{link.poll_id}", structure_id=link.structure_id, slot_ids=slot_ids)
        return link

    # == meeting cycle ===========================================================================
    def plan_cycle(
        self,
        territory: str,
        charter_id: str,
        *,
        author: str,
        first_day: str,
        place: str,
        until: str | None = None,
        count: int | None = None,
        poll_id: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> str:
        """Plan the meetings every two months except July and August, at the slot adopted by the poll."""
        sid = _stream(charter_id, CHARTER_ABSENT)
        c = self.get(territory, charter_id)
        _plannable(state.charter(self.trame.store.stream(sid), territory))
        first = _required_day(first_day, "Première rencontre", "first_day")
        if poll_id:
            start, end = self._adopted_slot(territory, charter_id, poll_id, first)
        if not start or not end:
            raise invalid("Indiquez l'horaire des rencontres, ou choisissez-le par un sondage.", "start")
        if not place.strip():
            raise invalid("Indiquez le lieu des rencontres (par exemple la salle communale).", "place")
        start, end = _hhmm(start, "Début"), _hhmm(end, "Fin")
        series_id, rule, _ids = links.plan_series(
            self.trame,
            territory,
            author=author,
            title=f"Rencontre partenariale — {c['title']}",
            first_day=first,
            start=start,
            end=end,
            place_text=place.strip(),
            until=day(until, "Jusqu'au", required=False, field="until"),
            count=count,
            description="Ordre du jour :\n" + "\n".join(f"{i}. {p}" for i, p in enumerate(links.AGENDA, 1)),
        )
        planned = ev.CyclePlanned(
            charter_id=charter_id, series_id=series_id, rule=rule, first_day=first, start=start, end=end, poll_id=poll_id
        )

        def decide(h: History) -> dict[UUID, list[Event]]:
            _plannable(state.charter(h.of(sid), territory))
            return {sid: [planned]}

        self._run(territory, author, [sid], decide)
        return series_id

    def _adopted_slot(self, territory: str, charter_id: str, poll_id: str, first: str) -> tuple[str, str]:
        """The hours of the slot the poll adopted; the first meeting falls on its weekday."""
        try:
            p = state.poll(self.trame.store.stream(UUID(poll_id)), territory)
        except ValueError:
            raise absent(POLL_ABSENT) from None
        if p.charter_id != charter_id:
            raise absent(POLL_ABSENT)
        if p.adopted_slot_id is None:
            raise invalid("Adoptez d'abord le créneau majoritaire du sondage.", "poll_id")
        slot = next(s for s in p.slots if s.slot_id == p.adopted_slot_id)
        if date.fromisoformat(first).weekday() != slot.weekday:
            raise invalid(f"Le créneau adopté est le {WEEKDAYS[slot.weekday]} : choisissez une première date ce jour-là.", "first_day")
        return slot.start, slot.end

    def expected_at(self, territory: str, charter_id: str, on: str) -> list[str]:
        """Who is invited to a meeting on that day: the carrier, the signatories, and the partners invited without signing."""
        c = self.get(territory, charter_id)
        ids = [c["carrier_structure_id"]] + [s["structure_id"] for s in self.signatories(territory, charter_id, on)]
        ids += [p["structure_id"] for p in self.invited(territory, charter_id, on)]
        return list(dict.fromkeys(ids))

    def _meeting_in_force(self, territory: str, charter_id: str, meeting_id: str) -> dict[str, Any]:
        """A meeting that can still be prepared: its charter is in force (an ended or suspended one's meetings are read only)."""
        c = self.get(territory, charter_id)
        m = self.charter_meeting(territory, charter_id, meeting_id)
        _in_force(c["status"])
        return m

    def invite_to_meeting(self, territory: str, charter_id: str, meeting_id: str, *, author: str, send: bool = True) -> int:
        m = self._meeting_in_force(territory, charter_id, meeting_id)
        current = set(links.names(self.trame, territory))
        wanted = [s for s in self.expected_at(territory, charter_id, m["day"]) if s in current]
        return links.invite(self.trame, territory, meeting_id, wanted, author=author, send=send)

    def choose_presenter(self, territory: str, charter_id: str, meeting_id: str, *, author: str, structure_id: str) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        self._meeting_in_force(territory, charter_id, meeting_id)
        self._structure_or_refuse(territory, structure_id)

        def decide(h: History) -> dict[UUID, list[Event]]:
            _in_force(state.charter(h.of(sid), territory).status)
            return {sid: [ev.PresenterChosen(charter_id=charter_id, meeting_id=meeting_id, structure_id=structure_id)]}

        self._run(territory, author, [sid], decide)

    def suggested_presenter(self, territory: str, charter_id: str, meeting_id: str) -> str | None:
        """In turn: among those expected, the one who presented least recently (never first), then by name."""
        m = self.charter_meeting(territory, charter_id, meeting_id)
        expected = self.expected_at(territory, charter_id, m["day"])
        if not expected:
            return None
        last: dict[str, str] = {}
        for other in self.meetings(territory, charter_id):
            if other["day"] < m["day"] and other.get("presenter_id"):
                last[other["presenter_id"]] = other["day"]
        names = links.names(self.trame, territory, set(expected))
        return min(expected, key=lambda sid: (last.get(sid, ""), collation_key(names.get(sid, ""))))

    def write_meeting_minutes(
        self, territory: str, charter_id: str, meeting_id: str, *, author: str, parts: list[str], decisions: list[str]
    ) -> None:
        """The three-part minutes. Part 1 discusses situations without any name (no field exists for one)."""
        self._meeting_in_force(territory, charter_id, meeting_id)
        bodies = [*parts, "", "", ""][:3]
        links.write_minutes(self.trame, territory, meeting_id, list(zip(links.AGENDA, bodies, strict=True)), decisions, author=author)

    def write_evaluation(self, territory: str, charter_id: str, year: int, *, author: str, texts: dict[str, str]) -> None:
        sid = _stream(charter_id, CHARTER_ABSENT)
        self.check_year(territory, charter_id, year)
        unknown = set(texts) - set(GRID)
        if unknown:
            raise invalid(f"Rubrique(s) inconnue(s) : {', '.join(sorted(unknown))}.")
        fields = {k: (texts.get(k) or "").strip() for k in GRID}
        for k, text in fields.items():
            if len(text) > TEXT_LIMIT:
                raise invalid(f"{TEXT_LIMIT} caractères au plus (vous en avez saisi {len(text)}).", k)
        written = ev.EvaluationWritten(charter_id=charter_id, year=year, **fields)

        def decide(h: History) -> dict[UUID, list[Event]]:
            state.charter(h.of(sid), territory)
            return {sid: [written]}

        self._run(territory, author, [sid], decide)

    # == queries =================================================================================
    def all(self, territory: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT * FROM charte_charters WHERE territory = ? ORDER BY drafted_at, charter_id", (territory,)).fetchall()
        return [self._decorate(dict(r)) for r in rows]

    def get(self, territory: str, charter_id: str) -> dict[str, Any]:
        """The charter; absent (404) if it is not one of this territory."""
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM charte_charters WHERE territory = ? AND charter_id = ?", (territory, charter_id)).fetchone()
        if row is None:
            raise absent(CHARTER_ABSENT)
        return self._decorate(dict(row))

    @staticmethod
    def _decorate(c: dict[str, Any]) -> dict[str, Any]:
        c["form_label"] = FORMS[c["form"]]
        c["status_label"] = STATUSES[c["status"]]
        return c

    def versions(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        self.get(territory, charter_id)
        with self.trame.db.read() as cur:
            rows = cur.execute("SELECT * FROM charte_versions WHERE charter_id = ? ORDER BY version_no", (charter_id,)).fetchall()
        return [{**dict(r), "commitments": msgspec.json.decode(r["commitments"])} for r in rows]

    def version(self, territory: str, charter_id: str, version_no: int) -> dict[str, Any]:
        found = next((v for v in self.versions(territory, charter_id) if v["version_no"] == version_no), None)
        if found is None:
            raise absent(f"La version {version_no} de cette charte n'existe pas.")
        return found

    def version_in_force(self, territory: str, charter_id: str, on: str) -> dict[str, Any] | None:
        """The latest version adopted on or before that day."""
        adopted = [v for v in self.versions(territory, charter_id) if v["adopted_on"] and v["adopted_on"] <= on]
        return max(adopted, key=lambda v: (v["adopted_on"], v["version_no"])) if adopted else None

    def first_adoption(self, territory: str, charter_id: str) -> str | None:
        """The day the charter first came into force (its first adopted version), if it did."""
        days = [v["adopted_on"] for v in self.versions(territory, charter_id) if v["adopted_on"]]
        return min(days) if days else None

    def status_history(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        """Suspensions, ends and returns into force, by the day they took effect."""
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT on_day, status, reason, recorded_at FROM charte_statuses WHERE territory = ? AND charter_id = ? "
                "ORDER BY on_day, position",
                (territory, charter_id),
            ).fetchall()
        return [dict(r) for r in rows]

    def state_at(self, territory: str, charter_id: str, on: str) -> dict[str, Any]:
        """The charter as it stood on that day: the version in force then and the status then
        (a draft before its first adoption), so that a page "as of" a past day shows neither
        today's text nor today's suspension or end."""
        version = self.version_in_force(territory, charter_id, on)
        if version is None:
            return {"status": "draft", "status_label": STATUSES["draft"], "status_on": None, "status_reason": None, "version": None}
        changes = [x for x in self.status_history(territory, charter_id) if x["on_day"] <= on]
        last = changes[-1] if changes else None
        status = last["status"] if last else "active"
        return {
            "status": status,
            "status_label": STATUSES[status],
            "status_on": last["on_day"] if last else self.first_adoption(territory, charter_id),
            "status_reason": last["reason"] if last and status != "active" else None,
            "version": version,
        }

    def _signature_rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute(sql, params).fetchall()
        out = [dict(r) for r in rows]
        for s in out:
            s["channel_label"] = CHANNELS[s["channel"]]
            s["open"] = s["ended_on"] == OPEN_DAY
        return out

    def signatories(self, territory: str, charter_id: str, on: str, known_at: str | None = None) -> list[dict[str, Any]]:
        """The structures whose signature was in force on that day (as known at ``known_at``, default now), by name."""
        if known_at is None:
            rows = self._signature_rows(
                "SELECT * FROM charte_signatures WHERE territory = ? AND charter_id = ? AND signed_on <= ? AND ended_on > ?",
                (territory, charter_id, on, on),
            )
        else:
            rows = self._signature_rows(
                "SELECT * FROM charte_signatures WHERE territory = ? AND charter_id = ? AND signed_on <= ? AND recorded_at <= ? "
                "AND (ended_on > ? OR end_recorded_at > ?)",
                (territory, charter_id, on, known_at, on, known_at),
            )
        names = links.names(self.trame, territory, {r["structure_id"] for r in rows})
        for r in rows:
            r["structure_name"] = names.get(r["structure_id"], "")
        return sorted(rows, key=lambda r: collation_key(r["structure_name"]))

    def signatures(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        """Every signature ever given, withdrawn and superseded ones included, in date order."""
        rows = self._signature_rows(
            "SELECT * FROM charte_signatures WHERE territory = ? AND charter_id = ? ORDER BY signed_on, recorded_at",
            (territory, charter_id),
        )
        names = links.names(self.trame, territory, {r["structure_id"] for r in rows})
        for r in rows:
            r["structure_name"] = names.get(r["structure_id"], "")
        return rows

    def signature(self, territory: str, charter_id: str, signature_id: str) -> dict[str, Any]:
        rows = self._signature_rows(
            "SELECT * FROM charte_signatures WHERE territory = ? AND charter_id = ? AND signature_id = ?",
            (territory, charter_id, signature_id),
        )
        if not rows:
            raise absent("Cette signature n'existe pas.")
        return rows[0]

    def signature_of(self, territory: str, charter_id: str, structure_id: str) -> dict[str, Any] | None:
        """The structure's signature in force now (not withdrawn nor superseded)."""
        rows = self._signature_rows(
            "SELECT * FROM charte_signatures WHERE territory = ? AND charter_id = ? AND structure_id = ? AND ended_on = ?",
            (territory, charter_id, structure_id, OPEN_DAY),
        )
        return rows[0] if rows else None

    def structure_history(self, territory: str, structure_id: str) -> list[dict[str, Any]]:
        """A structure's signatures of every charter of the territory (for its sheet in the directory)."""
        rows = self._signature_rows(
            "SELECT s.*, c.title AS charter_title, c.status AS charter_status FROM charte_signatures s "
            "JOIN charte_charters c ON c.charter_id = s.charter_id WHERE s.territory = ? AND s.structure_id = ? ORDER BY s.signed_on",
            (territory, structure_id),
        )
        return rows

    def invited(self, territory: str, charter_id: str, on: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = [
                dict(r)
                for r in cur.execute(
                    "SELECT * FROM charte_invited WHERE territory = ? AND charter_id = ? AND since <= ? AND until > ?",
                    (territory, charter_id, on, on),
                ).fetchall()
            ]
        names = links.names(self.trame, territory, {r["structure_id"] for r in rows})
        for r in rows:
            r["structure_name"] = names.get(r["structure_id"], "")
        return sorted(rows, key=lambda r: collation_key(r["structure_name"]))

    def polls(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            ids = [
                r["poll_id"]
                for r in cur.execute(
                    "SELECT poll_id FROM charte_polls WHERE territory = ? AND charter_id = ? ORDER BY opened_at", (territory, charter_id)
                ).fetchall()
            ]
        return [self.poll(territory, i) for i in ids]

    def poll(self, territory: str, poll_id: str) -> dict[str, Any]:
        """The poll with its tally: votes per slot, the leading slot(s), who voted what; absent (404) if unknown here."""
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM charte_polls WHERE territory = ? AND poll_id = ?", (territory, poll_id)).fetchone()
            if row is None:
                raise absent(POLL_ABSENT)
            votes = cur.execute(
                "SELECT structure_id, slot_ids, voted_at FROM charte_votes WHERE poll_id = ? ORDER BY position", (poll_id,)
            ).fetchall()
        p = dict(row)
        p["slots"] = msgspec.json.decode(row["slots"])
        p["slot_labels"] = {s["slot_id"]: slot_label(msgspec.convert(s, ev.Slot)) for s in p["slots"]}
        tally = {s["slot_id"]: 0 for s in p["slots"]}
        voters = []
        for v in votes:
            chosen = msgspec.json.decode(v["slot_ids"])
            for s in chosen:
                if s in tally:
                    tally[s] += 1
            voters.append({"structure_id": v["structure_id"], "slot_ids": chosen, "voted_at": v["voted_at"]})
        names = links.names(self.trame, territory, {v["structure_id"] for v in voters})
        for v in voters:
            v["structure_name"] = names.get(v["structure_id"], "")
        top = max(tally.values()) if tally else 0
        p["tally"] = tally
        p["voters"] = sorted(voters, key=lambda v: collation_key(v["structure_name"]))
        p["leaders"] = [s for s, n in tally.items() if n == top and top > 0]
        voted = {v["structure_id"] for v in voters}
        waiting = [sid for sid in self.expected_at(territory, p["charter_id"], clock.paris_today()) if sid not in voted]
        waiting_names = links.names(self.trame, territory, set(waiting))
        p["waiting"] = sorted(({"structure_id": w, "structure_name": waiting_names.get(w, "")} for w in waiting), key=_by_name)
        p["majority"] = p["adopted_slot_id"] or (p["leaders"][0] if len(p["leaders"]) == 1 else None)
        return p

    def cycles(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM charte_cycles WHERE territory = ? AND charter_id = ? ORDER BY first_day", (territory, charter_id)
            ).fetchall()
        out = [{**dict(r), "rule_label": links.describe_rule(r["rule"])} for r in rows]
        for cy in out:
            cy["hours"] = f"{hour_label(cy['start_time'])} – {hour_label(cy['end_time'])}"  # « 9 h – 11 h », as the meetings
        return out

    def meetings(self, territory: str, charter_id: str) -> list[dict[str, Any]]:
        """The charter's meetings (all its cycles), in date order, with the presenting partner of part 3."""
        out: list[dict[str, Any]] = []
        for cycle in self.cycles(territory, charter_id):
            out.extend(links.series_meetings(self.trame, territory, cycle["series_id"]))
        with self.trame.db.read() as cur:
            presenters = {
                r["meeting_id"]: r["structure_id"]
                for r in cur.execute(
                    "SELECT meeting_id, structure_id FROM charte_presenters WHERE charter_id = ?", (charter_id,)
                ).fetchall()
            }
        names = links.names(self.trame, territory, set(presenters.values()))
        for m in out:
            m["presenter_id"] = presenters.get(m["meeting_id"])
            m["presenter_name"] = names.get(m["presenter_id"] or "", "")
        return sorted(out, key=lambda m: (m["day"], m["start_time"]))

    def charter_meeting(self, territory: str, charter_id: str, meeting_id: str) -> dict[str, Any]:
        m = next((m for m in self.meetings(territory, charter_id) if m["meeting_id"] == meeting_id), None)
        if m is None:
            raise absent("Cette rencontre n'appartient pas à cette charte.")
        return m

    def participation(self, territory: str, charter_id: str, since: str, until: str) -> Participation:
        """Rates per meeting and per partner over the charter's meetings of a period (from the meetings plugin)."""
        return figures.compute(self, territory, charter_id, since, until)

    def evaluation_years(self, territory: str, charter_id: str) -> list[int]:
        """The years a report can be about: from the first draft or adoption (whichever is earlier: a
        charter of 2010 may be recorded years later) to its end, or to this year while it lasts."""
        c = self.get(territory, charter_id)
        first = self.first_adoption(territory, charter_id)
        start = min(int(c["drafted_at"][:4]), int(first[:4])) if first else int(c["drafted_at"][:4])
        end = int(c["status_on"][:4]) if c["status"] == "ended" and c["status_on"] else int(clock.paris_today()[:4])
        return list(range(start, max(start, end) + 1))

    def check_year(self, territory: str, charter_id: str, year: int) -> list[int]:
        years = self.evaluation_years(territory, charter_id)
        if year not in years:
            span = f"l'année {years[0]}" if len(years) == 1 else f"les années {years[0]} à {years[-1]}"
            raise absent(f"Pas d'évaluation pour {year} : cette charte couvre {span}.")
        return years

    def evaluation(self, territory: str, charter_id: str, year: int) -> dict[str, Any]:
        """The yearly report: figures from the data, and the coordination's written answers to the grid."""
        c = self.get(territory, charter_id)
        years = self.check_year(territory, charter_id, year)
        since, until = f"{year}-01-01", f"{year}-12-31"
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM charte_evaluations WHERE charter_id = ? AND year = ?", (charter_id, year)).fetchone()
        texts = {k: (row[k] if row else "") for k in GRID}
        all_signatures = self.signatures(territory, charter_id)
        return {
            "charter": c,
            "year": year,
            "years": years,
            "state_on": min(until, clock.paris_today()),
            "state": self.state_at(territory, charter_id, min(until, clock.paris_today())),
            "texts": texts,
            "written": dict(row) if row else None,
            "participation": self.participation(territory, charter_id, since, until),
            "signatories_start": self.signatories(territory, charter_id, since),
            "signatories_end": self.signatories(territory, charter_id, until),
            "signed_in_year": [s for s in all_signatures if since <= s["signed_on"] <= until],
            "withdrawn_in_year": [s for s in all_signatures if s["end_kind"] == "withdrawn" and since <= s["ended_on"] <= until],
        }


def charters(trame: Trame) -> Charters:
    return Charters(trame)
