"""Accounts, roles per territory, invitations and API tokens.

Secrets never enter the log in clear: passwords as argon2id hashes and e-mails inside
personal fields (erasable with the account's key); invitation and API tokens only as
SHA-256 digests, so a leaked database gives no usable token.

An account's id is random (uuid4) and is the clear-text author of everything it does, so
nothing in the log is derived from its e-mail. Sign-in finds the account through a keyed
digest of the e-mail kept in the accounts read model (:func:`email_digest`); erasing the
account empties it, after which nothing says the address ever had an account, and the
address may sign up again. Accounts made before this (ids ``uuid5`` of the e-mail) are read
as they were written: the read model digests their e-mails the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.commands import History, run
from core.database import Cursor
from core.events import Event
from core.refusals import invalid
from core.store import SYSTEM, Context
from core.structures import require_structure

if TYPE_CHECKING:
    from core.application import Trame

Role = Literal["coordinator", "referent", "member"]
ROLES: dict[str, str] = {"coordinator": "Coordinateur·rice", "referent": "Référent·e de structure", "member": "Membre"}
RANK = {"member": 1, "referent": 2, "coordinator": 3}
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]

_hasher = PasswordHasher()  # argon2id, OWASP-grade defaults
INVITATION_DAYS = 14


class AccountRegistered(Event, frozen=True):
    """An account was opened: one event per account on the one registry stream (:data:`REGISTRY`),
    so that two sign-ups of one address cannot both pass the check that it is free."""

    name = "core.AccountRegistered"
    journal_label = "Compte ouvert"
    account_id: str


class AccountCreated(Event, frozen=True):
    name = "core.AccountCreated"
    journal_label = "Compte créé"
    personal = ("email", "display_name")
    subject = "account_id"
    account_id: str
    email: str | None
    display_name: str | None = None


class PasswordSet(Event, frozen=True):
    name = "core.PasswordSet"
    journal_label = "Mot de passe défini"
    personal = ("password_hash",)
    subject = "account_id"
    account_id: str
    password_hash: str | None


class AdminGranted(Event, frozen=True):
    name = "core.AdminGranted"
    journal_label = "Droits d'administration accordés"
    account_id: str


class MembershipGranted(Event, frozen=True):
    name = "core.MembershipGranted"
    journal_label = "Rôle accordé sur le territoire"
    account_id: str
    territory: str
    role: Role
    structure_id: str | None = None


class MembershipRevoked(Event, frozen=True):
    name = "core.MembershipRevoked"
    journal_label = "Rôle retiré sur le territoire"
    account_id: str
    territory: str


class ApiTokenIssued(Event, frozen=True):
    name = "core.ApiTokenIssued"
    journal_label = "Jeton d'API créé"
    account_id: str
    token_id: str
    digest: str
    label: str = ""


class InvitationIssued(Event, frozen=True):
    name = "core.InvitationIssued"
    journal_label = "Invitation envoyée"
    personal = ("email",)
    subject = "invitation_id"
    invitation_id: str
    digest: str
    territory: str
    role: Role
    structure_id: str | None
    email: str | None
    expires_at: str


class AccountErased(Event, frozen=True):
    """The person asked to be forgotten: personal fields shredded, access removed."""

    name = "core.AccountErased"
    journal_label = "Compte effacé (RGPD)"
    account_id: str


class InvitationAccepted(Event, frozen=True):
    name = "core.InvitationAccepted"
    journal_label = "Invitation acceptée"
    invitation_id: str
    account_id: str


EVENTS: list[type[Event]] = [
    AccountRegistered,
    AccountCreated,
    PasswordSet,
    AdminGranted,
    MembershipGranted,
    MembershipRevoked,
    ApiTokenIssued,
    InvitationIssued,
    InvitationAccepted,
    AccountErased,
]


#: Every account creation appends to this stream (:class:`AccountRegistered`): creations are
#: decided one after the other, each on a read model that holds every account created before it.
REGISTRY = uuid5(NAMESPACE_URL, "trame:accounts")

#: The key of the e-mail digests, kept with the personal-data keys under this reserved subject
#: id: ``trame export`` carries it, so an imported store digests e-mails as its source did (its
#: projections end identical), and it is never shredded. Whoever holds the database holds it, as
#: they hold the keys that decrypt live e-mails; an erased account leaves no digest to test.
LOOKUP_SUBJECT = "trame:account-lookup"
_KEY_SQL = "SELECT key_b64 FROM subject_keys WHERE subject_id = ?"


def fold_email(email: str) -> str:
    """An address as accounts compare it: « Lea@Exemple.FR » is « lea@exemple.fr »."""
    return email.strip().lower()


def lookup_key(cur: Cursor) -> bytes:
    """The digest key, created in ``cur``'s write transaction the first time it is needed."""
    value = cur.scalar(_KEY_SQL, (LOOKUP_SUBJECT,))
    if value is None:
        cur.execute(
            "INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING",
            (LOOKUP_SUBJECT, base64.b64encode(secrets.token_bytes(32)).decode()),
        )
        value = cur.scalar(_KEY_SQL, (LOOKUP_SUBJECT,))
    return base64.b64decode(value)


