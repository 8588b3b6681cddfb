"""Accounts, memberships, API token digests and invitations.

``accounts.email_digest`` is the keyed digest of the account's e-mail (``core.accounts.email_digest``),
computed here from the decrypted e-mail: sign-in finds an account by it without decrypting
anything, and an erased account (its e-mail now unreadable) has none, on a rebuild too.
"""

from __future__ import annotations

from core.accounts import (
    AccountCreated,
    AccountErased,
    AdminGranted,
    ApiTokenIssued,
    InvitationAccepted,
    InvitationIssued,
    MembershipGranted,
    MembershipRevoked,
    PasswordSet,
    email_digest,
    lookup_key,
)
from core.database import Cursor
from core.events import Recorded
from core.projection import Projection


class AccountsProjection(Projection):
    name = "accounts"
    version = 2  # 2: email_digest, the sign-in lookup of random account ids
    topics = tuple(
        e.name
        for e in (
            AccountCreated,
            PasswordSet,
            AdminGranted,
            MembershipGranted,
            MembershipRevoked,
            ApiTokenIssued,
            InvitationIssued,
            InvitationAccepted,
            AccountErased,
        )
    )
    tables = ("accounts", "memberships", "api_tokens", "invitations")

    def schema(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY, email TEXT, email_digest TEXT, display_name TEXT, "
            "password_hash TEXT, is_admin INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS accounts_email_digest ON accounts (email_digest)",
            "CREATE TABLE IF NOT EXISTS memberships (account_id TEXT NOT NULL, territory TEXT NOT NULL, role TEXT NOT NULL, "
            "structure_id TEXT, granted_at TEXT NOT NULL, PRIMARY KEY (account_id, territory))",
            "CREATE INDEX IF NOT EXISTS memberships_territory ON memberships (territory, role)",
            "CREATE TABLE IF NOT EXISTS api_tokens (token_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, "
            "label TEXT NOT NULL, issued_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS invitations (invitation_id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, territory TEXT NOT NULL, "
            "role TEXT NOT NULL, structure_id TEXT, email TEXT, expires_at TEXT NOT NULL, issued_by TEXT NOT NULL, "
            "issued_at TEXT NOT NULL, accepted_by TEXT)",
        ]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, AccountCreated):
            found = None if e.email is None else email_digest(lookup_key(cur), e.email)
            cur.execute(
                "INSERT INTO accounts (account_id, email, email_digest, display_name, created_at) VALUES (?, ?, ?, ?, ?)",
                (e.account_id, e.email, found, e.display_name, rec.recorded_at),
            )
        elif isinstance(e, PasswordSet):
            cur.execute("UPDATE accounts SET password_hash = ? WHERE account_id = ?", (e.password_hash, e.account_id))
        elif isinstance(e, AdminGranted):
            cur.execute("UPDATE accounts SET is_admin = 1 WHERE account_id = ?", (e.account_id,))
        elif isinstance(e, MembershipGranted):
            cur.execute(
                "INSERT INTO memberships (account_id, territory, role, structure_id, granted_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, territory) DO UPDATE SET role = excluded.role, structure_id = excluded.structure_id, "
                "granted_at = excluded.granted_at",
                (e.account_id, e.territory, e.role, e.structure_id, rec.recorded_at),
            )
        elif isinstance(e, MembershipRevoked):
            cur.execute("DELETE FROM memberships WHERE account_id = ? AND territory = ?", (e.account_id, e.territory))
        elif isinstance(e, ApiTokenIssued):
            cur.execute(
                "INSERT INTO api_tokens (token_id, account_id, digest, label, issued_at) VALUES (?, ?, ?, ?, ?)",
                (e.token_id, e.account_id, e.digest, e.label, rec.recorded_at),
            )
        elif isinstance(e, InvitationIssued):
            cur.execute(
                "INSERT INTO invitations (invitation_id, digest, territory, role, structure_id, email, expires_at, issued_by, issued_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (e.invitation_id, e.digest, e.territory, e.role, e.structure_id, e.email, e.expires_at, rec.author, rec.recorded_at),
            )
        elif isinstance(e, AccountErased):
            cur.execute(
                "UPDATE accounts SET email = NULL, email_digest = NULL, display_name = NULL, password_hash = NULL WHERE account_id = ?",
                (e.account_id,),
            )
            cur.execute("DELETE FROM memberships WHERE account_id = ?", (e.account_id,))
            cur.execute("DELETE FROM api_tokens WHERE account_id = ?", (e.account_id,))
            cur.execute("UPDATE invitations SET email = NULL WHERE accepted_by = ?", (e.account_id,))
        elif isinstance(e, InvitationAccepted):
            cur.execute("UPDATE invitations SET accepted_by = ? WHERE invitation_id = ?", (e.account_id, e.invitation_id))
