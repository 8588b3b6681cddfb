"""Configuration, read once from ``TRAME_*`` environment variables."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path


def _default_database() -> str:
    return f"sqlite:///{Path('var/trame.db').absolute()}"


def _kept_secret(database_url: str) -> str:
    """A key generated once and kept beside an SQLite store (or in ``var/``), readable by its
    owner only: forms and sessions signed before a restart stay valid after it."""
    folder = Path(database_url[len("sqlite:///") :]).parent if database_url.startswith("sqlite:///") else Path("var")
    path = folder / "secret_key"
    for _ in range(50):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker is writing it
                continue
            key = secrets.token_hex(32)
            with os.fdopen(fd, "w") as out:
                out.write(key + "\n")
            return key
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it or set TRAME_SECRET_KEY")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database)
    #: Signs CSRF tokens. ``from_env`` keeps a generated one beside the store unless TRAME_SECRET_KEY is set.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    #: Set when served over TLS: cookies become ``__Host-`` and Secure.
    secure_cookies: bool = False
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "trame@localhost"
    #: Public base URL, for links sent by e-mail.
    base_url: str = "http://127.0.0.1:8000"
    #: Log in failures of one client on one account before each further one doubles a wait
    #: (1 minute, then 2, 4, 8, 15 at most; core/web/throttle.py).
    login_attempts: int = 5
    #: Failures allowed to one client (all accounts together) in 15 minutes: high, for offices behind one NAT.
    login_client_ceiling: int = 100
    #: Run projections after every write (read-your-writes); followers do it otherwise.
    project_inline: bool = True
    #: Events applied per projection transaction.
    projection_batch: int = 2000

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {}
        if "TRAME_DATABASE_URL" in env:
            values["database_url"] = env["TRAME_DATABASE_URL"]
        if "TRAME_SECRET_KEY" in env:
            values["secret_key"] = env["TRAME_SECRET_KEY"]
        else:
            values["secret_key"] = _kept_secret(str(values.get("database_url") or _default_database()))
        if "TRAME_SECURE_COOKIES" in env:
            values["secure_cookies"] = env["TRAME_SECURE_COOKIES"].lower() in ("1", "true", "yes")
        if "TRAME_SMTP_HOST" in env:
            values["smtp_host"] = env["TRAME_SMTP_HOST"]
        if "TRAME_SMTP_PORT" in env:
            values["smtp_port"] = int(env["TRAME_SMTP_PORT"])
        if "TRAME_MAIL_FROM" in env:
            values["mail_from"] = env["TRAME_MAIL_FROM"]
        if "TRAME_BASE_URL" in env:
            values["base_url"] = env["TRAME_BASE_URL"].rstrip("/")
        if "TRAME_PROJECT_INLINE" in env:
            values["project_inline"] = env["TRAME_PROJECT_INLINE"].lower() not in ("0", "false", "no")
        if "TRAME_PROJECTION_BATCH" in env:
            values["projection_batch"] = int(env["TRAME_PROJECTION_BATCH"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
