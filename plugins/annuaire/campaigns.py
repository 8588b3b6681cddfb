"""Update campaigns: "how do we keep the directory up to date?" (Meaux, 5 Jan 2012).

A coordinator launches a campaign; each structure's referent gets a review link
(an unguessable token; only its SHA-256 digest is ever stored) by e-mail when SMTP
is configured, or listed for the coordinator to copy. The link opens the sheet with
"Toujours exact" (a ``StructureConfirmed`` through the directory service) and a way
to the edit form. A dashboard lists the sheets not confirmed for N months and whom
to chase.

The campaign's own events live in one stream per campaign; recipients are recorded
as ids (a person, an account, or "the structure's generic address"), never as
addresses, so that erasing a person leaves nothing here to scrub.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4

import msgspec

from core import clock, mail
from core.database import Cursor
from core.events import Event, Recorded
from core.projection import Projection
from core.refusals import Refused, absent
from core.settings import Settings
from core.store import Context, Write
from plugins.annuaire.schemas import ContactOut, StructureOut
from plugins.annuaire.service import directory
from plugins.annuaire.services import ServiceOut, services

if TYPE_CHECKING:
    from core.application import Trame

log = logging.getLogger(__name__)

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Message = Annotated[str, msgspec.Meta(max_length=4000)]
Digest = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]

#: How long a review link stays valid.
LINK_DAYS = 90
DEFAULT_MONTHS = 12
RECIPIENT_KINDS = ("person", "account", "structure", "none")


# == events ==================================================================================
class CampaignLaunched(Event, frozen=True):
    name = "annuaire.CampaignLaunched"
    journal_label = "Campagne de mise à jour lancée"
    campaign_id: str
    title: Title
    message: Message | None = None
    months: int | None = None  # the scope: sheets not confirmed for that many months; None = every sheet


class ReviewLinkIssued(Event, frozen=True):
    """A review link for one structure; a later one for the same structure replaces it."""

    name = "annuaire.ReviewLinkIssued"
    journal_label = "Lien de vérification de fiche créé"
    campaign_id: str
    structure_id: str
    token_digest: Digest  # SHA-256 of the token: the token itself is only in the link
    recipient_kind: str  # one of RECIPIENT_KINDS
    recipient_id: str | None = None  # person id or account id
    channel: str = "copy"  # "email" when it is to be mailed, "copy" when listed for the coordinator
    expires: str = clock.FOREVER


class ReviewMailsSent(Event, frozen=True):
    """What the SMTP server accepted (``sent``) or refused (``failed``), by token digest."""

    name = "annuaire.ReviewMailsSent"
    journal_label = "Courriels de vérification envoyés"
    campaign_id: str
    sent: list[Digest] = msgspec.field(default_factory=list)
    failed: list[Digest] = msgspec.field(default_factory=list)
    error: str | None = None


class ReviewAnswered(Event, frozen=True):
    """The link was used: "confirmed" (still correct), "edit" (went to the edit form) or
    "corrected" (the sheet or its contacts were corrected through the link)."""

    name = "annuaire.ReviewAnswered"
    journal_label = "Réponse à une vérification de fiche"
    campaign_id: str
    structure_id: str
    token_digest: Digest
    answer: str


class CampaignClosed(Event, frozen=True):
    """The campaign is over: its links stop working."""

    name = "annuaire.CampaignClosed"
    journal_label = "Campagne de mise à jour clôturée"
    campaign_id: str


EVENTS: list[type[Event]] = [CampaignLaunched, ReviewLinkIssued, ReviewMailsSent, ReviewAnswered, CampaignClosed]


# == projection ==============================================================================
class CampaignsProjection(Projection):
    name = "annuaire.campaigns"
    version = 1
    topics = tuple(e.name for e in EVENTS)
    tables = ("annuaire_campaigns", "annuaire_campaign_links")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS annuaire_campaigns (campaign_id TEXT PRIMARY KEY, territory TEXT NOT NULL, title TEXT NOT NULL, "
            "message TEXT, months INTEGER, launched_at TEXT NOT NULL, launched_by TEXT NOT NULL, closed_at TEXT)",
            "CREATE INDEX IF NOT EXISTS annuaire_campaigns_territory ON annuaire_campaigns (territory, launched_at)",
            "CREATE TABLE IF NOT EXISTS annuaire_campaign_links (token_digest TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, "
            "territory TEXT NOT NULL, structure_id TEXT NOT NULL, recipient_kind TEXT NOT NULL, recipient_id TEXT, "
            "channel TEXT NOT NULL, issued_at TEXT NOT NULL, expires TEXT NOT NULL, replaced INTEGER NOT NULL DEFAULT 0, "
            "sent_at TEXT, failed INTEGER NOT NULL DEFAULT 0, answer TEXT, answered_at TEXT)",
            "CREATE INDEX IF NOT EXISTS annuaire_campaign_links_campaign ON annuaire_campaign_links (campaign_id, structure_id)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e: Any = rec.event
        if isinstance(e, CampaignLaunched):
            cur.execute(
                "INSERT INTO annuaire_campaigns (campaign_id, territory, title, message, months, launched_at, launched_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO NOTHING",
                (e.campaign_id, rec.territory, e.title, e.message, e.months, rec.recorded_at, rec.author),
            )
        elif isinstance(e, ReviewLinkIssued):
            cur.execute(
                "UPDATE annuaire_campaign_links SET replaced = 1 WHERE campaign_id = ? AND structure_id = ?",
                (e.campaign_id, e.structure_id),
            )
            cur.execute(
                "INSERT INTO annuaire_campaign_links (token_digest, campaign_id, territory, structure_id, recipient_kind, recipient_id, "
                "channel, issued_at, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_digest) DO NOTHING",
                (
                    e.token_digest,
                    e.campaign_id,
                    rec.territory,
                    e.structure_id,
                    e.recipient_kind,
                    e.recipient_id,
                    e.channel,
                    rec.recorded_at,
                    e.expires,
                ),
            )
        elif isinstance(e, ReviewMailsSent):
            for digest in e.sent:
                cur.execute("UPDATE annuaire_campaign_links SET sent_at = ? WHERE token_digest = ?", (rec.recorded_at, digest))
            for digest in e.failed:
                cur.execute("UPDATE annuaire_campaign_links SET failed = 1 WHERE token_digest = ?", (digest,))
        elif isinstance(e, ReviewAnswered):
            cur.execute(
                "UPDATE annuaire_campaign_links SET answer = ?, answered_at = ? WHERE token_digest = ?",
                (e.answer, rec.recorded_at, e.token_digest),
            )
        elif isinstance(e, CampaignClosed):
            cur.execute("UPDATE annuaire_campaigns SET closed_at = ? WHERE campaign_id = ?", (rec.recorded_at, e.campaign_id))


# == queries' shapes =========================================================================
class CampaignError(Refused):
    """A refused campaign command; the message is for a person (HTTP 400)."""


@dataclass
class Recipient:
    """Whom to write to (or chase) about a structure's sheet."""

    kind: str  # "person", "account", "structure" or "none"
    id: str | None
    email: str | None
    label: str  # "Cathy Clerc (référente)", "adresse générique de la structure"
    phone: str | None = None


