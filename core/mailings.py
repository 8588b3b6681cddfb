"""Mailings to the group: a message to a list built from the directory, sent one per address
through a queue that survives a restart, with a log per recipient.

Any plugin offers lists through the ``mailing_lists`` hook (the whole territory, a
meeting's invitees, a charter's signatories...) and queues a message with :func:`queue`.
The rules are the core's, so they hold for every list:

* a structure's generic address first; its contacts' personal addresses only where it has
  none (seed 000 asks for generic addresses), and never one unsubscribed from that list;
* one message per address (nobody sees another partner's address);
* the queue is events (``mailings.*``) and a projection, so a restart loses nothing; a
  runner step (:func:`send_due`, ``trame mailings send --follow``) sends what is due, in one
  SMTP session, and retries a failing server later (no thread per request);
* personal addresses are sealed with their person's key, so an erasure removes them;
* without SMTP, :func:`addresses` gives the list to copy into one's own mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from core import clock, mail
from core.commands import History, run
from core.events import Event
from core.refusals import Refused, absent, conflict, invalid
from core.store import SYSTEM, Context

if TYPE_CHECKING:
    from core.application import Trame

#: Waits before each new attempt when the SMTP server does not answer; then the address is abandoned.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12))
MAX_ATTACHMENTS_BYTES = 5_000_000
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]
Outcome = Literal["sent", "refused", "deferred", "abandoned"]


# -- what plugins give ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Contact:
    """A person of a structure, with the personal address the directory holds for them."""

    person_id: str
    address: str


@dataclass(frozen=True)
class Target:
    """A structure on a list: its generic address, and its contacts for when it has none."""

    structure_id: str
    structure_name: str
    address: str | None = None
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class MailingList:
    """A list a plugin offers (``key`` stable, e.g. ``annuaire.theme.logement``); ``targets`` is
    only called when the list is used."""

    key: str
    label: str
    targets: Callable[[], Sequence[Target]]
    group: str = ""  # heading under which pages show it ("Annuaire", "Rencontres"...)
    #: Text added, when sending, to the message of each recipient of a structure (its own answer
    #: link to a questionnaire): computed at each send from the structure id, never stored.
    personal_note: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Recipient:
    """One address a message goes to; ``person_id`` set for a personal address."""

    structure_id: str
    structure_name: str
    address: str
    person_id: str | None = None


# -- events ---------------------------------------------------------------------------------------
class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    content_type: str = "application/pdf"
    data: bytes = b""


class GenericRecipient(msgspec.Struct, frozen=True, kw_only=True):
    recipient_id: str
    structure_id: str
    address: str


class MailingQueued(Event, frozen=True):
    """A message to a list, queued for sending; generic addresses travel with it."""

    name = "mailings.MailingQueued"
    journal_label = "Envoi au groupe programmé"
    mailing_id: str
    list_key: str
    list_label: str
    title: Subject  # the message's subject line (``subject`` names the person of personal events)
    body: Body
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    recipients: list[GenericRecipient] = msgspec.field(default_factory=list)


class PersonalRecipientQueued(Event, frozen=True):
    """A personal address on a mailing (its structure has no generic one), sealed with the person's key."""

    name = "mailings.PersonalRecipientQueued"
    journal_label = "Destinataire personnel ajouté à un envoi"
    personal = ("address",)
    subject = "person_id"
    mailing_id: str
    recipient_id: str
    structure_id: str
    person_id: str
    address: str | None


class DeliveryRecorded(Event, frozen=True):
    """What the SMTP server answered for one recipient: sent, refused (bounced address),
    deferred (server unreachable; ``retry_at``) or abandoned after the last attempt."""

    name = "mailings.DeliveryRecorded"
    journal_label = "Envoi à un destinataire"
    mailing_id: str
    recipient_id: str
    outcome: Outcome
    attempt: int
    detail: str | None = None
    retry_at: str | None = None


