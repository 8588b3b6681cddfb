"""Accounts, roles per territory, invitations and API tokens.

Secrets never enter the log in clear: passwords as argon2id hashes and e-mails inside
personal fields (erasable with the account's key); invitation and API tokens only as
SHA-256 digests, so a leaked database gives no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.events import Event
from core.store import SYSTEM, Conflict, Context, Write
from core.structures import require_structure

if TYPE_CHECKING:
    from core.application import Trame

Role = Literal["coordinator", "referent", "member"]
ROLES: dict[str, str] = {"coordinator": "Coordinateur·rice", "referent": "Référent·e de structure", "member": "Membre"}
RANK = {"member": 1, "referent": 2, "coordinator": 3}
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]

_hasher = PasswordHasher()  # argon2id, OWASP-grade defaults
INVITATION_DAYS = 14


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


class AccountError(ValueError):
    """A refused account command; the message is for a person."""


def account_stream(email: str) -> UUID:
    """One stream per e-mail address, so that two accounts can never share one."""
    return uuid5(NAMESPACE_URL, f"trame:account:{email.strip().lower()}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < 10:
        raise AccountError("Le mot de passe doit faire au moins 10 caractères.")


class Accounts:
    def __init__(self, trame: Trame) -> None:
        self.trame = trame

    # -- commands --------------------------------------------------------------------------
    def create(self, email: str, password: str, *, admin: bool = False, display_name: str | None = None, author: str = SYSTEM) -> str:
        email = email.strip().lower()
        try:
            msgspec.convert(email, Email)
        except msgspec.ValidationError:
            raise AccountError(f"« {email} » n'est pas une adresse e-mail valide.") from None
        check_password(password)
        account_id = str(account_stream(email))
        events: list[Event] = [
            AccountCreated(account_id=account_id, email=email, display_name=display_name),
            PasswordSet(account_id=account_id, password_hash=_hasher.hash(password)),
        ]
        if admin:
            events.append(AdminGranted(account_id=account_id))
        try:
            self.trame.execute(Context(author=author, territory=""), Write(account_stream(email), 0, events))
        except Conflict:
            raise AccountError(f"Un compte existe déjà pour {email}.") from None
        return account_id

    def grant(self, account_id: str, territory: str, role: str, structure_id: str | None = None, *, author: str) -> None:
        if role not in ROLES:
            raise AccountError(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.")
        if role == "referent" and not structure_id:
            raise AccountError("Un·e référent·e est rattaché·e à une structure : indiquez structure_id.")
        require_structure(self.trame, territory, structure_id)
        event = MembershipGranted(account_id=account_id, territory=territory, role=role, structure_id=structure_id)  # type: ignore[arg-type]
        self._append_to_account(account_id, event, author=author, territory=territory)

    def issue_token(self, account_id: str, label: str = "", *, author: str) -> str:
        """A new API bearer token, returned once; only its digest is kept."""
        token = "trm_" + secrets.token_urlsafe(32)
        event = ApiTokenIssued(account_id=account_id, token_id=str(uuid4()), digest=digest(token), label=label)
        self._append_to_account(account_id, event, author=author, territory="")
        return token

    def invite(
        self, territory: str, role: str, *, structure_id: str | None = None, email: str | None = None, author: str
    ) -> tuple[str, str]:
        """Issue a single-use invitation link valid two weeks; returns (invitation_id, token)."""
        if role not in ROLES:
            raise AccountError(f"Rôle inconnu « {role} » : choisissez parmi {', '.join(ROLES)}.")
        if role == "referent" and not structure_id:
            raise AccountError("Une invitation de référent·e doit désigner sa structure.")
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
        self.trame.execute(Context(author=author, territory=territory), Write(UUID(invitation_id), 0, [event]))
        return invitation_id, token

    def accept_invitation(self, token: str, email: str, password: str) -> str:
        """Create (or reuse, after checking the password) the account and grant the invited role."""
        invitation = self.invitation_by_token(token)
        if invitation is None:
            raise AccountError("Ce lien d'invitation n'est pas valable.")
        if invitation["accepted_by"]:
            raise AccountError("Ce lien d'invitation a déjà été utilisé.")
        if invitation["expires_at"] < clock.now():
            raise AccountError("Ce lien d'invitation a expiré : demandez-en un nouveau à la coordination.")
        existing = self.by_email(email)
        if existing is None:
            account_id = self.create(email, password, author="invitation")
        else:
            if self.authenticate(email, password) is None:
                raise AccountError("Un compte existe déjà pour cette adresse : saisissez son mot de passe.")
            account_id = existing["account_id"]
        stream = UUID(invitation["invitation_id"])
        try:
            self.trame.execute(
                Context(author=account_id, territory=invitation["territory"]),
                Write(stream, 1, [InvitationAccepted(invitation_id=invitation["invitation_id"], account_id=account_id)]),
            )
        except Conflict:
            raise AccountError("Ce lien d'invitation a déjà été utilisé.") from None
        self.grant(account_id, invitation["territory"], invitation["role"], invitation["structure_id"], author=account_id)
        return account_id

    def erase(self, account_id: str, *, author: str) -> None:
        """GDPR erasure: the account can no longer sign in, and its e-mail is unreadable everywhere."""
        self._append_to_account(account_id, AccountErased(account_id=account_id), author=author, territory="")
        self.trame.keys.shred(account_id)
        self.trame.db.scrub_free_space()

    def _append_to_account(self, account_id: str, event: Event, *, author: str, territory: str) -> None:
        stream = UUID(account_id)
        for _ in range(3):  # these commands do not depend on the account's state: retry a race
            version = self.trame.store.version_of(stream)
            if version == 0:
                raise AccountError("Ce compte n'existe pas.")
            try:
                self.trame.execute(Context(author=author, territory=territory), Write(stream, version, [event]))
                return
            except Conflict:
                continue
        raise AccountError("Le compte est modifié en ce moment ; réessayez.")

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
        account_id = str(account_stream(email))
        with self.trame.db.read() as cur:
            row = cur.execute(
                "SELECT account_id, email, password_hash, is_admin FROM accounts WHERE account_id = ?", (account_id,)
            ).fetchone()
        return None if row is None else dict(row)

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