@dataclass
class IssuedLink:
    structure: StructureOut
    recipient: Recipient
    url: str
    digest: str
    sent: bool = False
    failed: bool = False


@dataclass
class LinkStatus:
    structure_id: str
    name: str
    recipient: Recipient
    channel: str
    issued_at: str
    sent_at: str | None
    failed: bool
    answer: str | None
    answered_at: str | None
    confirmed_at: str | None
    status: str  # "confirmée", "corrigée", "modification ouverte", "en attente", "plus dans le réseau"


@dataclass
class Campaign:
    id: str
    territory: str
    title: str
    message: str | None
    months: int | None
    launched_at: str
    launched_by: str
    launched_by_email: str | None
    closed_at: str | None
    links: list[LinkStatus] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {"total": len(self.links), "confirmed": 0, "edit": 0, "pending": 0}
        for link in self.links:
            key = {"confirmée": "confirmed", "corrigée": "confirmed", "modification ouverte": "edit"}.get(link.status, "pending")
            out[key] += 1
        return out


@dataclass
class Review:
    """What a review link opens."""

    campaign: Campaign
    structure: StructureOut
    contacts: list[ContactOut]
    digest: str
    answer: str | None
    services: list[ServiceOut] = field(default_factory=list)  # what the structure offers today: confirmed with its sheet