class PersonUnsubscribed(Event, frozen=True):
    """A person asked to receive no more messages of one list (through the link in each message)."""

    name = "mailings.PersonUnsubscribed"
    journal_label = "Désabonnement d'une liste"
    list_key: str
    person_id: str


EVENTS: tuple[type[Event], ...] = (MailingQueued, PersonalRecipientQueued, DeliveryRecorded, PersonUnsubscribed)
FINAL = frozenset({"sent", "refused", "abandoned"})
STATUS_LABELS = {
    "pending": "en attente d'envoi",
    "sent": "envoyé",
    "refused": "adresse refusée par le serveur",
    "abandoned": "abandonné (serveur d'envoi injoignable)",
}


# -- lists ----------------------------------------------------------------------------------------
def lists(trame: Trame, territory: str) -> list[MailingList]:
    """The lists offered by the plugins enabled in ``territory``."""
    enabled = trame.territories.enabled_plugins(territory)
    out: list[MailingList] = []
    for impl in trame.pm.hook.mailing_lists.get_hookimpls():
        name = trame.catalog.name_of(impl.plugin)
        if name in enabled or trame.catalog.info[name].always_on:
            offered = cast(list[MailingList], impl.function(trame=trame, territory=territory) or [])
            out.extend(offered)
    return out


def find_list(trame: Trame, territory: str, key: str) -> MailingList:
    for ml in lists(trame, territory):
        if ml.key == key:
            return ml
    raise absent("Cette liste de diffusion n'existe pas sur ce territoire.", "list_key")


def recipients(trame: Trame, territory: str, key: str) -> list[Recipient]:
    """Who a message to the list goes to: each structure's generic address, else its contacts'
    personal ones (not those unsubscribed from this list); each address once."""
    ml = find_list(trame, territory, key)
    gone = unsubscribed(trame, territory, key)
    out: list[Recipient] = []
    seen: set[str] = set()
    for t in ml.targets():
        if t.address:
            chosen = [Recipient(t.structure_id, t.structure_name, t.address)]
        else:
            chosen = [Recipient(t.structure_id, t.structure_name, c.address, c.person_id) for c in t.contacts if c.person_id not in gone]
        for r in chosen:
            if r.address.casefold() not in seen:
                seen.add(r.address.casefold())
                out.append(r)
    return out


def addresses(trame: Trame, territory: str, key: str) -> list[str]:
    """The addresses to copy into one's own mail when Trame has no SMTP (one per line on the page)."""
    return [r.address for r in recipients(trame, territory, key)]


def unsubscribed(trame: Trame, territory: str, key: str) -> set[str]:
    with trame.db.read() as cur:
        rows = cur.rows("SELECT person_id FROM mailing_unsubscriptions WHERE territory = ? AND list_key = ?", (territory, key))
    return {r[0] for r in rows}