def email_digest(key: bytes, email: str) -> str:
    """HMAC-SHA-256 of the folded e-mail: the accounts read model's lookup column."""
    return hmac.new(key, fold_email(email).encode(), hashlib.sha256).hexdigest()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < 10:
        raise invalid("Le mot de passe doit faire au moins 10 caractères.")


_BUSY = "Le compte est modifié en ce moment ; réessayez."


class Accounts:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame
        self._lookup_key: bytes | None = None  # cached once read: it never changes

    # -- commands --------------------------------------------------------------------------
    def create(self, email: str, password: str, *, admin: bool = False, display_name: str | None = None, author: str = SYSTEM) -> str:
        email = fold_email(email)
        try:
            msgspec.convert(email, Email)
        except msgspec.ValidationError:
            raise invalid(f"« {email} » n'est pas une adresse e-mail valide.") from None
        check_password(password)
        password_hash = _hasher.hash(password)
        wanted = email_digest(self._key(create=True), email)
        account = uuid4()
        account_id = str(account)

        def decide(history: History) -> dict[UUID, list[Event]]:
            # The registry stream was read first: every creation before it is in the log, and
            # one after it moves the registry, so this decision is made again.
            self.trame.runner.catch_up(["accounts"])
            if self._account_with(wanted) is not None:
                raise invalid(f"Un compte existe déjà pour {email}.")
            events: list[Event] = [
                AccountCreated(account_id=account_id, email=email, display_name=display_name),
                PasswordSet(account_id=account_id, password_hash=password_hash),
            ]
            if admin:
                events.append(AdminGranted(account_id=account_id))
            return {REGISTRY: [AccountRegistered(account_id=account_id)], account: events}

        run(self.trame, Context(author=author, territory=""), [REGISTRY, account], decide, busy=_BUSY)
        return account_id

    def grant(self, account_id: str, territory: str, role: str, structure_id: str | None = None, *, author: str) -> None:
        if role not in ROLES:
            raise invalid(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.")
        if role == "referent" and not structure_id:
            raise invalid("Un·e référent·e est rattaché·e à une structure : indiquez structure_id.")
        require_structure(self.trame, territory, structure_id)
        event = MembershipGranted(account_id=account_id, territory=territory, role=role, structure_id=structure_id)  # type: ignore[arg-type]
        self._command(account_id, lambda: [event], author=author, territory=territory)

    def issue_token(self, account_id: str, label: str = "", *, author: str) -> str:
        """A new API bearer token, returned once; only its digest is kept."""
        token = "trm_" + secrets.token_urlsafe(32)
        event = ApiTokenIssued(account_id=account_id, token_id=str(uuid4()), digest=digest(token), label=label)
        self._command(account_id, lambda: [event], author=author, territory="")
        return token

    def invite(
        self, territory: str, role: str, *, structure_id: str | None = None, email: str | None = None, author: str
    ) -> tuple[str, str]:
        """Issue a single-use invitation link valid two weeks; returns (invitation_id, token)."""
        if role not in ROLES:
            raise invalid(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.")
        if role == "referent" and not structure_id:
            raise invalid("Une invitation de référent·e doit désigner sa structure.")
        require_structure(self.trame, territory, structure_id)
        token = secrets.token_urlsafe(32)
        invitation_id = str(uuid4())
        expires = clock.instant(datetime.now(UTC) + timedelta(days=INVITATION_DAYS))
        event = InvitationIssued(
            invitation_id=invitation_id,
            digest=digest(token),
            territory=territory,
            role=role,  # type: ignore[arg-type]
            structure_id=structure_id,
            email=email,
            expires_at=expires,
        )
        stream = UUID(invitation_id)
        run(self.trame, Context(author=author, territory=territory), [stream], lambda _new: {stream: [event]})
        return invitation_id, token

    def accept_invitation(self, token: str, email: str, password: str) -> str:
        """Create (or reuse, after checking the password) the account and grant the invited role."""
        invitation = self.invitation_by_token(token)
        if invitation is None:
            raise invalid("Ce lien d'invitation n'est pas valable.")
        if invitation["accepted_by"]:
            raise invalid("Ce lien d'invitation a déjà été utilisé.")
        if invitation["expires_at"] < clock.now():
            raise invalid("Ce lien d'invitation a expiré : demandez-en un nouveau à la coordination.")
        existing = self.by_email(email)
        if existing is None:
            account_id = self.create(email, password, author="invitation")
        else:
            if self.authenticate(email, password) is None:
                raise invalid("Un compte existe déjà pour cette adresse : saisissez son mot de passe.")
            account_id = existing["account_id"]
        stream = UUID(invitation["invitation_id"])

        def decide(history: History) -> dict[UUID, list[Event]]:
            # Decided on the stream, not the read model: of two people racing on one link, one wins.
            if any(isinstance(r.event, InvitationAccepted) for r in history.of(stream)):
                raise invalid("Ce lien d'invitation a déjà été utilisé.")
            return {stream: [InvitationAccepted(invitation_id=invitation["invitation_id"], account_id=account_id)]}

        run(self.trame, Context(author=account_id, territory=invitation["territory"]), [stream], decide, busy=_BUSY)
        self.grant(account_id, invitation["territory"], invitation["role"], invitation["structure_id"], author=account_id)
        return account_id

    def erase(self, account_id: str, *, author: str) -> None:
        """GDPR erasure: the account can no longer sign in, its e-mail is unreadable everywhere,
        and the read model forgets its digest (the address may sign up again)."""
        self._command(account_id, lambda: [AccountErased(account_id=account_id)], author=author, territory="", erased_ok=True)
        self.trame.keys.shred(account_id)
        self.trame.db.scrub_free_space()

    def _command(self, account_id: str, events: Callable[[], list[Event]], *, author: str, territory: str, erased_ok: bool = False) -> None:
        """Append to an existing account's stream, decided on its history (again after a race).
        An erased account takes nothing more; erasing it again writes nothing."""
        try:
            stream = UUID(account_id)
        except ValueError:
            raise invalid("Ce compte n'existe pas.") from None

        def decide(history: History) -> dict[UUID, list[Event]]:
            if not history.exists(stream):
                raise invalid("Ce compte n'existe pas.")
            if any(isinstance(r.event, AccountErased) for r in history.of(stream)):
                if erased_ok:
                    return {}
                raise invalid("Ce compte a été effacé.")
            return {stream: events()}

        run(self.trame, Context(author=author, territory=territory), [stream], decide, busy=_BUSY)

    def _key(self, *, create: bool = False) -> bytes:
        """The digest key (:func:`lookup_key`), created only by a creation: empty when a store has
        none yet (then it has no account to find)."""
        if self._lookup_key is None:
            if create:
                with self.trame.db.write() as cur:
                    self._lookup_key = lookup_key(cur)
            else:
                with self.trame.db.read() as cur:
                    value = cur.scalar(_KEY_SQL, (LOOKUP_SUBJECT,))
                if value is None:
                    return b""
                self._lookup_key = base64.b64decode(value)
        return self._lookup_key

    def _account_with(self, wanted: str) -> dict[str, str] | None:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT account_id, email, password_hash, is_admin FROM accounts WHERE email_digest = ? ORDER BY created_at",
                (wanted,),
            ).fetchone()
        return None if row is None else dict(row)

    # -- queries ---------------------------------------------------------------------------
    def authenticate(self, email: str, password: str) -> str | None:
        account = self.by_email(email)
        if account is None or not account["password_hash"]:
            _hasher.hash(password)  # same cost whether or not the account exists
            return None
        try:
            _hasher.verify(account["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return str(account["account_id"])

    def by_email(self, email: str) -> dict[str, str] | None:
        """The account of this address, found by its digest; None for an erased one."""
        key = self._key()
        return self._account_with(email_digest(key, email)) if key else None

    def get(self, account_id: str) -> dict[str, object] | None:
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT account_id, email, display_name, is_admin FROM accounts WHERE account_id = ?", (account_id,)
            ).fetchone()
        return None if row is None else dict(row)

    def by_token(self, token: str) -> str | None:
        with self.trame.db.read() as cur:
            value = cur.scalar("SELECT account_id FROM api_tokens WHERE digest = ?", (digest(token),))
        return None if value is None else str(value)

    def invitation_by_token(self, token: str) -> dict[str, str] | None:
        with self.trame.db.read() as cur:
            row = cur.execute("SELECT * FROM invitations WHERE digest = ?", (digest(token),)).fetchone()
        return None if row is None else dict(row)

    def role_in(self, account_id: str, territory: str) -> tuple[str | None, str | None]:
        """(role, structure_id) of an account in a territory, or (None, None)."""
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT role, structure_id FROM memberships WHERE account_id = ? AND territory = ?", (account_id, territory)
            ).fetchone()
        return (None, None) if row is None else (row["role"], row["structure_id"])

    def territories_of(self, account_id: str) -> list[dict[str, str]]:
        with self.trame.db.read() as cur:
            rows = cur.execute(
                "SELECT m.territory AS slug, m.role, t.title FROM memberships m JOIN territories t ON t.slug = m.territory "
                "WHERE m.account_id = ? ORDER BY t.title",
                (account_id,),
            ).fetchall()
        return [dict(r) for r in rows]