@dataclass
class Stale:
    """A sheet not confirmed for too long, and whom to chase."""

    structure: StructureOut
    recipient: Recipient
    last_confirmed: str | None
    fresh_since: str | None = None  # the latest of its last confirmation and its own last change (see freshness)


# == helpers =================================================================================
def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def months_ago(months: int, now: str | None = None) -> str:
    """The instant ``months`` calendar months before ``now`` (day clamped to the month's end)."""
    moment = clock.to_datetime(now or clock.now())
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = moment.day
    while day > 28:
        try:
            return clock.instant(moment.replace(year=year, month=month, day=day))
        except ValueError:
            day -= 1
    return clock.instant(moment.replace(year=year, month=month, day=day))


def review_url(trame: Trame, territory: str, token: str) -> str:
    return f"{trame.settings.base_url}/t/{territory}/annuaire/revue/{token}"


def recipients_of(trame: Trame, territory: str, structures: Sequence[StructureOut]) -> dict[str, Recipient]:
    """Per structure: the referent contact with an e-mail; else a referent account; else the generic
    address; else any contact with an address.

    Contacts and referent accounts are read for all the structures at once (a query per 500),
    since a campaign or the dashboard covers the whole territory."""
    contacts = directory(trame).contacts_of_structures(territory, [s.id for s in structures])
    ordered = {sid: sorted(found, key=lambda c: {"referent": 0, "direction": 1}.get(c.role, 2)) for sid, found in contacts.items()}
    out: dict[str, Recipient] = {}
    for s in structures:
        for contact in ordered[s.id]:
            person = contact.person
            if contact.role == "referent" and not person.erased and person.email:
                out[s.id] = Recipient("person", person.id, person.email, f"{person.name} (référent·e)", person.phone)
                break
    accounts = _referent_accounts(trame, territory, [s.id for s in structures if s.id not in out])
    for s in structures:
        if s.id in out:
            continue
        account = accounts.get(s.id)
        if account is not None:
            out[s.id] = Recipient("account", account[0], account[1], f"{account[1]} (compte référent·e)")
        elif s.email:
            out[s.id] = Recipient("structure", None, s.email, "adresse générique de la structure", s.phone)
        else:
            anyone = next((c.person for c in ordered[s.id] if not c.person.erased and (c.person.email or c.person.phone)), None)
            out[s.id] = (
                Recipient("person", anyone.id, anyone.email, f"{anyone.name}", anyone.phone)
                if anyone is not None
                else Recipient("none", None, None, "aucune adresse connue", s.phone)
            )
    return out


#: Authors that speak for the structure itself: its review link (« campagne:<id> ») and its referents' accounts.
REVIEW_AUTHOR = "campagne:"