# -- queueing -------------------------------------------------------------------------------------
def queue(
    trame: Trame,
    territory: str,
    *,
    author: str,
    list_key: str,
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> str:
    """Queue a message to every recipient of the list; returns the mailing's id. Refused
    without SMTP (the page shows the addresses to copy instead) or with nobody to write to."""
    if not mail.configured(trame.settings):
        raise conflict("Aucun serveur d'envoi n'est configuré : copiez les adresses de la liste dans votre messagerie.")
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise invalid("Donnez un objet au message.", "subject")
    if not body:
        raise invalid("Écrivez le message.", "body")
    if sum(len(a.data) for a in attachments) > MAX_ATTACHMENTS_BYTES:
        raise invalid("Les pièces jointes dépassent 5 Mo : envoyez plutôt un lien vers la page.", "attachments")
    ml = find_list(trame, territory, list_key)
    found = recipients(trame, territory, list_key)
    if not found:
        raise conflict("Personne sur cette liste n'a d'adresse e-mail.", "list_key")
    mailing_id = str(uuid.uuid4())
    events: list[Event] = [
        MailingQueued(
            mailing_id=mailing_id,
            list_key=ml.key,
            list_label=ml.label,
            title=subject,
            body=body,
            attachments=list(attachments),
            recipients=[
                GenericRecipient(recipient_id=str(uuid.uuid4()), structure_id=r.structure_id, address=r.address)
                for r in found
                if not r.person_id
            ],
        )
    ]
    events += [
        PersonalRecipientQueued(
            mailing_id=mailing_id, recipient_id=str(uuid.uuid4()), structure_id=r.structure_id, person_id=r.person_id, address=r.address
        )
        for r in found
        if r.person_id
    ]
    stream = UUID(mailing_id)
    run(trame, Context(author=author, territory=territory), [stream], lambda _h: {stream: events})
    return mailing_id


# -- unsubscribing --------------------------------------------------------------------------------
def _signature(trame: Trame, payload: str) -> str:
    digest = hmac.new(trame.settings.secret_key.encode(), f"trame:desabonnement:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def unsubscribe_token(trame: Trame, territory: str, list_key: str, person_id: str) -> str:
    """The link's secret: the list and the person, signed with the platform's key (nothing stored)."""
    payload = base64.urlsafe_b64encode(msgspec.json.encode([territory, list_key, person_id])).decode().rstrip("=")
    return f"{payload}.{_signature(trame, payload)}"


@dataclass(frozen=True)
class Unsubscription:
    list_key: str
    list_label: str
    person_id: str
    already: bool


def read_token(trame: Trame, territory: str, token: str) -> Unsubscription:
    payload, _, signature = token.partition(".")
    if not signature or not hmac.compare_digest(signature, _signature(trame, payload)):
        raise absent("Ce lien de désabonnement n'est pas valable.")
    slug, list_key, person_id = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if slug != territory:
        raise absent("Ce lien de désabonnement n'est pas valable.")
    label = next((ml.label for ml in lists(trame, territory) if ml.key == list_key), list_key)
    return Unsubscription(list_key, label, person_id, person_id in unsubscribed(trame, territory, list_key))


def unsubscribe(trame: Trame, territory: str, token: str) -> Unsubscription:
    """Record that the person of the link receives no more messages of its list (once)."""
    u = read_token(trame, territory, token)
    stream = uuid5(NAMESPACE_URL, f"trame:mailings:unsubscribed:{territory}:{u.list_key}:{u.person_id}")

    def decide(history: History) -> dict[UUID, list[Event]]:
        if history.exists(stream):
            return {}
        return {stream: [PersonUnsubscribed(list_key=u.list_key, person_id=u.person_id)]}

    run(trame, Context(author=f"desabonnement:{u.person_id}", territory=territory), [stream], decide)
    return u


# -- sending (the runner step) --------------------------------------------------------------------
@dataclass
class StepReport:
    sent: int = 0
    refused: int = 0
    deferred: int = 0
    abandoned: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.sent + self.refused + self.deferred + self.abandoned


@dataclass(frozen=True)
class _Due:
    territory: str
    mailing_id: str
    recipient_id: str
    structure_id: str
    person_id: str | None
    address: str | None
    attempts: int


def send_due(trame: Trame, *, now: str | None = None, limit: int = 200) -> StepReport:
    """One step of the sender: every recipient whose turn has come (new, or its retry time
    passed), in one SMTP session; each outcome recorded as an event on its mailing."""
    now = now or clock.now()
    report = StepReport()
    if not mail.configured(trame.settings):
        return report
    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT territory, mailing_id, recipient_id, structure_id, person_id, address, attempts FROM mailing_recipients "
            "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, mailing_id, recipient_id LIMIT ?",
            (now, limit),
        ).fetchall()
    due = [_Due(**dict(r)) for r in rows]
    if not due:
        return report
    outcomes: dict[tuple[str, str], list[DeliveryRecorded]] = {}
    messages: dict[str, dict[str, Any]] = {}

    def record(d: _Due, outcome: Outcome, detail: str | None) -> None:
        attempt = d.attempts + 1
        retry_at = None
        if outcome == "deferred":
            if attempt > len(BACKOFF):
                outcome = "abandoned"
            else:
                retry_at = clock.instant(clock.to_datetime(now) + BACKOFF[attempt - 1])
        setattr(report, outcome, getattr(report, outcome) + 1)
        outcomes.setdefault((d.territory, d.mailing_id), []).append(
            DeliveryRecorded(
                mailing_id=d.mailing_id, recipient_id=d.recipient_id, outcome=outcome, attempt=attempt, detail=detail, retry_at=retry_at
            )
        )

    try:
        with mail.connect(trame.settings) as smtp:
            for i, d in enumerate(due):
                if not d.address:  # the person was erased meanwhile
                    record(d, "abandoned", "adresse effacée")
                    continue
                m = messages.get(d.mailing_id) or messages.setdefault(d.mailing_id, _mailing(trame, d.mailing_id))
                try:
                    smtp.send_message(_message(trame, m, d))
                    record(d, "sent", None)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    record(d, "refused", f"{code} {_text(text)}")
                except smtplib.SMTPResponseException as exc:
                    permanent = exc.smtp_code >= 500
                    record(d, "refused" if permanent else "deferred", f"{exc.smtp_code} {_text(exc.smtp_error)}")
                except mail.UNREACHABLE as exc:
                    for rest in due[i:]:
                        record(rest, "deferred", f"serveur injoignable : {exc}")
                    break
    except mail.UNREACHABLE as exc:
        for d in due:
            if not any(o.recipient_id == d.recipient_id for o in outcomes.get((d.territory, d.mailing_id), [])):
                record(d, "deferred", f"serveur injoignable : {exc}")
    for (territory, mailing_id), events in outcomes.items():
        _record(trame, territory, mailing_id, events, report)
    return report


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


def _record(trame: Trame, territory: str, mailing_id: str, events: list[DeliveryRecorded], report: StepReport) -> None:
    stream = UUID(mailing_id)

    def decide(history: History) -> dict[UUID, list[Event]]:
        final = {r.event.recipient_id for r in history.of(stream) if isinstance(r.event, DeliveryRecorded) and r.event.outcome in FINAL}
        return {stream: [e for e in events if e.recipient_id not in final]}  # another sender recorded it first

    try:
        run(trame, Context(author=SYSTEM, territory=territory), [stream], decide)
    except Exception as exc:  # the next step retries what was not recorded; one mailing never blocks the others
        report.errors.append(f"{mailing_id}: {exc}")


def _mailing(trame: Trame, mailing_id: str) -> dict[str, Any]:
    with trame.db.read() as cur:
        row = cur.execute("SELECT * FROM mailings WHERE mailing_id = ?", (mailing_id,)).fetchone()
    if row is None:
        raise absent("Cet envoi n'existe pas.")
    m = dict(row)
    m["attachments"] = msgspec.json.decode(m["attachments"], type=list[Attachment])
    try:
        m["personal_note"] = find_list(trame, m["territory"], m["list_key"]).personal_note
    except Refused:  # the list is gone (its plugin turned off): the message goes without a note
        m["personal_note"] = None
    return m


def _message(trame: Trame, m: dict[str, Any], d: _Due) -> Any:
    body = m["body"]
    note = m["personal_note"](d.structure_id) if m.get("personal_note") else None
    if note:
        body += f"\n\n{note}"
    headers: dict[str, str] = {}
    if d.person_id:
        token = unsubscribe_token(trame, d.territory, m["list_key"], d.person_id)
        url = f"{trame.settings.base_url}/t/{d.territory}/diffusion/desabonnement/{token}"
        body += (
            f"\n\n--\nVous recevez ce message à votre adresse personnelle, faute d'adresse générique pour votre structure, "
            f"comme membre de la liste « {m['list_label']} ».\nPour ne plus recevoir les envois de cette liste : {url}"
        )
        headers["List-Unsubscribe"] = f"<{url}>"
    files = [mail.Attachment(a.filename, a.data, *a.content_type.split("/", 1)) for a in m["attachments"]]
    return mail.build(trame.settings, d.address or "", m["title"], body, attachments=files, headers=headers)


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MailingSummary:
    mailing_id: str
    list_label: str
    subject: str
    author: str
    queued_at: str
    total: int
    sent: int
    refused: int
    pending: int


@dataclass(frozen=True)
class LogLine:
    """One recipient of a mailing, as the page shows it (the address is gone once its person is erased)."""

    structure_id: str
    address: str | None
    personal: bool
    status: str
    status_label: str
    attempts: int
    detail: str | None
    next_attempt_at: str | None
    updated_at: str


def history(trame: Trame, territory: str, limit: int = 50) -> list[MailingSummary]:
    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT m.mailing_id, m.list_label, m.title, m.author, m.queued_at, "
            "COUNT(r.recipient_id) AS total, "
            "SUM(CASE WHEN r.status = 'sent' THEN 1 ELSE 0 END) AS sent, "
            "SUM(CASE WHEN r.status IN ('refused', 'abandoned') THEN 1 ELSE 0 END) AS refused, "
            "SUM(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END) AS pending "
            "FROM mailings m LEFT JOIN mailing_recipients r ON r.mailing_id = m.mailing_id "
            "WHERE m.territory = ? GROUP BY m.mailing_id, m.list_label, m.title, m.author, m.queued_at "
            "ORDER BY m.queued_at DESC LIMIT ?",
            (territory, limit),
        ).fetchall()
    return [
        MailingSummary(
            mailing_id=r["mailing_id"],
            list_label=r["list_label"],
            subject=r["title"],
            author=r["author"],
            queued_at=r["queued_at"],
            total=int(r["total"] or 0),
            sent=int(r["sent"] or 0),
            refused=int(r["refused"] or 0),
            pending=int(r["pending"] or 0),
        )
        for r in rows
    ]


