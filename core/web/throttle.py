"""Login throttling after OWASP's authentication guidance: slow the guesser, never lock the owner out.

* Per (account, client): the first ``free`` failures cost nothing; each one after them doubles a
  wait (1 min, 2, 4, 8, then 15 at most) before that client may try that account again.
* Per client: a higher ceiling (``client_ceiling`` failures in 15 minutes, whatever the
  accounts), so that one machine cannot walk through the accounts, while the dozens of
  colleagues behind one office NAT who mistype now and then are never all blocked.
* Nothing per account alone: a correct password from a client that did not fail is never
  refused, so nobody can lock someone else out by failing on purpose.

Failures live in the ``login_failures`` table (operational state, shared by every worker),
keyed by SHA-256 digests: neither e-mails nor addresses are stored in clear.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import clock
from core.database import Database

WINDOW = timedelta(minutes=15)
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)

DDL = [
    "CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at)",
]


def _now() -> datetime:
    """The current time (a test moves it)."""
    return datetime.now(UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def pair_key(email: str, client: str) -> str:
    return f"pair:{email.strip().lower()}|{client}"


def client_key(client: str) -> str:
    return f"ip:{client}"


@dataclass(frozen=True)
class Verdict:
    """Whether this attempt may be checked now; if not, why (in French) and for how long."""

    allowed: bool
    retry_after: int = 0  # seconds
    message: str = ""


def _minutes(seconds: int) -> str:
    n = max(1, math.ceil(seconds / 60))
    return "une minute" if n == 1 else f"{n} minutes"


class LoginThrottle:
    def __init__(self, db: Database, *, free: int = 5, client_ceiling: int = 100) -> None:
        self.db = db
        self.free = free
        self.client_ceiling = client_ceiling
        with db.write() as cur:
            for stmt in DDL:
                cur.execute(stmt)

    def wait_for(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures of one client on one account (none for the first ``free``)."""
        if failures < self.free:
            return timedelta(0)
        wait: timedelta = FIRST_WAIT * 2 ** (failures - self.free)
        return min(wait, LONGEST_WAIT)

    def check(self, email: str, client: str) -> Verdict:
        now = _now()
        since = clock.instant(now - WINDOW)
        pair, per_client = _digest(pair_key(email, client)), _digest(client_key(client))
        with self.db.read() as cur:
            client_failures = cur.scalar("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", (per_client, since)) or 0
            row = cur.execute(
                "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE key = ? AND at > ?", (pair, since)
            ).fetchone()
        if client_failures >= self.client_ceiling:
            oldest = self._oldest(per_client, since)
            wait = int(((oldest + WINDOW) - now).total_seconds()) + 1 if oldest else int(WINDOW.total_seconds())
            return Verdict(
                False,
                wait,
                "Trop de tentatives de connexion échouées depuis votre réseau. "
                f"Réessayez dans {_minutes(wait)} ; si vous avez oublié votre mot de passe, demandez-en un nouveau à la coordination.",
            )
        assert row is not None  # an aggregate always has its row
        failures, last = int(row["n"] or 0), row["last"]
        wait_needed = self.wait_for(failures)
        if wait_needed and last:
            ready = clock.to_datetime(str(last)) + wait_needed
            if ready > now:
                wait = int((ready - now).total_seconds()) + 1
                return Verdict(
                    False,
                    wait,
                    f"Trop de tentatives de connexion échouées pour ce compte depuis cet appareil. Patientez {_minutes(wait)} "
                    "avant de réessayer (le délai double à chaque nouvel échec).",
                )
        return Verdict(True)

    def _oldest(self, key: str, since: str) -> datetime | None:
        with self.db.read() as cur:
            value = cur.scalar("SELECT MIN(at) FROM login_failures WHERE key = ? AND at > ?", (key, since))
        return clock.to_datetime(str(value)) if value else None

    def failed(self, email: str, client: str) -> None:
        now = _now()
        at = clock.instant(now)
        with self.db.write() as cur:
            cur.execute("DELETE FROM login_failures WHERE at < ?", (clock.instant(now - timedelta(days=1)),))
            cur.executemany(
                "INSERT INTO login_failures (key, at) VALUES (?, ?)",
                [(_digest(pair_key(email, client)), at), (_digest(client_key(client)), at)],
            )

    def succeeded(self, email: str, client: str) -> None:
        """The owner got in: this client's failures on this account are forgiven (not the client's ceiling)."""
        with self.db.write() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = ?", (_digest(pair_key(email, client)),))