def freshness(trame: Trame, territory: str) -> dict[str, str]:
    """structure id -> since when its sheet is known to hold: the latest, by effective date, of its
    last confirmation and the last change the structure made itself (one of its referents, or its
    review link), else its joining date. A change by the coordination does not refresh a sheet, and
    an import recorded today of a sheet joined in 2011 is as old as 2011. Read from the directory's
    history table (the change log of each sheet, with author and effective date) in two queries."""
    out: dict[str, str] = {}

    def later(structure_id: str, value: str | None) -> None:
        if value and value > out.get(structure_id, ""):
            out[structure_id] = value

    with trame.db.read() as cur:
        for r in cur.execute(
            "SELECT structure_id, MAX(effective) AS fresh FROM annuaire_structure_history WHERE territory = ? AND structure_id IS NOT NULL "
            "AND (event IN ('annuaire.StructureJoined', 'annuaire.StructureRejoined', 'annuaire.StructureConfirmed') "
            "OR (event = 'annuaire.StructureChanged' AND author LIKE ?)) GROUP BY structure_id",
            (territory, REVIEW_AUTHOR + "%"),
        ).fetchall():
            later(r["structure_id"], r["fresh"])
        for r in cur.execute(
            "SELECT h.structure_id, MAX(h.effective) AS fresh FROM annuaire_structure_history h JOIN memberships m "
            "ON m.account_id = h.author AND m.territory = h.territory AND m.structure_id = h.structure_id AND m.role = 'referent' "
            "WHERE h.territory = ? AND h.event = 'annuaire.StructureChanged' GROUP BY h.structure_id",
            (territory,),
        ).fetchall():
            later(r["structure_id"], r["fresh"])
    return out


def stale_sheets(trame: Trame, territory: str, months: int) -> list[tuple[StructureOut, str | None]]:
    """The sheets in the network now whose freshness is older than ``months`` months, oldest first."""
    before = months_ago(months)
    fresh = freshness(trame, territory)
    found = [(s, fresh.get(s.id)) for s in _all_structures(trame, territory)]
    late = [(s, since) for s, since in found if (since or "") < before]
    return sorted(late, key=lambda item: (item[1] or "", item[0].name))