def get(trame: Trame, territory: str, mailing_id: str) -> dict[str, Any]:
    with trame.db.read() as cur:
        row = cur.execute(
            "SELECT mailing_id, list_key, list_label, title, body, author, queued_at, attachments FROM mailings "
            "WHERE territory = ? AND mailing_id = ?",
            (territory, mailing_id),
        ).fetchone()
    if row is None:
        raise absent("Cet envoi n'existe pas sur ce territoire.")
    m = dict(row)
    m["attachments"] = [a.filename for a in msgspec.json.decode(m["attachments"], type=list[Attachment])]
    return m


def log(trame: Trame, territory: str, mailing_id: str) -> list[LogLine]:
    with trame.db.read() as cur:
        rows = cur.execute(
            "SELECT structure_id, address, person_id, status, attempts, detail, next_attempt_at, updated_at FROM mailing_recipients "
            "WHERE territory = ? AND mailing_id = ? ORDER BY status, address",
            (territory, mailing_id),
        ).fetchall()
    out = []
    for r in rows:
        label = STATUS_LABELS.get(r["status"], r["status"])
        if r["status"] == "pending" and r["attempts"]:
            label = f"nouvel essai le {clock.french_moment(r['next_attempt_at'])}"
        out.append(
            LogLine(
                structure_id=r["structure_id"],
                address=r["address"],
                personal=r["person_id"] is not None,
                status=r["status"],
                status_label=label,
                attempts=r["attempts"],
                detail=r["detail"],
                next_attempt_at=r["next_attempt_at"] if r["status"] == "pending" else None,
                updated_at=r["updated_at"],
            )
        )
    return out


def follow(trame: Trame, stop: Any, poll_seconds: float = 30.0, report: Callable[[StepReport], None] | None = None) -> None:
    """Run :func:`send_due` until ``stop`` (a ``threading.Event``) is set: ``trame mailings send
    --follow``, one process beside the web workers, as ``trame project --follow`` is."""
    while not stop.is_set():
        step = send_due(trame)
        if report is not None and step.done:
            report(step)
        if step.done < 200:  # a full batch means more is due at once
            stop.wait(poll_seconds)