def _referent_accounts(trame: Trame, territory: str, structure_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(account id, e-mail) of the first referent account granted on each structure that has one."""
    wanted = sorted(set(structure_ids))
    out: dict[str, tuple[str, str]] = {}
    with trame.db.read() as cur:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = cur.execute(
                "SELECT m.structure_id, a.account_id, a.email FROM memberships m JOIN accounts a ON a.account_id = m.account_id "
                f"WHERE m.territory = ? AND m.structure_id IN ({marks}) AND m.role = 'referent' AND a.email IS NOT NULL "
                "ORDER BY m.granted_at",
                (territory, *chunk),
            ).fetchall()
            for r in rows:
                out.setdefault(r["structure_id"], (r["account_id"], r["email"]))
    return out


def _recipient_now(trame: Trame, territory: str, kind: str, rid: str | None, structure: StructureOut | None) -> Recipient:
    """Whom a recorded recipient designates today (the address may have changed; erased people have none)."""
    if kind == "person" and rid:
        person = directory(trame).person(territory, rid)
        if person is None or person.erased:
            return Recipient("person", rid, None, "personne effacée")
        return Recipient("person", rid, person.email, person.name or "", person.phone)
    if kind == "account" and rid:
        account = trame.accounts.get(rid)
        email = str(account["email"]) if account is not None and account["email"] else None
        return Recipient("account", rid, email, email or "compte supprimé")
    if kind == "structure" and structure is not None:
        return Recipient("structure", None, structure.email, "adresse générique de la structure", structure.phone)
    return Recipient("none", None, None, "aucune adresse connue")


# == the service =============================================================================
class Campaigns:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # -- commands ------------------------------------------------------------------------------
    def launch(
        self, territory: str, *, title: str, author: str, message: str | None = None, months: int | None = None
    ) -> tuple[str, list[IssuedLink]]:
        """Issue one review link per structure in scope and mail them when SMTP is configured.

        Returns the campaign id and the links: the tokens exist only there, in the mails
        and in the coordinator's copy list (the events hold their digests)."""
        title = title.strip()
        if not title:
            raise CampaignError("Le titre de la campagne est obligatoire.")
        if months is not None and not 0 <= months <= 240:
            raise CampaignError("Le nombre de mois doit être compris entre 0 et 240.")
        if months is None:
            scope = _all_structures(self.trame, territory)
        else:
            scope = [s for s, _since in stale_sheets(self.trame, territory, months)]
        if not scope:
            raise CampaignError("Aucune fiche à faire relire : toutes les fiches du périmètre choisi sont à jour.")
        campaign_id = str(uuid4())
        launched = CampaignLaunched(campaign_id=campaign_id, title=title, message=(message or "").strip() or None, months=months)
        links, events = self._links(territory, campaign_id, scope)
        self._write(territory, author, Write(UUID(campaign_id), 0, [launched, *events]), reason=f"Campagne « {title} »")
        self._mail(territory, campaign_id, title, launched.message, links, author)
        return campaign_id, links

    def reissue(self, territory: str, campaign_id: str, *, author: str, structure_ids: list[str] | None = None) -> list[IssuedLink]:
        """Chase: new links (replacing the old ones) for the structures still pending."""
        campaign = self.get(territory, campaign_id)
        if campaign.closed_at:
            raise CampaignError("Cette campagne est close : lancez-en une nouvelle.")
        pending = [s.structure_id for s in campaign.links if s.status == "en attente"]
        wanted = [s for s in pending if structure_ids is None or s in structure_ids]
        found = directory(self.trame).structures(territory, wanted)
        scope = [found[s] for s in wanted if s in found]
        if not scope:
            raise CampaignError("Aucune fiche en attente à relancer dans cette campagne.")
        links, events = self._links(territory, campaign_id, scope)
        self._write(territory, author, Write(UUID(campaign_id), self._version(campaign_id), events), reason="Relance")
        self._mail(territory, campaign_id, campaign.title, campaign.message, links, author)
        return links

    def close(self, territory: str, campaign_id: str, *, author: str) -> None:
        campaign = self.get(territory, campaign_id)
        if campaign.closed_at:
            return
        event = CampaignClosed(campaign_id=campaign_id)
        self._write(territory, author, Write(UUID(campaign_id), self._version(campaign_id), [event]))

    def confirm(self, territory: str, token: str, *, author: str | None = None) -> Review:
        """ "Toujours exact": a confirmation in the structure's history, and the answer here."""
        review = self.review(territory, token)
        campaign = review.campaign
        who = author or f"campagne:{campaign.id}"
        reason = f"Toujours exact — campagne « {campaign.title} »"[:300]
        directory(self.trame).confirm_structure(territory, review.structure.id, who, reason=reason)
        # The referent read the services with the sheet: each one is confirmed too (its own history).
        services(self.trame).confirm(territory, review.structure.id, author=who, reason=reason)
        self.answer(territory, review, "confirmed", who)
        return self.review(territory, token)

    def open_edit(self, territory: str, token: str, *, author: str | None = None) -> Review:
        """The referent chose to correct the sheet: recorded, then they go to the edit form."""
        review = self.review(territory, token)
        if review.answer != "confirmed":
            self.answer(territory, review, "edit", author or f"campagne:{review.campaign.id}")
        return review

    # -- queries -------------------------------------------------------------------------------
    def review(self, territory: str, token: str) -> Review:
        """What a link opens; refused as absent when it is unknown, replaced, expired or its campaign closed."""
        digest = digest_of(token)
        with self.trame.db.read() as cur:
            link = cur.execute(
                "SELECT * FROM annuaire_campaign_links WHERE token_digest = ? AND territory = ?", (digest, territory)
            ).fetchone()
        gone = absent(
            "Ce lien de mise à jour n'est pas valable : il a expiré, a été remplacé par un lien plus récent, ou la campagne est close."
        )
        if link is None or link["replaced"] or link["expires"] < clock.now():
            raise gone
        campaign = self.get(territory, link["campaign_id"], with_links=False)
        if campaign.closed_at:
            raise gone
        structure = directory(self.trame).get_structure(territory, link["structure_id"])
        if structure is None:
            raise absent("Cette structure ne fait plus partie du réseau : il n'y a plus de fiche à relire.")
        contacts = directory(self.trame).contacts(territory, structure.id)
        offered = services(self.trame).of_structure(territory, structure.id)
        return Review(campaign, structure, contacts, digest, link["answer"], offered)

    def all(self, territory: str) -> list[Campaign]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT c.*, a.email AS launched_by_email FROM annuaire_campaigns c LEFT JOIN accounts a ON a.account_id = c.launched_by "
                "WHERE c.territory = ? ORDER BY c.launched_at DESC",
                (territory,),
            ).fetchall()
        return [self._with_links(territory, _campaign(r), recipients=False) for r in rows]

    def get(self, territory: str, campaign_id: str, *, with_links: bool = True) -> Campaign:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT c.*, a.email AS launched_by_email FROM annuaire_campaigns c LEFT JOIN accounts a ON a.account_id = c.launched_by "
                "WHERE c.campaign_id = ? AND c.territory = ?",
                (campaign_id, territory),
            ).fetchone()
        if row is None:
            raise absent("Cette campagne n'existe pas sur ce territoire.")
        campaign = _campaign(row)
        return self._with_links(territory, campaign) if with_links else campaign

    def stale(self, territory: str, months: int = DEFAULT_MONTHS) -> list[Stale]:
        """Sheets not kept true (see :func:`freshness`) for ``months`` months, oldest first, with whom to chase."""
        if not 0 <= months <= 240:
            raise CampaignError("Le nombre de mois doit être compris entre 0 et 240.")
        found = stale_sheets(self.trame, territory, months)
        recipients = recipients_of(self.trame, territory, [s for s, _since in found])
        return [Stale(s, recipients[s.id], s.confirmed_at, since) for s, since in found]

    # -- internals -----------------------------------------------------------------------------
    def _links(self, territory: str, campaign_id: str, scope: list[StructureOut]) -> tuple[list[IssuedLink], list[Event]]:
        can_mail = mail.configured(self.trame.settings)
        expires = clock.instant(clock.to_datetime(clock.now()) + timedelta(days=LINK_DAYS))
        links: list[IssuedLink] = []
        events: list[Event] = []
        recipients = recipients_of(self.trame, territory, scope)
        for structure in scope:
            token = secrets.token_urlsafe(32)
            digest = digest_of(token)
            recipient = recipients[structure.id]
            channel = "email" if can_mail and recipient.email else "copy"
            links.append(IssuedLink(structure, recipient, review_url(self.trame, territory, token), digest))
            events.append(
                ReviewLinkIssued(
                    campaign_id=campaign_id,
                    structure_id=structure.id,
                    token_digest=digest,
                    recipient_kind=recipient.kind,
                    recipient_id=recipient.id,
                    channel=channel,
                    expires=expires,
                )
            )
        return links, events

    def _mail(self, territory: str, campaign_id: str, title: str, message: str | None, links: list[IssuedLink], author: str) -> None:
        settings = self.trame.settings
        to_send = [link for link in links if link.recipient.email]
        if not settings.smtp_host or not to_send:
            return
        territory_title = (self.trame.territories.get(territory) or {}).get("title", territory)
        sent: list[str] = []
        failed: list[str] = []
        error: str | None = None
        try:
            with mail.connect(settings) as smtp:
                for link in to_send:
                    try:
                        smtp.send_message(_review_mail(settings, territory_title, title, message, link))
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                        log.warning("review mail refused for %s: %s", link.structure.id, exc)
                        failed.append(link.digest)
                        link.failed = True
                    else:
                        sent.append(link.digest)
                        link.sent = True
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP unavailable for campaign %s: %s", campaign_id, exc)
            error = f"Serveur d'envoi indisponible ({type(exc).__name__})"
            done = set(sent)
            for link in to_send:
                if link.digest not in done and link.digest not in failed:
                    failed.append(link.digest)
                    link.failed = True
        event = ReviewMailsSent(campaign_id=campaign_id, sent=sent, failed=failed, error=error)
        self._write(territory, author, Write(UUID(campaign_id), self._version(campaign_id), [event]))

    def answer(self, territory: str, review: Review, answer: str, author: str) -> None:
        """Record how the link was used ("confirmed", "edit", "corrected")."""
        cid = review.campaign.id
        event = ReviewAnswered(campaign_id=cid, structure_id=review.structure.id, token_digest=review.digest, answer=answer)
        self._write(territory, author, Write(UUID(cid), self._version(cid), [event]))

    def _write(self, territory: str, author: str, write: Write, reason: str | None = None) -> None:
        self.trame.execute(Context(author=author, territory=territory, reason=reason), write)

    def _version(self, campaign_id: str) -> int:
        return self.trame.store.version_of(UUID(campaign_id))

    def _with_links(self, territory: str, campaign: Campaign, *, recipients: bool = True) -> Campaign:
        """The campaign with the state of each structure's current link; ``recipients`` looks up
        whom each was for (one query each: left out of the list of campaigns)."""
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT * FROM annuaire_campaign_links WHERE campaign_id = ? AND territory = ? AND replaced = 0",
                (campaign.id, territory),
            ).fetchall()
        ids = [r["structure_id"] for r in rows]
        now = directory(self.trame).structures(territory, ids)
        for r in rows:
            structure = now.get(r["structure_id"])
            confirmed = structure.confirmed_at if structure else None
            if structure is None:
                status = "plus dans le réseau"
            elif confirmed and confirmed >= campaign.launched_at:
                status = "confirmée"
            elif r["answer"] == "corrected":
                status = "corrigée"
            elif r["answer"] == "edit":
                status = "modification ouverte"
            else:
                status = "en attente"
            campaign.links.append(
                LinkStatus(
                    structure_id=r["structure_id"],
                    name=structure.name if structure else "(structure sortie du réseau)",
                    recipient=_recipient_now(self.trame, territory, r["recipient_kind"], r["recipient_id"], structure)
                    if recipients
                    else Recipient(r["recipient_kind"], r["recipient_id"], None, ""),
                    channel=r["channel"],
                    issued_at=r["issued_at"],
                    sent_at=r["sent_at"],
                    failed=bool(r["failed"]),
                    answer=r["answer"],
                    answered_at=r["answered_at"],
                    confirmed_at=confirmed,
                    status=status,
                )
            )
        campaign.links.sort(key=lambda s: (s.status != "en attente", s.name.casefold()))
        return campaign


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row["campaign_id"],
        territory=row["territory"],
        title=row["title"],
        message=row["message"],
        months=row["months"],
        launched_at=row["launched_at"],
        launched_by=row["launched_by"],
        launched_by_email=row["launched_by_email"],
        closed_at=row["closed_at"],
    )


def _all_structures(trame: Trame, territory: str) -> list[StructureOut]:
    from plugins.annuaire.exchange import current_structures

    return current_structures(trame, territory)


def _review_mail(settings: Settings, territory_title: str, title: str, message: str | None, link: IssuedLink) -> EmailMessage:
    subject = f"Annuaire partagé {territory_title} : la fiche « {link.structure.name} » est-elle à jour ?"
    body = [
        "Bonjour,",
        "",
        f"Dans le cadre de la campagne « {title} », le réseau partenarial de {territory_title} vous demande de relire "
        f"la fiche de « {link.structure.name} » dans l'annuaire partagé.",
        "",
    ]
    if message:
        body += [message, ""]
    body += [
        "Ouvrez ce lien personnel pour la relire :",
        link.url,
        "",
        "Si tout est exact, un clic sur « Toujours exact » suffit ; sinon, vous pourrez la corriger.",
        f"Ce lien est valable {LINK_DAYS} jours. Ne le transférez pas : il permet de confirmer la fiche.",
        "",
        "Merci pour le réseau !",
    ]
    return mail.build(settings, [link.recipient.email or ""], subject, "\n".join(body))


def campaigns(trame: Trame) -> Campaigns:
    """The campaign service of an application (stateless: cheap to build)."""
    return Campaigns(trame)
